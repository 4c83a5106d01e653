// vc report <name> [--md | --json] [--as-of TIME]
import { defineCommand } from 'citty';
import { UsageError } from '../errors.ts';
import { log } from '../log.ts';
import { envelope } from '../render.ts';
import { REPORTS, reportContext, runReportQueries } from '../report.ts';
import { asOfArg, checkArgs, configArg, loadCliConfig, open, outputFormat, parseAsOf, print, printJson, storeIsEmpty } from './common.ts';
import { collectLocal } from './collect.ts';

export default defineCommand({
  meta: { name: 'report', description: `Run a report: ${Object.keys(REPORTS).join(', ')}` },
  args: {
    name: { type: 'positional', description: `one of: ${Object.keys(REPORTS).join(', ')}`, required: true },
    md: { type: 'boolean', description: 'Markdown for people and agents (default)' },
    json: { type: 'boolean', description: 'the robot envelope: schema_version, generated_at, data, staleness, warnings' },
    ...asOfArg,
    ...configArg,
  },
  async run(ctx) {
    checkArgs(ctx, 1);
    const name = String(ctx.args.name);
    const load = REPORTS[name];
    if (!load) throw new UsageError(`unknown report "${name}"; reports: ${Object.keys(REPORTS).join(', ')}`);
    const format = outputFormat(ctx.args);
    const asOf = parseAsOf(ctx.args['as-of']);
    const loaded = loadCliConfig(ctx.args);
    const warnings: string[] = [];
    if (!asOf && storeIsEmpty(loaded.dataDir)) {
      await log.info(`no data in ${loaded.dataDir} yet: collecting this machine first (vc collect)`);
      const outcomes = await collectLocal(loaded);
      warnings.push(`no data was stored yet, so vc collected the local machine first (${outcomes.filter((o) => o.status === 'ok').length} of ${outcomes.length} collectors ok)`);
    }
    const [{ default: report }, session] = await Promise.all([load(), open(loaded, { now: asOf })]);
    try {
      const data = await runReportQueries(name, session);
      const rctx = await reportContext(session, asOf ?? new Date(), warnings);
      if (format === 'json') printJson(envelope(name, data, rctx.staleness, rctx.warnings));
      else print(report.render(data, rctx));
    } finally {
      session.close();
    }
  },
});
