// Mail: what mcp_agent_mail's agents leave waiting: urgent messages unread, acknowledgements
// overdue, file reservations that are stale or about to expire, and the recent traffic per project.
import type { ReportDef } from '../lib/report.ts';
import { mdFooter, mdHeader } from '../lib/report.ts';
import type { Row } from '../lib/duck.ts';
import { humanAge, mdTable } from '../lib/render.ts';
import { COLLECTOR_NAMES, type SourceName } from '../lib/catalog.ts';

const rows = (v: unknown) => (v as Row[] | null) ?? [];
const count = (v: unknown) => (v === null || v === undefined ? '?' : String(v));
const ago = (s: unknown) => (typeof s === 'number' ? `${humanAge(s)} ago` : '');

const report: ReportDef = {
  name: 'mail',
  description: 'mcp_agent_mail: urgent messages unread, acknowledgements overdue, stale or expiring file reservations, recent traffic per project',
  // Every window but the agent logs' (which hold much and matter not here): staleness reads them all.
  recent: [...COLLECTOR_NAMES.filter((s) => !s.endsWith('-logs')), 'collector_runs'] as SourceName[],
  render(data, ctx) {
    let out = mdHeader('mail', ctx);
    const stores = rows(data.stores);
    if (!stores.length) {
      out += 'No mcp_agent_mail store has been read. The agent-mail collector reads the stores listed in [collectors.agent-mail] stores.\n';
      return out + mdFooter(ctx, humanAge);
    }
    out += mdTable(stores.map((s) => ({
      machine: s.machine_id, store: s.store, layout: s.layout, 'read': ago(typeof s.collected_at === 'string' ? (ctx.at.getTime() - Date.parse(s.collected_at)) / 1000 : null),
      'agents (live)': `${count(s.agents_total)} (${count(s.agents_live)})`, 'urgent unread': count(s.urgent_unread_total),
      'acks pending': count(s.ack_pending_total), 'active reservations': count(s.reservations_active_total),
      missing: (s.missing_columns as string[] | null)?.join(', ') ?? '',
    })));
    const factors = rows(data.factors);
    out += `\n## Needs attention\n\n${factors.length
      ? factors.map((f) => `- **${f.severity ?? 'info'}** ${f.title}: ${f.summary}\n`).join('')
      : 'Nothing: no urgent message unread, no acknowledgement overdue, no stale reservation.\n'}`;
    const urgent = rows(data.urgent_unread);
    if (urgent.length) {
      out += `\n## Urgent unread\n\n${mdTable(urgent.map((u) => ({
        machine: u.machine_id, project: u.project_slug, to: u.agent_name, from: u.sender_name, subject: u.subject,
        importance: u.importance, age: humanAge(u.age_s),
      })))}`;
    }
    const overdue = rows(data.ack_overdue);
    if (overdue.length) {
      out += `\n## Acknowledgements overdue\n\n${mdTable(overdue.map((o) => ({
        machine: o.machine_id, project: o.project_slug, from: o.sender_name, 'owed by': o.agent_name, subject: o.subject,
        read: o.read_at === null ? 'no' : 'yes', overdue: humanAge(o.overdue_s),
      })))}`;
    }
    const held = rows(data.reservations);
    if (held.length) {
      out += `\n## File reservations not released\n\n${mdTable(held.map((r) => ({
        machine: r.machine_id, project: r.project_slug, path: r.path_pattern, holder: r.agent_name, holder_state: r.holder_state,
        state: r.state + (r.stale ? ' (stale)' : r.expiring_soon ? ' (expiring)' : ''),
        expires: Number(r.expires_in_s) >= 0 ? `in ${humanAge(r.expires_in_s)}` : `${humanAge(-Number(r.expires_in_s))} ago`,
        exclusive: r.exclusive ? 'yes' : 'no',
      })))}`;
    }
    const activity = rows(data.activity);
    out += `\n## Traffic in the recent window\n\n${activity.length ? mdTable(activity.map((a) => ({
      machine: a.machine_id, project: a.project_slug ?? '', messages: a.messages, urgent: a.urgent, 'ack required': a.ack_required,
      reads: a.reads, acks: a.acks, 'median to ack': a.median_ack_s === null ? '' : humanAge(a.median_ack_s),
    }))) : 'No messages in the recent window.\n'}`;
    return out + mdFooter(ctx, humanAge);
  },
};
export default report;
