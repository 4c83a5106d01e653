// Usage: tokens and cost of Claude Code, Codex and Gemini across the fleet, grouped by --by, with
// the 5-hour window each machine and agent is in now and Codex's own rate limits beside it.
import type { ReportDef } from '../lib/report.ts';
import { mdFooter, mdHeader } from '../lib/report.ts';
import type { Row } from '../lib/duck.ts';
import { humanAge, mdTable } from '../lib/render.ts';

/** 1234567 -> 1.23M: token counts are read at a glance, the JSON keeps them exact. */
export function humanTokens(v: unknown): string {
  if (typeof v !== 'number' || !Number.isFinite(v)) return '';
  const units: Array<[number, string]> = [[1e9, 'B'], [1e6, 'M'], [1e3, 'k']];
  for (const [size, unit] of units) if (Math.abs(v) >= size) return `${(v / size).toFixed(2)}${unit}`;
  return String(Math.round(v));
}

/** Dollars, or "?" where part of it has no price. */
const usd = (cost: unknown, unpriced: unknown) => {
  const known = typeof cost === 'number' ? `$${cost.toFixed(2)}` : '';
  return Number(unpriced) > 0 ? `${known || '$0.00'} + ?` : known || '$0.00';
};

const time = (v: unknown) => (typeof v === 'string' ? `${v.slice(0, 16).replace('T', ' ')} UTC` : '');

const report: ReportDef = {
  name: 'usage',
  description: 'Agent tokens and cost by day, week, month, machine, project, model or session; current 5-hour windows and burn rate',
  options: ['since', 'until', 'by', 'machine'],
  byValues: ['day', 'week', 'month', 'machine', 'project', 'model', 'session'],
  // All history, from the full-history views; the recent window only for staleness. Not the logs'
  // windows: after a first collection they hold the whole history, parsed for nothing.
  recent: ['sys', 'repos', 'agents', 'tools', 'collector_runs'],
  render(data, ctx) {
    const totals = (data.totals as Row | null) ?? {};
    const by = ctx.options.by ?? 'day';
    const span = [ctx.options.since ? `since ${time(ctx.options.since.toISOString())}` : '',
      ctx.options.until ? `until ${time(ctx.options.until.toISOString())}` : '',
      ctx.options.machine ? `machine ${ctx.options.machine}` : ''].filter(Boolean).join(', ');
    let out = mdHeader('usage', ctx);
    if (!Number(totals.entries)) {
      out += `No agent usage recorded${span ? ` (${span})` : ''}. The claude-logs, codex-logs and gemini-logs collectors read it from the agents' logs.\n`;
      return out + mdFooter(ctx, humanAge);
    }
    out += `**${humanTokens(totals.tokens)} tokens, ${usd(totals.cost_usd, totals.unpriced_tokens)}** in ${totals.entries} responses`
      + ` from ${time(totals.first_entry_at)} to ${time(totals.last_entry_at)}${span ? ` (${span})` : ''}.\n`;

    const windows = ((data.windows as Row[]) ?? []).map((w) => ({
      machine: w.machine_id, agent: w.agent, window: `${time(w.window_start).slice(11, 16)}-${time(w.window_end).slice(11)}`,
      tokens: humanTokens(w.tokens), cost: usd(w.cost_usd, 0), 'per hour': humanTokens(w.tokens_per_hour),
      projected: humanTokens(w.projected_tokens),
      'largest (30 d)': w.max_window_tokens === null ? '' : humanTokens(w.max_window_tokens),
      left: `${humanAge(Number(w.minutes_left) * 60)}`,
      server: w.server_used_percent === null ? '' : `${w.server_used_percent}% used, resets ${time(w.server_resets_at).slice(11)}`,
    }));
    if (windows.length) out += `\n## Current 5-hour windows\n\n${mdTable(windows)}`;

    const rows = ((data.rows as Row[]) ?? []).map((r) => ({
      [by]: r.key, agents: (r.agents as string[]).join(', '), input: humanTokens(r.input_tokens), output: humanTokens(r.output_tokens),
      'cache write': humanTokens(r.cache_creation_tokens), 'cache read': humanTokens(r.cache_read_tokens),
      total: humanTokens(r.tokens), cost: usd(r.cost_usd, r.unpriced_tokens),
      ...(by === 'model' ? {} : { models: (r.models as Array<string | null>).filter(Boolean).join(', ') }),
    }));
    out += `\n## By ${by}\n\n${mdTable(rows)}`;

    const unpriced = (data.unpriced as Row[]) ?? [];
    if (unpriced.length) {
      out += `\n## Models without a price\n\nTheir tokens are counted, their cost is unknown (shown as "?"; \`vc pricing update --from FILE\` loads newer prices).\n\n`;
      out += mdTable(unpriced.map((u) => ({ agent: u.agent, model: u.model ?? '(none)', responses: u.entries, tokens: humanTokens(u.tokens) })));
    }
    return out + mdFooter(ctx, humanAge);
  },
};
export default report;
