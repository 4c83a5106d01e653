// What every vc command shares: the --config flag, strict flag checking (citty accepts unknown
// flags silently; a typo must not run something else), opening the views, and output.
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import type { ArgsDef } from 'citty';
import { enabledIntervals, intervalSeconds, loadConfig, machineCollectors, type LoadedConfig } from '../config.ts';
import type { Session } from '../duck.ts';
import type { OpenSession } from '../report.ts';
import { UsageError } from '../errors.ts';
import { demoMarkerFile } from '../paths.ts';

export const configArg = {
  config: { type: 'string', description: 'vc.toml to use (default: $VC_CONFIG, then $XDG_CONFIG_HOME/vc/vc.toml)', valueHint: 'FILE' },
} as const satisfies ArgsDef;

/** --md (the default) or --json: see outputFormat. */
export const formatArgs = {
  md: { type: 'boolean', description: 'Markdown for people and agents (default)' },
  json: { type: 'boolean', description: 'the robot envelope: schema_version, generated_at, data, staleness, warnings' },
} as const satisfies ArgsDef;

export const asOfArg = {
  'as-of': { type: 'string', description: 'answer as of this time (ISO 8601, e.g. 2026-11-24T03:00:00Z)', valueHint: 'TIME' },
} as const satisfies ArgsDef;

const camel = (s: string) => s.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
const kebab = (s: string) => s.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);

/** Refuses flags the command does not define and positionals beyond the ones it takes. */
export function checkArgs(ctx: { args: object; cmd: { args?: unknown; meta?: unknown } }, maxPositionals = 0): void {
  const defs = (ctx.cmd.args ?? {}) as ArgsDef;
  const allowed = new Set<string>(['_', 'help', 'h']);
  for (const [name, def] of Object.entries(defs)) {
    const alias = 'alias' in def ? def.alias : undefined;
    for (const n of [name, camel(name), kebab(name), ...[alias ?? []].flat()]) allowed.add(n);
  }
  const cmdName = (ctx.cmd.meta as { name?: string } | undefined)?.name ?? '';
  for (const key of Object.keys(ctx.args)) {
    if (!allowed.has(key)) throw new UsageError(`unknown option --${key} (see: vc ${cmdName} --help)`);
  }
  const args = ctx.args as { _?: string[] };
  const positionals = args._ ?? [];
  if (positionals.length > maxPositionals) {
    throw new UsageError(`unexpected argument "${positionals[maxPositionals]}"${maxPositionals === 1 ? ' (quote the whole argument)' : ''}`);
  }
}

/**
 * A string flag that may be given several times (`--source a --source b`) or comma-separated.
 * Read from the raw arguments: citty keeps only the last of a repeated flag.
 */
export function listArg(ctx: { rawArgs: string[]; cmd: { args?: unknown } }, name: string): string[] {
  const defs = (ctx.cmd.args ?? {}) as ArgsDef;
  // Every string flag of the command is declared, so the value of another flag is never taken for this one.
  const options = Object.fromEntries(Object.entries(defs)
    .filter(([, d]) => d.type === 'string' || d.type === 'enum')
    .map(([n]) => [n, { type: 'string' as const, multiple: true }]));
  const { values } = parseArgs({ args: ctx.rawArgs, options, strict: false, allowPositionals: true });
  const given = values[name];
  const list = Array.isArray(given) ? given : given === undefined ? [] : [given];
  return list.flatMap((v) => String(v).split(',')).map((v) => v.trim()).filter(Boolean);
}

export function parseAsOf(value: unknown): Date | undefined {
  if (value === undefined) return undefined;
  const t = Date.parse(String(value));
  if (!Number.isFinite(t)) throw new UsageError(`--as-of "${String(value)}" is not a time; use ISO 8601 like 2026-11-24T03:00:00Z`);
  return new Date(t);
}

export function loadCliConfig(args: { config?: unknown }): LoadedConfig {
  return loadConfig(typeof args.config === 'string' ? args.config : undefined);
}

/** The demo's machines when the data dir holds a synthetic fleet (vc demo), else null. */
export function demoMachines(dataDir: string): string[] | null {
  try {
    const machines = JSON.parse(fs.readFileSync(demoMarkerFile(dataDir), 'utf8')).machines;
    return Array.isArray(machines) ? machines.map(String) : null;
  } catch {
    return null;
  }
}

/**
 * Opens the views; in a demo data dir, the demo's machines stand in for the configured ones.
 * DuckDB loads here, on first use, not with this module: `vc collect` never needs it.
 */
export async function open(loaded: LoadedConfig, opts: Parameters<OpenSession>[1] = {}): Promise<Session> {
  const { openSession } = await import('../duck.ts');
  const { config } = loaded;
  const demo = demoMachines(loaded.dataDir);
  const intervals = enabledIntervals(config);
  return openSession({
    dataDir: loaded.dataDir,
    ...opts,
    machines: demo
      ? demo.map((id) => ({
        id, ssh: 'demo', tags: ['demo'], collectable: false,
        collectors: Object.entries(intervals).map(([source, interval_s]) => ({ source, interval_s })),
      }))
      : config.machines.map((m) => ({
        id: m.id, ssh: m.ssh, tags: m.tags, collectable: true,
        collectors: machineCollectors(config, m).map((source) => ({ source, interval_s: intervalSeconds(config, source, m) })),
      })),
    intervals,
  });
}

/** True when nothing has been stored yet (no source has a single file). */
export function storeIsEmpty(dataDir: string): boolean {
  const raw = path.join(dataDir, 'raw');
  try {
    return !fs.readdirSync(raw).some((source) =>
      fs.readdirSync(path.join(raw, source)).some((m) => fs.readdirSync(path.join(raw, source, m)).length > 0));
  } catch {
    return true;
  }
}

export function print(text: string): void {
  process.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
}

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

/** --md and --json are exclusive; Markdown is the default. */
export function outputFormat(args: { md?: unknown; json?: unknown }): 'md' | 'json' {
  if (args.md && args.json) throw new UsageError('choose one of --md and --json');
  return args.json ? 'json' : 'md';
}
