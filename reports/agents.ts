// Agents: coding agents and tmux sessions per machine; idle, stopped and vanished agents first.
import type { ReportDef } from '../lib/report.ts';
import { mdFooter, mdHeader } from '../lib/report.ts';
import type { Row } from '../lib/duck.ts';
import { humanAge, humanBytes, mdTable } from '../lib/render.ts';

const report: ReportDef = {
  name: 'agents',
  description: 'Coding agents and tmux sessions per machine: status, idle time, CPU, memory, pane and cwd',
  render(data, ctx) {
    const agents = ((data.agents as Row[]) ?? []).map((a) => ({
      machine: a.machine_id, agent: a.agent, pid: a.pid, status: a.status,
      idle: a.idle_s === null ? '' : humanAge(a.idle_s), cpu: a.recent_cpu_pct === null ? '' : `${a.recent_cpu_pct}%`,
      mem: humanBytes(a.rss_bytes), age: humanAge(a.age_s),
      pane: a.session === null ? '' : `${a.session}:${a.window_index}.${a.pane_index}`, cwd: a.cwd ?? '',
    }));
    const dead = ((data.dead_panes as Row[]) ?? []).map((p) => ({
      machine: p.machine_id, pane: `${p.session}:${p.window_index}.${p.pane_index}`, 'last agent': p.last_agent ?? '',
      now: p.pane_command ?? '', path: p.pane_path ?? '',
    }));
    let out = mdHeader('agents', ctx);
    out += mdTable((data.machines as Row[]) ?? [], ['machine_id', 'tmux_sessions', 'agents', 'active', 'idle', 'stopped', 'dead_panes']);
    out += `\n## Agents\n\n${agents.length ? mdTable(agents) : 'No coding agent is running.\n'}`;
    if (dead.length) out += `\n## Panes whose agent exited\n\n${mdTable(dead)}`;
    out += `\n## tmux sessions\n\n${((data.sessions as Row[]) ?? []).length
      ? mdTable(data.sessions as Row[], ['machine_id', 'session', 'session_windows', 'session_attached', 'panes', 'agents', 'idle_agents', 'dead_panes'])
      : 'No tmux sessions.\n'}`;
    return out + mdFooter(ctx, humanAge);
  },
};
export default report;
