// Accounts: the agents' provider accounts on each machine (caut and caam merged), how full each
// usage window is and when it hits its limit at the current pace, and which caam profile to
// switch to. caam commands are shown for the user to run, never run by vc.
import type { ReportDef } from '../lib/report.ts';
import { mdFooter, mdHeader } from '../lib/report.ts';
import type { Row } from '../lib/duck.ts';
import { humanAge, mdCode, mdTable, sanitize } from '../lib/render.ts';

const time = (v: unknown) => (typeof v === 'string' ? `${v.slice(0, 16).replace('T', ' ')} UTC` : '');
const percent = (v: unknown) => (typeof v === 'number' ? `${Math.round(v * 10) / 10}%` : '');
const rows = (v: unknown) => (Array.isArray(v) ? (v as Row[]) : []);

/** When a window runs out: now, in how long, "resets first", or nothing known. */
const toLimit = (w: Row) => (w.time_to_limit_s === null || w.time_to_limit_s === undefined
  ? (w.resets_first ? 'resets first' : '')
  : Number(w.time_to_limit_s) === 0 ? 'at limit' : `in ${humanAge(w.time_to_limit_s)}`);

const report: ReportDef = {
  name: 'accounts',
  description: 'Provider accounts per machine (caut and caam merged): usage windows, time to limit, caam profiles and which one to switch to',
  // Its views read caut and caam; the others only through last_ok_runs and staleness.
  recent: ['sys', 'repos', 'agents', 'tools', 'collector_runs', 'caut', 'caam'],
  render(data, ctx) {
    let out = mdHeader('accounts', ctx);
    const accounts = rows(data.accounts);
    if (!accounts.length) {
      out += 'No account data yet: the caut and caam collectors read it on machines where those tools are installed.\n';
      return out + mdFooter(ctx, humanAge);
    }
    const alerts = rows(data.alerts);
    if (alerts.length) {
      out += `## Near a limit\n\n${mdTable(alerts.map((a) => ({
        severity: a.severity, machine: a.machine_id, window: a.subject, used: percent(a.used_percent), why: a.summary,
        fix: a.fix ? mdCode(String(a.fix)) : '',
      })))}\n`;
    }
    out += `## Accounts\n\n${mdTable(accounts.map((a) => ({
      machine: a.machine_id, provider: a.provider, account: a.account, profile: a.profile ?? '', 'in use': a.in_use ? 'yes' : '',
      headroom: percent(a.headroom_percent), fullest: a.worst_window === null ? '' : `${a.worst_window} ${percent(a.worst_used_percent)}`,
      'to limit': a.time_to_limit_s === null ? '' : `${a.limit_window} ${Number(a.time_to_limit_s) === 0 ? 'at limit' : `in ${humanAge(a.time_to_limit_s)}`}`,
      status: [a.caam_error, a.auth_warning, a.health_status && a.health_status !== 'healthy' ? `${a.health_status}${a.health_reason ? ` (${a.health_reason})` : ''}` : null,
        a.cooldown_until && Date.parse(`${String(a.cooldown_until)}`) > ctx.at.getTime() ? `cooldown until ${time(a.cooldown_until)}` : null]
        .filter(Boolean).join('; '),
      seen: (a.seen_by as string[]).join('+'),
    })))}`;
    const windows = rows(data.windows).filter((w) => w.in_use);
    if (windows.length) {
      out += `\n## Windows of the accounts in use\n\n${mdTable(windows.map((w) => ({
        machine: w.machine_id, account: `${w.provider} ${w.account}`, window: w.window_label,
        used: w.is_reset ? `${percent(w.used_percent)} (reset since)` : percent(w.used_percent),
        by: `${w.measured_by} ${time(w.measured_at).slice(11)}`, resets: time(w.resets_at),
        pace: w.percent_per_hour === null ? '' : `${w.percent_per_hour}%/h`, 'to limit': toLimit(w),
      })))}`;
    }
    const recs = rows(data.recommendations);
    if (recs.length) {
      out += `\n## caam profiles to use\n\nDerived from caam limits (caam has no recommend command): the profile with the most headroom, and the one caam limits --best would name.\n\n${mdTable(recs.map((r) => ({
        machine: r.machine_id, provider: r.provider, 'in use': r.current_profile ?? '', load: percent(r.current_load_percent),
        urgency: r.urgency, 'most headroom': r.best_profile === null ? '' : `${r.best_profile} (${percent(r.best_headroom_percent)})`,
        'caam --best': r.caam_best_profile ?? '', switch: r.switch && r.command ? mdCode(String(r.command)) : '',
      })))}`;
    }
    const notes = rows(data.notes);
    if (notes.length) {
      out += '\n## What caam says\n\n';
      for (const n of notes) {
        const said = [...(n.warnings as string[]), ...(n.recommendations as string[])];
        for (const s of said) out += `- ${n.machine_id}: ${sanitize(s).replace(/\s+/g, ' ')}\n`;
      }
    }
    return out + mdFooter(ctx, humanAge);
  },
};
export default report;
