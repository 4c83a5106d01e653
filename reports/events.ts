// Events: what dcg denied (by machine, rule and hour; critical rules new to a machine; the latest
// denies) and where the agents connected (hosts new to a machine and not known, spikes, top hosts).
import type { ReportDef } from '../lib/report.ts';
import { mdFooter, mdHeader } from '../lib/report.ts';
import type { Row } from '../lib/duck.ts';
import { humanAge, mdTable } from '../lib/render.ts';

const time = (v: unknown) => (typeof v === 'string' ? `${v.slice(0, 16).replace('T', ' ')} UTC` : '');
const list = (v: unknown) => (Array.isArray(v) ? v.filter((x) => x !== null).join(', ') : '');
const rows = (v: unknown) => (Array.isArray(v) ? (v as Row[]) : []);

function dcgSection(data: Record<string, unknown>): string {
  const t = (data.dcg_totals as Row | null) ?? {};
  if (!Number(t.commands)) return '## dcg\n\nNo dcg events in this span. The dcg collector reads its pending_exceptions.jsonl (every deny) and, where dcg\'s history is on, its history.\n';
  let out = `## dcg\n\n**${t.denies} denied** (${t.critical_denies} critical), ${t.warns} warned, ${t.allowed_rule_hits} rule hits allowed,`
    + ` ${t.commands} commands judged on ${t.machines} machines, ${time(t.first_at)} to ${time(t.last_at)}.\n`;
  out += `\n${mdTable(rows(data.dcg_machines).map((m) => ({
    machine: m.machine_id, denies: m.denies, critical: m.critical_denies, warns: m.warns, 'allowed hits': m.allowed_rule_hits,
    commands: m.has_history ? m.commands : 'denies only (no history)', 'last deny': time(m.last_deny_at),
  })))}`;
  const fresh = rows(data.dcg_new_critical);
  if (fresh.length) {
    out += `\n### Critical rules new to a machine\n\n${mdTable(fresh.map((r) => ({
      machine: r.machine_id, rule: r.rule_id, hits: r.hits, denied: r.denies, allowed: r.allowed, 'first hit': time(r.first_seen_at), where: list(r.cwds),
    })))}`;
  }
  out += `\n### Top rules\n\n${mdTable(rows(data.dcg_top_rules).map((r) => ({
    rule: r.rule_id, severity: r.severity ?? '?', denies: r.denies, warns: r.warns, allowed: r.allowed, machines: r.machines, last: time(r.last_at),
  })))}`;
  const denies = rows(data.dcg_recent_denies);
  if (denies.length) {
    out += `\n### Latest denies\n\n${mdTable(denies.map((d) => ({
      at: time(d.ts), machine: d.machine_id, rule: d.rule_id ?? '', severity: d.severity ?? '', cwd: d.cwd ?? '',
      code: d.short_code ?? '', consumed: d.consumed_at ? time(d.consumed_at) : '', command: typeof d.command_hash === 'string' ? d.command_hash.slice(0, 12) : '',
    })))}`;
  }
  return out;
}

function networkSection(data: Record<string, unknown>): string {
  const t = (data.network_totals as Row | null) ?? {};
  if (!Number(t.connects) && !Number(t.closes)) return '\n## Network\n\nNo rano events in this span. The rano collector reads rano\'s store where [collectors.rano] store names it.\n';
  let out = `\n## Network\n\n**${t.connects} connections** to ${t.hosts} hosts on ${t.machines} machines`
    + ` (${t.unknown_hosts} new and unknown, ${t.alerts} alerts), ${time(t.first_at)} to ${time(t.last_at)}.\n`;
  const unknown = rows(data.network_unknown);
  out += `\n### New hosts not on the known list\n\n${unknown.length ? mdTable(unknown.map((h) => ({
    machine: h.machine_id, host: h.host, connects: h.connects, by: list(h.processes), providers: list(h.providers),
    ips: list(h.remote_ips), ports: list(h.remote_ports), 'first seen': time(h.first_seen_at), alerts: h.alerts,
  }))) : 'None.\n'}`;
  const spikes = rows(data.network_spikes);
  if (spikes.length) {
    out += `\n### Last hour against the usual hour\n\n${mdTable(spikes.map((s) => ({
      machine: s.machine_id, provider: s.provider, 'last hour': s.last_hour_connects, usual: s.typical_hour_connects, ratio: `${s.ratio}x`, hosts: s.last_hour_hosts,
    })))}`;
  }
  out += `\n### Top hosts\n\n${mdTable(rows(data.network_top_hosts).map((h) => ({
    host: h.host, connects: h.connects, machines: h.machines, providers: list(h.providers), known: h.known ? 'yes' : '', resolved: h.resolved ? 'yes' : 'no (IP)',
  })))}`;
  return out;
}

const report: ReportDef = {
  name: 'events',
  description: 'dcg denies (per machine, rule and hour; critical rules new to a machine) and agents\' connections (new unknown hosts, spikes, top hosts) over a span',
  options: ['since', 'until', 'machine'],
  // Its events come from the full-history views; the recent window for the spikes (rano) and staleness.
  recent: ['sys', 'repos', 'agents', 'tools', 'caut', 'collector_runs', 'rano'],
  render(data, ctx) {
    const span = (data.span as Row | null) ?? {};
    let out = mdHeader('events', ctx);
    out += `${time(span.since)} to ${time(span.until)}${span.machine ? `, machine ${span.machine}` : ''}.\n\n`;
    out += dcgSection(data);
    out += networkSection(data);
    return out + mdFooter(ctx, humanAge);
  },
};
export default report;
