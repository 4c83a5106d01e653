// vc robot-docs schemas [--name N]: a JSON Schema for every --json envelope (lib/schemas.ts).
// vc robot-docs examples [--name N]: each envelope as the data here fills it now, lists cut to 2 rows.
import { defineCommand } from 'citty';
import { UsageError } from '../errors.ts';
import { allSchemas } from '../schemas.ts';
import { ALERT_RULES_SQL, ALERTS_LIST_SQL } from '../alerts.ts';
import { incidentDetail, INCIDENTS_LIST_SQL } from '../incidents.ts';
import { readWatchItems, watchEvents } from '../watch.ts';
import { REPORTS, reportContext, runReportQueries } from '../report.ts';
import { envelope } from '../render.ts';
import { checkArgs, configArg, loadCliConfig, open, printJson } from './common.ts';

const nameArg = { name: { type: 'string', description: 'only this envelope (e.g. triage, alerts)', valueHint: 'NAME' } } as const;

function pick<T>(all: Record<string, T>, name: unknown): Record<string, T> {
  if (name === undefined) return all;
  const n = String(name);
  if (!(n in all)) throw new UsageError(`no envelope "${n}"; envelopes: ${Object.keys(all).join(', ')}`);
  return { [n]: all[n]! };
}

/** Lists cut to their first `n` items, everywhere: an example shows the shape, not the whole fleet. */
function trimmed(v: unknown, n = 2): unknown {
  if (Array.isArray(v)) return v.slice(0, n).map((x) => trimmed(x, n));
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, trimmed(x, n)]));
  return v;
}

const schemas = defineCommand({
  meta: { name: 'schemas', description: 'A JSON Schema (2020-12) for every --json envelope, derived from the SQL that fills it' },
  args: { ...nameArg, ...configArg },
  async run(ctx) {
    checkArgs(ctx);
    const loaded = loadCliConfig(ctx.args);
    const session = await open(loaded, { recent: [] });
    try {
      printJson({ schema_version: 'vc.robot-docs.v1', schemas: pick(await allSchemas(session), ctx.args.name) });
    } finally {
      session.close();
    }
  },
});

const examples = defineCommand({
  meta: { name: 'examples', description: 'Every --json envelope (and vc watch\'s records) as the data here fills it now (lists cut to 2 items), with the command that prints it' },
  args: { ...nameArg, ...configArg },
  async run(ctx) {
    checkArgs(ctx);
    const loaded = loadCliConfig(ctx.args);
    const names = Object.keys(pick({ ...REPORTS, alerts: null, alert_rules: null, incidents: null, incident: null, watch: null }, ctx.args.name));
    const out: Record<string, { command: string; output: unknown }> = {};
    const session = await open(loaded);
    try {
      const rctx = await reportContext(session, new Date(), []);
      for (const name of names) {
        if (name === 'alerts') {
          const alerts = await session.query(ALERTS_LIST_SQL, ['active', null]);
          out[name] = { command: 'vc alerts list --json', output: trimmed(envelope('alerts', { state: 'active', alerts }, rctx.staleness, rctx.warnings)) };
        } else if (name === 'alert_rules') {
          out[name] = { command: 'vc alerts rules --json', output: trimmed(envelope('alert_rules', { rules: await session.query(ALERT_RULES_SQL) }, {}, [])) };
        } else if (name === 'incidents') {
          const incidents = await session.query(INCIDENTS_LIST_SQL, ['all']);
          out[name] = { command: 'vc incident list --json', output: trimmed(envelope('incidents', { state: 'all', incidents }, rctx.staleness, rctx.warnings)) };
        } else if (name === 'incident') {
          // The newest incident, where there is one.
          const [newest] = await session.query(INCIDENTS_LIST_SQL, ['all']);
          if (newest) {
            const id = String(newest.incident_id);
            out[name] = { command: `vc incident show ${id} --json`, output: trimmed(envelope('incident', await incidentDetail(loaded, open, id), {}, [])) };
          }
        } else if (name === 'watch') {
          // The first read's records (the records themselves, not an envelope), cut to two.
          const { events } = watchEvents(null, await readWatchItems(session), new Date().toISOString(), false);
          out[name] = { command: 'vc watch --format jsonl --count 1', output: trimmed(events) };
        } else {
          const data = await runReportQueries(name, session);
          out[name] = { command: `vc report ${name} --json`, output: trimmed(envelope(name, data, rctx.staleness, rctx.warnings)) };
        }
      }
    } finally {
      session.close();
    }
    printJson({ schema_version: 'vc.robot-docs.v1', examples: out });
  },
});

export default defineCommand({
  meta: { name: 'robot-docs', description: 'For agents: the JSON Schema of every --json envelope, and examples' },
  subCommands: { schemas, examples },
});
