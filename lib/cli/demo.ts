// vc demo [--machines N] [--days D] [--seed S] [--end TIME]: a synthetic fleet to try vc on.
import fs from 'node:fs';
import path from 'node:path';
import { defineCommand } from 'citty';
import { writeFleet } from '../../fixtures/fleet.ts';
import { UsageError } from '../errors.ts';
import { demoMarkerFile, stateDir } from '../paths.ts';
import { envelope, humanBytes } from '../render.ts';
import { checkArgs, configArg, loadCliConfig, parseAsOf, print, printJson } from './common.ts';

/** Machines with stored data, by the raw/<source>/machine=<id> directories. */
function storedMachines(dataDir: string): Set<string> {
  const raw = path.join(dataDir, 'raw');
  const ids = new Set<string>();
  if (!fs.existsSync(raw)) return ids;
  for (const source of fs.readdirSync(raw)) {
    for (const m of fs.readdirSync(path.join(raw, source))) if (m.startsWith('machine=')) ids.add(m.slice('machine='.length));
  }
  return ids;
}

function positiveInt(value: unknown, name: string, max: number): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > max) throw new UsageError(`--${name} must be a whole number from 1 to ${max}, not "${String(value)}"`);
  return n;
}

export default defineCommand({
  meta: { name: 'demo', description: 'Write a deterministic synthetic fleet (with planted trouble) into the data dir, to try every report' },
  args: {
    machines: { type: 'string', description: 'how many machines (default 10)', valueHint: 'N' },
    days: { type: 'string', description: 'days of history (default 3)', valueHint: 'D' },
    seed: { type: 'string', description: 'random seed (default 1)', valueHint: 'S' },
    end: { type: 'string', description: 'time of the newest sample (default now)', valueHint: 'TIME' },
    json: { type: 'boolean', description: 'print the summary as a JSON envelope' },
    ...configArg,
  },
  async run(ctx) {
    checkArgs(ctx);
    const machines = positiveInt(ctx.args.machines ?? 10, 'machines', 1000);
    const days = positiveInt(ctx.args.days ?? 3, 'days', 400);
    const seed = positiveInt(ctx.args.seed ?? 1, 'seed', 2 ** 31);
    const end = parseAsOf(ctx.args.end);
    const { dataDir } = loadCliConfig(ctx.args);

    // Never mix a demo with real data: only an empty data dir or a previous demo may be (re)written.
    const stored = storedMachines(dataDir);
    let previous: string[] = [];
    try {
      previous = JSON.parse(fs.readFileSync(demoMarkerFile(dataDir), 'utf8')).machines ?? [];
    } catch { /* no earlier demo */ }
    const foreign = [...stored].filter((m) => !previous.includes(m));
    if (foreign.length) {
      throw new UsageError(`${dataDir} already holds collected data (machines: ${foreign.slice(0, 5).join(', ')}); `
        + 'vc demo writes only into an empty data dir or over an earlier demo. Try: VC_DATA_DIR=/tmp/vc-demo vc demo');
    }
    fs.rmSync(path.join(dataDir, 'raw'), { recursive: true, force: true });
    const summary = writeFleet(dataDir, { machines, days, seed, end });
    fs.mkdirSync(stateDir(dataDir), { recursive: true });
    fs.writeFileSync(demoMarkerFile(dataDir), JSON.stringify({ ...summary, seed, days }, null, 2));

    if (ctx.args.json) {
      printJson(envelope('demo', { data_dir: dataDir, ...summary }, {}, []));
      return;
    }
    print(`Wrote a synthetic fleet of ${summary.machines.length} machines over ${days} days to ${dataDir}: `
      + `${summary.lines} lines in ${summary.files} files (${humanBytes(summary.bytes)}), ${summary.start} to ${summary.end}.\n`
      + `Try: vc report triage --md`);
  },
});
