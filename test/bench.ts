// npm run bench: the budgets of design.md, measured end to end through bin/vc.
//   - vc report triage --md on the synthetic fleet (50 machines x 30 days), median of several runs,
//     at noon UTC and at 03:00 UTC (when the recent window reaches into the previous day's file);
//   - a vc query of one day's aggregate over the full sys history;
//   - a local vc collect pass (every collector, this machine).
// The fleet is built once into .bench/ with a fixed end time, so figures are comparable over time.
// Options: --machines N --days D --runs R
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { parseArgs } from 'node:util';
import { writeFleet } from '../fixtures/fleet.ts';
import { repoRoot } from '../lib/paths.ts';

const { values } = parseArgs({
  options: { machines: { type: 'string', default: '50' }, days: { type: 'string', default: '30' }, runs: { type: 'string', default: '5' } },
});
const machines = Number(values.machines);
const days = Number(values.days);
const runs = Number(values.runs);
const END = new Date('2026-11-20T12:00:00Z');
const SEED = 1;

const vcBin = path.join(repoRoot, 'bin', 'vc');
const fleetDir = path.join(repoRoot, '.bench', `fleet-${machines}x${days}-s${SEED}-${END.toISOString().slice(0, 13)}`);

function buildFleet(): void {
  const marker = path.join(fleetDir, 'state', 'demo.json');
  if (fs.existsSync(marker)) return;
  fs.rmSync(fleetDir, { recursive: true, force: true });
  const t0 = performance.now();
  process.stdout.write(`building the fleet (${machines} machines x ${days} days) in ${path.relative(repoRoot, fleetDir)} ... `);
  const summary = writeFleet(fleetDir, { machines, days, seed: SEED, end: END });
  fs.mkdirSync(path.dirname(marker), { recursive: true });
  fs.writeFileSync(marker, JSON.stringify({ ...summary, seed: SEED, days }));
  process.stdout.write(`${summary.lines} lines, ${(summary.bytes / 2 ** 20).toFixed(0)} MiB in ${((performance.now() - t0) / 1000).toFixed(1)} s\n`);
}

/** Wall time of one bin/vc run, in ms; fails loudly if the command fails. */
function timeVc(args: string[], env: NodeJS.ProcessEnv): number {
  const t0 = performance.now();
  const r = spawnSync(vcBin, args, { env: { ...process.env, ...env }, encoding: 'utf8', maxBuffer: 64 * 2 ** 20 });
  const ms = performance.now() - t0;
  if (r.status !== 0 && !(args[0] === 'collect' && r.status === 1)) {
    throw new Error(`vc ${args.join(' ')} exited ${r.status}: ${r.stderr.slice(0, 500)}`);
  }
  return ms;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

function measure(label: string, args: string[], env: NodeJS.ProcessEnv, budgetMs?: number): void {
  timeVc(args, env); // warm the page cache and tsx's transform cache
  const times = Array.from({ length: runs }, () => timeVc(args, env));
  const m = median(times);
  const verdict = budgetMs === undefined ? '' : m <= budgetMs ? `  (budget ${budgetMs} ms: met)` : `  (budget ${budgetMs} ms: MISSED by ${Math.round(m - budgetMs)} ms)`;
  console.log(`${label.padEnd(58)} median ${Math.round(m).toString().padStart(6)} ms  [${times.map((t) => Math.round(t)).join(', ')}]${verdict}`);
}

console.log(`vc bench · ${os.cpus().length} cores · node ${process.version} · ${runs} runs each\n`);
buildFleet();
const fleetEnv = { VC_DATA_DIR: fleetDir, VC_CONFIG: path.join(fleetDir, 'no-config.toml') };
fs.writeFileSync(fleetEnv.VC_CONFIG, '');
const noon = END.toISOString();
const night = new Date(END.getTime() - 9 * 3600_000).toISOString();
const yesterday = new Date(END.getTime() - 86400_000).toISOString().slice(0, 10);

measure(`vc report triage --md (${machines} machines, 12:00 UTC)`, ['report', 'triage', '--md', '--as-of', noon], fleetEnv, 1000);
measure(`vc report triage --md (${machines} machines, 03:00 UTC)`, ['report', 'triage', '--md', '--as-of', night], fleetEnv, 1000);
measure(`vc report health --json (${machines} machines, 12:00 UTC)`, ['report', 'health', '--json', '--as-of', noon], fleetEnv);
measure(`vc query: one day's load/cpu per machine (sys, ${days} days)`, ['query', '--as-of', noon,
  `SELECT machine_id, count(*) AS samples, avg(load5) AS load5, max(cpu_util) AS cpu FROM sys WHERE day = DATE '${yesterday}' GROUP BY machine_id ORDER BY machine_id`], fleetEnv);

// A real pass over this machine: every collector, its own data dir.
const localDir = fs.mkdtempSync(path.join(os.tmpdir(), 'vc-bench-local-'));
try {
  const localEnv = { VC_DATA_DIR: localDir, VC_CONFIG: path.join(localDir, 'vc.toml') };
  fs.writeFileSync(localEnv.VC_CONFIG, '');
  measure('vc collect (local machine, all collectors)', ['collect'], localEnv, 3000);
} finally {
  fs.rmSync(localDir, { recursive: true, force: true });
}
