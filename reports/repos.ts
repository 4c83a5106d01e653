// Repos: every git repository per machine, the ones needing attention first.
import type { ReportDef } from '../lib/report.ts';
import { mdFooter, mdHeader } from '../lib/report.ts';
import type { Row } from '../lib/duck.ts';
import { humanAge, mdTable } from '../lib/render.ts';

const num = (v: unknown) => (v === null || v === undefined ? '?' : String(v));

const report: ReportDef = {
  name: 'repos',
  description: 'Git repositories per machine: state, branch, dirty and untracked files, ahead/behind, stash, last commit',
  render(data, ctx) {
    const repos = ((data.repos as Row[]) ?? []).map((r) => ({
      machine: r.machine_id, repo: r.name, state: r.state, branch: r.branch ?? '(detached)',
      changes: `${num(r.dirty_files)} changed, ${num(r.untracked_files)} untracked`,
      'ahead/behind': r.upstream === null ? 'no upstream' : `+${num(r.ahead)} -${num(r.behind)}`,
      stash: r.stash_count ?? '', 'last commit': r.last_commit_age_s === null ? '' : `${humanAge(r.last_commit_age_s)} ago`,
      subject: r.error ?? r.last_commit_subject ?? '', path: r.path,
    }));
    let out = mdHeader('repos', ctx);
    out += mdTable((data.machines as Row[]) ?? [], ['machine_id', 'repos', 'dirty', 'ahead', 'behind', 'conflicted', 'errors']);
    out += `\n${repos.length ? mdTable(repos) : 'No repositories found yet.\n'}`;
    return out + mdFooter(ctx, humanAge);
  },
};
export default report;
