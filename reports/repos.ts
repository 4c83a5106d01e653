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
    const repos = ((data.repos as Row[]) ?? []).map((r) => {
      // No git state: a repository ru lists but has no status of, or one that is not cloned or not git.
      const noGit = r.state === null || r.state === 'missing' || r.state === 'not_git';
      return {
        machine: r.machine_id, repo: r.name, state: r.state ?? '', branch: r.branch ?? (r.detached ? '(detached)' : ''),
        // Where ru's reading is the fresher one there are no counts, only dirty or not.
        changes: noGit ? '' : r.state_from === 'repos' ? `${num(r.dirty_files)} changed, ${num(r.untracked_files)} untracked`
          : r.dirty ? 'dirty' : 'clean',
        'ahead/behind': noGit ? '' : (r.state_from === 'ru' ? r.ru_status === 'no_upstream' : r.upstream === null) ? 'no upstream'
          : `+${num(r.ahead)} -${num(r.behind)}`,
        stash: r.stash_count ?? '', 'last commit': r.last_commit_age_s === null ? '' : `${humanAge(r.last_commit_age_s)} ago`,
        subject: r.error ?? r.last_commit_subject ?? '', path: r.path,
        seen: (r.seen_by as string[]).join('+') + (r.mismatch ? ' (origin differs from ru)' : ''),
      };
    });
    let out = mdHeader('repos', ctx);
    out += mdTable((data.machines as Row[]) ?? [], ['machine_id', 'repos', 'dirty', 'ahead', 'behind', 'conflicted', 'errors', 'missing', 'mismatched']);
    out += `\n${repos.length ? mdTable(repos) : 'No repositories found yet.\n'}`;
    return out + mdFooter(ctx, humanAge);
  },
};
export default report;
