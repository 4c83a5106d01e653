// Machines: one line per machine (health, load, memory, disk, repos, agents) and data freshness.
import type { ReportDef } from '../lib/report.ts';
import { mdFooter, mdHeader } from '../lib/report.ts';
import type { Row } from '../lib/duck.ts';
import { humanAge, humanBytes, mdTable } from '../lib/render.ts';

const pctText = (v: unknown) => (typeof v === 'number' ? `${v}%` : '');

const report: ReportDef = {
  name: 'machines',
  description: 'Every machine: health, load, memory, fullest disk, repos, agents, and how fresh each source is',
  render(data, ctx) {
    const machines = ((data.machines as Row[]) ?? []).map((m) => ({
      machine: m.machine_id,
      health: m.severity === null ? '' : `${m.severity} ${m.score}`,
      seen: (m.last_ok_age_s === null ? 'never' : `${humanAge(m.last_ok_age_s)} ago`)
        + (m.reachability === 'unreachable' ? ` (unreachable: ${m.unreachable_reason})` : ''),
      load: m.load5 === null ? '' : `${m.load1}/${m.load5}/${m.load15} on ${m.cpu_count}`,
      cpu: m.cpu_util === null ? '' : pctText(Math.round(Number(m.cpu_util) * 100)),
      'mem free': m.mem_total_bytes === null ? '' : `${humanBytes(m.mem_available_bytes)} of ${humanBytes(m.mem_total_bytes)}`,
      swap: m.swap_total_bytes ? `${humanBytes(m.swap_used_bytes)} of ${humanBytes(m.swap_total_bytes)}` : (m.swap_total_bytes === 0 ? 'none' : ''),
      disk: m.worst_mount === null ? '' : `${m.worst_mount} ${pctText(m.worst_used_pct)}`,
      repos: m.repos === null ? '' : `${m.repos} (${m.dirty_repos} dirty)`,
      agents: m.agents === null ? '' : `${m.agents} (${m.idle_agents} idle)`,
      up: humanAge(m.uptime_s),
      'worst factor': m.worst_summary ?? '',
    }));
    const stale = ((data.freshness as Row[]) ?? []).map((f) => ({
      machine: f.machine_id, source: f.source,
      'last ok': f.age_s === null ? 'never' : `${humanAge(f.age_s)} ago`,
      every: humanAge(f.interval_s), status: f.last_status ?? '', runs: f.runs_recent, failed: f.failures_recent,
      error: f.last_error ?? '',
    }));
    let out = mdHeader('machines', ctx);
    out += machines.length ? mdTable(machines) : 'No machines yet: run `vc collect`.\n';
    out += `\n## Sources\n\n${stale.length ? mdTable(stale) : 'No collector has run yet.\n'}`;
    return out + mdFooter(ctx, humanAge);
  },
};
export default report;
