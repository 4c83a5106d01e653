// vc query "<sql>" [--format json|md|csv|table] [--as-of TIME] [--timeout SECONDS]
import fs from 'node:fs';
import { defineCommand } from 'citty';
import { log } from '../log.ts';
import { UsageError } from '../errors.ts';
import { assertReadOnly, needsRecentWindow } from '../guard.ts';
import { csv, envelope, mdTable, terminalTable } from '../render.ts';
import { reportContext } from '../report.ts';
import { asOfArg, checkArgs, configArg, loadCliConfig, open, parseAsOf, print, printJson } from './common.ts';

const FORMATS = ['json', 'md', 'csv', 'table'] as const;

export default defineCommand({
  meta: { name: 'query', description: 'Run one read-only SQL query over the sources and views (see: vc views)' },
  args: {
    sql: { type: 'positional', description: 'the SELECT to run, quoted; "-" reads it from stdin', required: true },
    format: { type: 'enum', options: [...FORMATS], description: 'json (envelope), md (default), csv or table', default: 'md' },
    timeout: { type: 'string', description: 'give up after this many seconds (default 60)', valueHint: 'SECONDS' },
    ...asOfArg,
    ...configArg,
  },
  async run(ctx) {
    checkArgs(ctx, 1);
    const sql = ctx.args.sql === '-' ? fs.readFileSync(0, 'utf8') : String(ctx.args.sql);
    const timeoutS = ctx.args.timeout === undefined ? 60 : Number(ctx.args.timeout);
    if (!Number.isFinite(timeoutS) || timeoutS <= 0) throw new UsageError(`--timeout must be a positive number of seconds, not "${ctx.args.timeout}"`);
    const asOf = parseAsOf(ctx.args['as-of']);
    // The JSON envelope's staleness comes from the recent window too.
    const loadRecent = ctx.args.format === 'json' || await needsRecentWindow(sql);
    const session = await open(loadCliConfig(ctx.args), { now: asOf, recent: loadRecent ? undefined : [] });
    try {
      await assertReadOnly(session, sql);
      const timer = setTimeout(() => session.interrupt(), timeoutS * 1000);
      let result;
      try {
        result = await session.queryWithColumns(sql);
      } catch (err) {
        const msg = (err as Error).message;
        throw new Error(/interrupt/i.test(msg) ? `the query ran longer than ${timeoutS}s and was stopped` : msg);
      } finally {
        clearTimeout(timer);
      }
      const names = result.columns.map((c) => c.name);
      // Outside the JSON envelope, problems met while opening go to stderr, away from the data.
      if (ctx.args.format !== 'json') for (const w of session.warnings) await log.warn(w);
      switch (ctx.args.format) {
        case 'json': {
          const rctx = await reportContext(session, asOf ?? new Date(), []);
          printJson(envelope('query', { columns: result.columns, rows: result.rows }, rctx.staleness, rctx.warnings));
          break;
        }
        case 'csv': print(csv(result.rows, names)); break;
        case 'table': print(await terminalTable(result.rows, names)); break;
        default: print(`${mdTable(result.rows, names)}\n${result.rows.length} rows\n`);
      }
    } finally {
      session.close();
    }
  },
});
