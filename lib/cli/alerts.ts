// vc alerts list [--state open|acked|resolved|active|all] [--machine ID] [--md|--json] [--as-of TIME]
// vc alerts ack ID [--note TEXT] [--json]
// vc alerts rules [--md|--json]
// vc alerts evaluate [--due] [--json]: apply the rules to the data now, append the transitions, deliver them
import { defineCommand } from 'citty';
import type { Row } from '../duck.ts';
import { ackAlert, ALERT_RULES_SQL, ALERT_STATES, ALERTS_LIST_SQL, evaluateAlerts, evaluationDue, type EvaluateResult } from '../alerts.ts';
import { UsageError } from '../errors.ts';
import { MACHINE_ID } from '../config.ts';
import { reportContext, mdFooter, mdHeader } from '../report.ts';
import { envelope, humanAge, mdCode, mdTable } from '../render.ts';
import { asOfArg, checkArgs, formatArgs, configArg, loadCliConfig, open, outputFormat, parseAsOf, print, printJson } from './common.ts';

const STATES = ALERT_STATES;

const ageOf = (at: unknown, now: Date) => (at ? `${humanAge((now.getTime() - Date.parse(String(at))) / 1000)} ago` : '');

function renderList(alerts: Row[], state: string, now: Date): string {
  if (alerts.length === 0) return `No ${state === 'all' ? '' : `${state} `}alerts.\n`;
  let out = mdTable(alerts.map((a) => ({
    id: a.alert_id, state: a.state, severity: a.severity, machine: a.machine_id, alert: a.title,
    opened: ageOf(a.opened_at, now), 'last seen': ageOf(a.last_seen_at, now),
    ...(state === 'resolved' || state === 'all' ? { resolved: ageOf(a.resolved_at, now) } : {}),
  })));
  const active = alerts.filter((a) => a.state !== 'resolved');
  for (const a of active) {
    const next = Array.isArray(a.next) ? a.next.map((c) => mdCode(String(c))).join(' · ') : '';
    out += `\n- **${String(a.alert_id)}** ${String(a.summary ?? '')}${a.ack_note ? ` (acked: ${String(a.ack_note)})` : ''}`
      + `${next ? `\n  next: ${next}` : ''}${a.fix ? `\n  fix on the machine: ${mdCode(String(a.fix))}` : ''}`;
  }
  return `${out}${active.length ? '\n' : ''}`;
}

const list = defineCommand({
  meta: { name: 'list', description: 'The alerts, most severe first: open and acked ones by default' },
  args: {
    state: { type: 'string', description: `${STATES.join(', ')} (default active: open and acked)`, valueHint: 'STATE' },
    machine: { type: 'string', description: 'only this machine', valueHint: 'ID' },
    ...formatArgs, ...asOfArg, ...configArg,
  },
  async run(ctx) {
    checkArgs(ctx);
    const state = ctx.args.state === undefined ? 'active' : String(ctx.args.state);
    if (!(STATES as readonly string[]).includes(state)) throw new UsageError(`--state "${state}" is not one of: ${STATES.join(', ')}`);
    const machine = ctx.args.machine === undefined ? null : String(ctx.args.machine);
    if (machine !== null && !MACHINE_ID.test(machine)) throw new UsageError(`--machine "${machine}" is not a machine id`);
    const format = outputFormat(ctx.args);
    const asOf = parseAsOf(ctx.args['as-of']);
    const loaded = loadCliConfig(ctx.args);
    // Every recent window: the staleness the envelope carries reads them all.
    const session = await open(loaded, { now: asOf });
    try {
      const alerts = await session.query(ALERTS_LIST_SQL, [state, machine]);
      const rctx = await reportContext(session, asOf ?? new Date(), []);
      if (format === 'json') printJson(envelope('alerts', { state, alerts }, rctx.staleness, rctx.warnings));
      else print(mdHeader('alerts', rctx) + renderList(alerts, state, rctx.at) + mdFooter(rctx, humanAge));
    } finally {
      session.close();
    }
  },
});

const ack = defineCommand({
  meta: { name: 'ack', description: 'Acknowledge an open alert: it stays acked until it resolves; if it comes back later it opens again' },
  args: {
    id: { type: 'positional', description: 'the alert id (vc alerts list)', required: true },
    note: { type: 'string', description: 'why, for whoever reads the alert next', valueHint: 'TEXT' },
    json: { type: 'boolean', description: 'print the ack transition as JSON' },
    ...configArg,
  },
  async run(ctx) {
    checkArgs(ctx, 1);
    const loaded = loadCliConfig(ctx.args);
    const t = await ackAlert(loaded, open, String(ctx.args.id), ctx.args.note === undefined ? null : String(ctx.args.note));
    if (ctx.args.json) printJson(t);
    else print(`acked ${t.alert_id}: ${t.title ?? t.rule_id}`);
  },
});

const rules = defineCommand({
  meta: { name: 'rules', description: 'The alert rules: the health factor each watches, from which severity, its cooldown' },
  args: { ...formatArgs, ...configArg },
  async run(ctx) {
    checkArgs(ctx);
    const format = outputFormat(ctx.args);
    const loaded = loadCliConfig(ctx.args);
    const session = await open(loaded, { recent: [] });
    try {
      const rows = await session.query(ALERT_RULES_SQL);
      if (format === 'json') printJson(envelope('alert_rules', { rules: rows }, {}, []));
      else print(mdTable(rows.map((r) => ({
        rule: r.rule_id, factor: r.factor_id, from: r.min_severity,
        threshold: r[r.min_severity === 'crit' ? 'crit' : 'warn'] === null ? '' : `${String(r[r.min_severity === 'crit' ? 'crit' : 'warn'])} ${String(r.unit ?? '')}`.trim(),
        cooldown: `${String(r.cooldown_minutes)} min`, means: r.description,
      }))));
    } finally {
      session.close();
    }
  },
});

const evaluate = defineCommand({
  meta: { name: 'evaluate', description: 'Apply the rules to the data now: open, update, resolve and reopen alerts, then deliver them to the webhook' },
  args: {
    due: { type: 'boolean', description: 'only if the last evaluation is [alerts] evaluate_every_seconds old (for cron)' },
    json: { type: 'boolean', description: 'print the transitions and deliveries as JSON' },
    ...configArg,
  },
  async run(ctx) {
    checkArgs(ctx);
    const loaded = loadCliConfig(ctx.args);
    if (ctx.args.due && !evaluationDue(loaded)) return;
    const r = await evaluateAlerts(loaded, open);
    if (ctx.args.json) {
      printJson(r);
      return;
    }
    print(evaluationSummary(r));
  },
});

/** What an evaluation did, in a few lines. */
export function evaluationSummary(r: EvaluateResult): string {
  const counts = ['open', 'reopen', 'update', 'resolve'].map((k) => `${r.transitions.filter((t) => t.transition === k).length} ${k}`);
  const d = r.deliveries;
  return [`alerts: ${counts.join(', ')}${d.attempted || d.left ? `; webhook: ${d.delivered} delivered, ${d.failed} failed, ${d.left} left for later` : ''}`,
    ...r.transitions.filter((x) => x.transition !== 'update').map((t) => `  ${t.transition} ${t.alert_id} ${t.title ?? t.rule_id}`)].join('\n');
}

export default defineCommand({
  meta: { name: 'alerts', description: 'Alerts: list, ack, rules, evaluate' },
  subCommands: { list, ack, rules, evaluate },
});
