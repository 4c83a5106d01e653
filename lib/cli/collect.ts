// vc collect [--machine ID...] [--source NAME...] [--due] [--json]
import { defineCommand } from 'citty';
import { COLLECTOR_NAMES, isCollectorName, type CollectorName } from '../catalog.ts';
import type { RunOutcome } from '../collector.ts';
import { findMachine, type LoadedConfig, type Machine } from '../config.ts';
import { UsageError } from '../errors.ts';
import { succeeded } from '../status.ts';
import { collect } from '../runner.ts';
import { envelope, humanBytes, terminalTable } from '../render.ts';
import { checkArgs, configArg, listArg, loadCliConfig, print, printJson } from './common.ts';
import { log } from '../log.ts';

/** Collects every enabled source of the configured local machines (what an empty store needs). */
export async function collectLocal(loaded: LoadedConfig): Promise<RunOutcome[]> {
  const machines = loaded.config.machines.filter((m) => m.ssh === 'local');
  return (await collect({ config: loaded.config, configPath: loaded.path, dataDir: loaded.dataDir, plan: { machines, sources: COLLECTOR_NAMES } })).outcomes;
}

export default defineCommand({
  meta: { name: 'collect', description: 'Run the collectors for the configured machines and store what they find' },
  args: {
    machine: { type: 'string', description: 'only this machine (repeatable)', valueHint: 'ID' },
    source: { type: 'string', description: `only this collector (repeatable): ${COLLECTOR_NAMES.join(', ')}`, valueHint: 'NAME' },
    due: { type: 'boolean', description: 'only collectors whose interval has passed (what cron runs every minute)' },
    json: { type: 'boolean', description: 'print the runs as a JSON envelope' },
    ...configArg,
  },
  async run(ctx) {
    checkArgs(ctx);
    const loaded = loadCliConfig(ctx.args);
    const ids = listArg(ctx, 'machine');
    const machines = ids.length ? ids.map((id) => findMachine(loaded.config, id)) : loaded.config.machines;
    const names = listArg(ctx, 'source');
    for (const n of names) {
      if (!isCollectorName(n)) throw new UsageError(`unknown collector "${n}"; collectors: ${COLLECTOR_NAMES.join(', ')}`);
    }
    const sources = names.length ? (names as CollectorName[]) : COLLECTOR_NAMES;
    await collectPass(loaded, { machines, sources, due: Boolean(ctx.args.due), json: Boolean(ctx.args.json) });
  },
});

/** One collection pass and its table (or JSON envelope); exit status 1 if a collector failed. */
export async function collectPass(loaded: LoadedConfig, opts: { machines: Machine[]; sources: CollectorName[]; due: boolean; json: boolean }): Promise<void> {
  const { outcomes, recovered } = await collect({
    config: loaded.config, configPath: loaded.path, dataDir: loaded.dataDir,
    plan: { machines: opts.machines, sources: opts.sources }, due: opts.due,
  });
  const warnings = recovered ? [`recorded ${recovered} run${recovered === 1 ? '' : 's'} of an earlier pass whose vc process ended before recording ${recovered === 1 ? 'it' : 'them'} (status killed)`] : [];
  if (!opts.json) for (const w of warnings) await log.warn(w);
  if (opts.json) {
    printJson(envelope('collect', { data_dir: loaded.dataDir, runs: outcomes }, {}, warnings));
  } else if (outcomes.length) {
    print(await terminalTable(outcomes.map((o) => ({
      machine: o.machine_id, source: o.source, status: o.status, rows: o.rows, read: humanBytes(o.bytes),
      ms: o.duration_ms, error: o.error ?? (o.warnings.length ? `warning: ${o.warnings[0]}` : ''),
    })), ['machine', 'source', 'status', 'rows', 'read', 'ms', 'error']));
  } else {
    print(opts.due ? 'nothing due' : 'no collector enabled');
  }
  if (outcomes.some((o) => !succeeded(o.status))) process.exitCode = 1;
}
