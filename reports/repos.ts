// Repos: every git repository per machine (vc's repos collector and ru merged), the ones needing
// attention first.
import type { ReportDef } from '../lib/report.ts';
import { mdFooter, mdHeader } from '../lib/report.ts';
import type { Row } from '../lib/duck.ts';
import { humanAge, mdTable } from '../lib/render.ts';

const num = (v: unknown) => (v === null || v === undefined ? '?' : String(v));

const report: ReportDef = {
  name: 'repos',
  description: 'Git repositories per machine (vc\'s scan and ru merged): state, branch, dirty and untracked files, ahead/behind, stash, last commit, ru\'s origin mismatch',
  render(data, ctx) {
    const repos = ((data.repos as Row[]) ?? []).map((r) => ({
      machine: r.machine_id, repo: r.name, state: r.state, branch: r.branch ?? (r.detached ? '(detached)' : ''),
      // Repositories only ru knows have no counts, only dirty or not.
      changes: r.dirty_files !== null ? `${num(r.dirty_files)} changed, ${num(r.untracked_files)} untracked`
        : r.dirty === null ? '' : r.dirty ? 'dirty' : 'clean',
      'ahead/behind': (r.state_from === 'ru' ? r.ru_status === 'no_upstream' : r.upstream === null) ? 'no upstream' : `+${num(r.ahead)} -${num(r.behind)}`,
      stash: r.stash_count ?? '', 'last commit': r.last_commit_age_s === null ? '' : `${humanAge(r.last_commit_age_s)} ago`,
      subject: r.error ?? r.last_commit_subject ?? '', path: r.path,
      seen: (r.seen_by as string[]).join('+') + (r.mismatch ? ' (origin differs from ru)' : ''),
    }));
    let out = mdHeader('repos', ctx);
    out += mdTable((data.machines as Row[]) ?? [], ['machine_id', 'repos', 'dirty', 'ahead', 'behind', 'conflicted', 'errors', 'missing', 'mismatched']);
    out += `\n${repos.length ? mdTable(repos) : 'No repositories found yet.\n'}`;
    return out + mdFooter(ctx, humanAge);
  },
};
export default report;
