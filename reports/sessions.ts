// Sessions: what ntm runs (tmux sessions, agents and their states, what was done with them) and
// what cass archived (index health and age, conversations by agent and workspace, sessions per
// hour), per machine; problems first.
import type { ReportDef } from '../lib/report.ts';
import { mdFooter, mdHeader } from '../lib/report.ts';
import type { Row } from '../lib/duck.ts';
import { SOURCES } from '../lib/catalog.ts';
import { humanAge, mdTable } from '../lib/render.ts';

const rows = (v: unknown) => (v as Row[] | undefined) ?? [];
const known = (v: unknown) => (v === null || v === undefined ? '?' : String(v));
const age = (s: unknown) => (typeof s === 'number' ? humanAge(s) : '?');
const hour = (v: unknown) => (typeof v === 'string' ? `${v.slice(5, 13).replace('T', ' ')}h` : '');

const report: ReportDef = {
  name: 'sessions',
  description: 'Agent sessions per machine: ntm sessions and agents by state (in error, stuck), ntm activity, cass index health and age, conversations by agent and workspace, sessions per hour',
  // Not the agents' logs' windows: nothing here reads them.
  recent: SOURCES.filter((s) => !s.endsWith('-logs')),
  render(data, ctx) {
    const machines = rows(data.machines);
    let out = mdHeader('sessions', ctx);
    if (!machines.length) {
      out += 'No ntm or cass data yet: the ntm and cass collectors read them where those tools are installed.\n';
      return out + mdFooter(ctx, humanAge);
    }
    const problems = rows(data.problems).map((p) => ({ severity: p.severity, problem: p.title, why: p.summary, fix: p.fix ?? '' }));
    out += problems.length ? `## Needs attention\n\n${mdTable(problems)}\n` : 'Nothing needs attention.\n\n';

    const ntm = machines.filter((m) => m.ntm_collected_at !== null).map((m) => ({
      machine: m.machine_id, ntm: m.ntm_error ? `${known(m.ntm_status)} (${m.ntm_error})` : known(m.ntm_status),
      sessions: known(m.ntm_sessions), agents: known(m.agents), active: known(m.agents_active), busy: known(m.agents_busy),
      idle: known(m.agents_idle), error: known(m.agents_error), stuck: known(m.agents_stuck), prompts: known(m.prompts_recent),
    }));
    if (ntm.length) out += `## ntm\n\n${mdTable(ntm)}`;
    const sessions = rows(data.sessions).map((s) => ({
      machine: s.machine_id, session: s.session, attached: s.attached ? 'yes' : '', agents: s.agent_count ?? '',
      health: s.health_reason ? `${s.health_status}: ${s.health_reason}` : s.health_status ?? '',
    }));
    if (sessions.length) out += `\n${mdTable(sessions)}`;
    const attention = rows(data.agents).filter((a) => a.in_error || a.stuck).map((a) => ({
      machine: a.machine_id, pane: `${a.session}:${a.pane}`, agent: a.agent_type ?? '', state: a.state ?? '',
      'no output for': age(a.last_output_age_s), context: a.context_percent === null ? '' : `${a.context_percent}%`,
    }));
    if (attention.length) out += `\n### Agents in error or stuck\n\n${mdTable(attention)}`;
    const activity = rows(data.activity).map((a) => ({
      machine: a.machine_id, event: a.event_type, events: a.events, sessions: a.sessions, 'est. tokens': a.estimated_tokens ?? '',
    }));
    if (activity.length) out += `\n### ntm activity, last 24 h\n\n${mdTable(activity)}`;

    const cass = machines.filter((m) => m.cass_collected_at !== null).map((m) => ({
      machine: m.machine_id, cass: `${known(m.cass_status)}${m.cass_version ? ` (${m.cass_version})` : ''}`,
      index: known(m.index_status), 'index age': m.index_age_h === null ? '?' : `${m.index_age_h} h`,
      conversations: known(m.conversations), messages: known(m.messages), 'sessions 24 h': known(m.cass_sessions_24h),
      failed: (m.cass_failed_commands as Row[] | null ?? []).map((f) => `${f.step}: ${f.error_kind}`).join(', '),
    }));
    if (cass.length) out += `\n## cass\n\n${mdTable(cass)}`;
    const agents = rows(data.cass_agents).map((a) => ({ machine: a.machine_id, agent: a.agent, conversations: a.conversations, share: `${known(a.pct_of_conversations)}%` }));
    if (agents.length) out += `\n### Conversations by agent\n\n${mdTable(agents)}`;
    const workspaces = rows(data.cass_workspaces).map((w) => ({ machine: w.machine_id, workspace: w.workspace, conversations: w.conversations }));
    if (workspaces.length) out += `\n### Top workspaces\n\n${mdTable(workspaces)}`;
    const hourly = rows(data.hourly).map((h) => ({
      machine: h.machine_id, hour: hour(h.hour), 'ntm prompts': h.ntm_prompts ?? '', 'cass sessions': h.cass_sessions ?? '', 'cass messages': h.cass_messages ?? '',
    }));
    if (hourly.length) out += `\n### Per hour (UTC), last 24 h\n\n${mdTable(hourly)}`;
    return out + mdFooter(ctx, humanAge);
  },
};
export default report;
