// Beads: ready work and blocked issues in the beads trackers of every machine's repositories,
// ready work that no agent is on first, with bv's picks and the br/bv commands that failed.
import type { ReportDef } from '../lib/report.ts';
import { mdFooter, mdHeader } from '../lib/report.ts';
import type { Row } from '../lib/duck.ts';
import { humanAge, mdTable } from '../lib/render.ts';

/** Markdown shows the first rows of a long list; the JSON has them all (up to the query's limit). */
const MD_ROWS = 20;

const n = (v: unknown) => (v === null || v === undefined ? '?' : String(v));
const prio = (v: unknown) => (typeof v === 'number' ? `P${v}` : '?');
const rows = (v: unknown) => (v as Row[] | undefined) ?? [];
const more = (all: Row[]) => (all.length > MD_ROWS ? `\n…and ${all.length - MD_ROWS} more (--json has them).\n` : '');

const report: ReportDef = {
  name: 'beads',
  description: 'beads issue trackers per repository: ready work (and whether an agent is on it), blocked issues, bv\'s picks, failed br/bv commands',
  // Its views read the beads and agents windows; the rest only for last_ok_runs and staleness.
  recent: ['sys', 'repos', 'agents', 'tools', 'caut', 'beads', 'collector_runs'],
  render(data, ctx) {
    let out = mdHeader('beads', ctx);
    const machines = rows(data.machines);
    if (!machines.length) {
      out += 'No beads data yet. The beads collector runs br and bv in the repositories (under the repos collector\'s roots) that have a .beads/ directory, on machines where br or bv is installed.\n';
      return out + mdFooter(ctx, humanAge);
    }
    out += mdTable(machines.map((m) => ({
      machine: m.machine_id, tools: [m.br_installed ? 'br' : '', m.bv_installed ? 'bv' : ''].filter(Boolean).join(', '),
      repos: m.repos_found === m.repos_checked ? n(m.repos_checked) : `${n(m.repos_checked)} of ${n(m.repos_found)}`,
      ready: n(m.ready), 'ready P0/P1': n(m.ready_high), blocked: n(m.blocked), 'in progress': n(m.in_progress),
      'idle repos with ready work': n(m.idle_repos_with_ready), 'failed commands': n(m.errors),
    })));

    const repos = rows(data.repos);
    out += `\n## Repositories\n\n${repos.length ? mdTable(repos.map((r) => ({
      machine: r.machine_id, repo: r.name, ready: `${n(r.ready)}${r.counted_by === 'bv' ? ' (bv)' : ''}`, 'P0/P1': r.ready_high ?? '',
      blocked: n(r.blocked), 'in progress': n(r.in_progress),
      agents: r.agents === null ? '?' : (r.agents as number) > 0 ? `${r.agents} (${(r.agent_names as string[]).join(', ')})` : 'none',
      'bv top pick': r.top_id === null ? '' : `${r.top_id} ${r.top_title ?? ''}`.trim(),
      problems: [Number(r.cycles) > 0 ? `${r.cycles} cycles` : '', Number(r.errors) > 0 ? `failed: ${(r.failed_steps as string[]).join(', ')}` : '',
        Number(r.load_errors) > 0 ? `bv dropped ${r.load_errors} records` : ''].filter(Boolean).join('; '),
      path: r.repo,
    }))) : 'No repository with a .beads/ directory was found.\n'}`;

    const ready = rows(data.ready);
    if (ready.length) {
      out += `\n## Ready issues\n\n${mdTable(ready.slice(0, MD_ROWS).map((i) => ({
        machine: i.machine_id, repo: i.name, id: i.id, priority: prio(i.priority), type: i.issue_type, title: i.title ?? '',
        unblocks: i.dependent_count ?? '', agents: i.agents === null ? '?' : i.agents, updated: i.age_s === null ? '' : `${humanAge(i.age_s)} ago`,
      })))}${more(ready)}`;
    }
    const blocked = rows(data.blocked);
    if (blocked.length) {
      out += `\n## Blocked issues\n\n${mdTable(blocked.slice(0, MD_ROWS).map((i) => ({
        machine: i.machine_id, repo: i.name, id: i.id, priority: prio(i.priority), status: i.status, title: i.title ?? '',
        'waits on': i.dependency_count ?? '', 'holds up': i.dependent_count ?? '',
      })))}${more(blocked)}`;
    }
    const picks = rows(data.picks);
    if (picks.length) {
      out += `\n## bv's picks\n\n${mdTable(picks.map((p) => ({
        machine: p.machine_id, repo: p.name, pick: `${p.kind === 'top_pick' ? 'top pick' : 'recommended'} ${p.rank}`, id: p.id,
        title: p.title ?? '', score: typeof p.score === 'number' ? p.score.toFixed(2) : '', why: p.reason ?? p.action ?? '',
      })))}`;
    }
    const errors = rows(data.errors);
    if (errors.length) {
      out += `\n## Failed commands\n\n${mdTable(errors.map((e) => ({
        machine: e.machine_id, repo: e.name, command: e.step, exit: n(e.exit_code), kind: e.error_kind, code: e.error_code ?? '', message: e.message ?? '',
      })))}`;
    }
    return out + mdFooter(ctx, humanAge);
  },
};
export default report;
