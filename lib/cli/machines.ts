// vc machines list|probe: the fleet as vc.toml defines it, whether each machine answers, and
// which tools it has (probed with command -v, kept as the `tools` source, refreshed daily).
import { defineCommand } from 'citty';
import type { RunOutcome } from '../collector.ts';
import { findMachine, type LoadedConfig } from '../config.ts';
import { envelope, humanAge, mdTable } from '../render.ts';
import { reportContext } from '../report.ts';
import { collect } from '../runner.ts';
import { succeeded } from '../status.ts';
import { checkArgs, configArg, loadCliConfig, open, outputFormat, print, printJson } from './common.ts';

const outputArgs = {
  md: { type: 'boolean', description: 'Markdown (default)' },
  json: { type: 'boolean', description: 'the robot envelope' },
  ...configArg,
} as const;

/** Prints the inventory of `ids` (all when empty), with the outcomes of a probe when there was one. */
async function show(loaded: LoadedConfig, ids: string[], format: 'md' | 'json', probe: RunOutcome[] | null): Promise<void> {
  const session = await open(loaded);
  try {
    const machines = (await session.query('SELECT * FROM v1.machine_inventory ORDER BY machine_id'))
      .filter((m) => ids.length === 0 || ids.includes(String(m.machine_id)));
    const ctx = await reportContext(session, new Date(), []);
    if (format === 'json') {
      printJson(envelope('machines', { machines, ...(probe ? { probe } : {}) }, ctx.staleness, ctx.warnings));
      return;
    }
    print(mdTable(machines.map((m) => ({
      machine: m.machine_id,
      ssh: m.ssh ?? '(not configured)',
      reachability: m.reachability === 'unreachable' ? `unreachable since ${String(m.unreachable_since).slice(0, 16)}: ${m.unreachable_reason}` : m.reachability,
      'last ok': m.last_ok_age_s === null ? 'never' : `${humanAge(m.last_ok_age_s)} ago`,
      host: m.hostname === null ? '' : `${m.hostname} (${m.kernel}, ${m.arch})`,
      tools: m.tools_present === null ? 'not probed yet' : (m.tools_present as string[]).join(' '),
      probed: m.tools_age_s === null ? '' : `${humanAge(m.tools_age_s)} ago`,
    }))));
    for (const o of probe ?? []) if (!succeeded(o.status)) print(`${o.machine_id}: ${o.status}: ${o.error}`);
  } finally {
    session.close();
  }
}

const list = defineCommand({
  meta: { name: 'list', description: 'The machines with their reachability, last successful collection and tools' },
  args: outputArgs,
  async run(ctx) {
    checkArgs(ctx);
    await show(loadCliConfig(ctx.args), [], outputFormat(ctx.args), null);
  },
});

const probe = defineCommand({
  meta: { name: 'probe', description: 'Connect to machines now (default: all), detect their tools with command -v, and report' },
  args: {
    ids: { type: 'positional', description: 'machine ids (default: every configured machine)', required: false },
    ...outputArgs,
  },
  async run(ctx) {
    checkArgs(ctx, Number.MAX_SAFE_INTEGER);
    const loaded = loadCliConfig(ctx.args);
    const ids = (ctx.args._ ?? []) as string[];
    const machines = ids.length ? ids.map((id) => findMachine(loaded.config, id)) : loaded.config.machines;
    const { outcomes } = await collect({
      config: loaded.config, configPath: loaded.path, dataDir: loaded.dataDir, plan: { machines, sources: ['tools'] },
    });
    await show(loaded, machines.map((m) => m.id), outputFormat(ctx.args), outcomes);
    if (outcomes.some((o) => !succeeded(o.status))) process.exitCode = 1;
  },
});

export default defineCommand({
  meta: { name: 'machines', description: 'The fleet: list the machines, or probe them for reachability and tools' },
  subCommands: { list, probe },
});
