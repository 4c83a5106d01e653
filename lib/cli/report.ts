// vc report <name> [--md | --json] [--as-of TIME] [--since T --until T --by KEY --machine ID (usage; events: no --by)]
import { defineCommand } from 'citty';
import { UsageError } from '../errors.ts';
import { succeeded } from '../status.ts';
import { log } from '../log.ts';
import { envelope } from '../render.ts';
import { MACHINE_ID } from '../config.ts';
import { REPORTS, reportContext, runReportQueries, type ReportDef, type ReportOptions } from '../report.ts';
import { asOfArg, checkArgs, configArg, loadCliConfig, open, outputFormat, parseAsOf, print, printJson, storeIsEmpty } from './common.ts';

export default defineCommand({
  meta: { name: 'report', description: `Run a report: ${Object.keys(REPORTS).join(', ')}` },
  args: {
    name: { type: 'positional', description: `one of: ${Object.keys(REPORTS).join(', ')}`, required: true },
    md: { type: 'boolean', description: 'Markdown for people and agents (default)' },
    json: { type: 'boolean', description: 'the robot envelope: schema_version, generated_at, data, staleness, warnings' },
    since: { type: 'string', description: 'usage, events: from this day or time (YYYY-MM-DD or ISO 8601, UTC)', valueHint: 'TIME' },
    until: { type: 'string', description: 'usage, events: up to this day (inclusive) or time', valueHint: 'TIME' },
    by: { type: 'string', description: 'usage: group by day, week, month, machine, project, model or session', valueHint: 'KEY' },
    machine: { type: 'string', description: 'usage, events: only this machine', valueHint: 'ID' },
    ...asOfArg,
    ...configArg,
  },
  async run(ctx) {
    checkArgs(ctx, 1);
    await runReport(String(ctx.args.name), ctx.args);
  },
});

/** Runs report `name` with the command line's arguments (vc report, vc diff). */
export async function runReport(name: string, args: Record<string, unknown>): Promise<void> {
  const load = REPORTS[name];
  if (!load) throw new UsageError(`unknown report "${name}"; reports: ${Object.keys(REPORTS).join(', ')}`);
  const format = outputFormat(args);
  // Options are checked before anything is collected or opened.
  const { default: report } = await load();
  const options = reportOptions(report, args);
  const asOf = parseAsOf(args['as-of']);
  const loaded = loadCliConfig(args);
  const warnings: string[] = [];
  if (!asOf && storeIsEmpty(loaded.dataDir)) {
    await log.info(`no data in ${loaded.dataDir} yet: collecting this machine first (vc collect)`);
    // Imported here: the collection code (zx and the runner) costs a report nothing otherwise.
    const { collectLocal } = await import('./collect.ts');
    const outcomes = await collectLocal(loaded);
    warnings.push(`no data was stored yet, so vc collected the local machine first (${outcomes.filter((o) => succeeded(o.status)).length} of ${outcomes.length} collectors ok)`);
  }
  const session = await open(loaded, { now: asOf, recent: report.recent, history: report.history });
  try {
    const data = await runReportQueries(name, session, options);
    const rctx = await reportContext(session, asOf ?? new Date(), warnings);
    if (format === 'json') printJson(envelope(name, data, rctx.staleness, rctx.warnings));
    else print(report.render(data, { ...rctx, options }));
  } finally {
    session.close();
  }
}

/** A day (YYYY-MM-DD: its start, or with `endOfDay` the start of the next) or an ISO time. */
function parseTime(flag: string, value: string, endOfDay: boolean): Date {
  if (/^\d{4}-\d{2}-\d{2}$/.test(value)) {
    const t = Date.parse(`${value}T00:00:00Z`);
    if (Number.isFinite(t)) return new Date(t + (endOfDay ? 86400_000 : 0));
  } else if (/^\d{4}-\d{2}-\d{2}T/.test(value) && Number.isFinite(Date.parse(value))) {
    return new Date(Date.parse(value));
  }
  throw new UsageError(`--${flag} "${value}" is neither a day (2026-11-24) nor an ISO 8601 time (2026-11-24T03:00:00Z)`);
}

/** The report's own options, validated; an option the report does not take is bad usage. */
function reportOptions(report: ReportDef, args: Record<string, unknown>): ReportOptions {
  const given = (['since', 'until', 'by', 'machine'] as const).filter((k) => args[k] !== undefined);
  for (const k of given) {
    if (!report.options?.includes(k)) throw new UsageError(`vc report ${report.name} takes no --${k}`);
  }
  const options: ReportOptions = {};
  if (args.since !== undefined) options.since = parseTime('since', String(args.since), false);
  if (args.until !== undefined) options.until = parseTime('until', String(args.until), true);
  if (options.since && options.until && options.since >= options.until) throw new UsageError('--since must be before --until');
  if (report.byValues) {
    const by = args.by === undefined ? report.byValues[0]! : String(args.by);
    if (!report.byValues.includes(by)) throw new UsageError(`--by "${by}" is not one of: ${report.byValues.join(', ')}`);
    options.by = by;
  }
  if (args.machine !== undefined) {
    const id = String(args.machine);
    if (!MACHINE_ID.test(id)) throw new UsageError(`--machine "${id}" is not a machine id`);
    options.machine = id;
  }
  return options;
}
