// npm run bench: the budgets of design.md and issue 7, measured end to end through bin/vc.
//   - on the synthetic fleet (built once, then compacted with vc compact: its throughput and the
//     data's size as NDJSON and as Parquet are printed): vc report triage --md at noon UTC and at
//     03:00 UTC (when the recent window reaches into the previous day), the same triage over the
//     uncompacted NDJSON, vc report health --json, a vc query of one day's aggregate and one of
//     every day's; medians of several runs and each command's peak memory;
//   - a local vc collect pass (every collector, this machine);
//   - agent usage on >= 200 MB of generated agent logs (fixtures/agent-logs.ts): vc's first full
//     collection; incremental passes with nothing new, after 1 % more lines in the 20 live sessions,
//     and after 1 % more spread over every file; vc report usage --json against ccusage 18's
//     daily --json --offline on the same logs;
//   - a vc collect pass over 50 machine ids pointing at a loopback sshd (test/sshd.ts; needs root),
//     one of them dead (a listener that never speaks, so it costs its connect timeout): the pass
//     wall time (first pass, which opens the shared connections, and the median of later ones),
//     the same pass over the 49 live machines only, and the difference, the time lost to the dead host.
// The fleet is built once into .bench/ with a fixed end time, so figures are comparable over time;
// it replays real runs of the tool suite's collectors (test/tool-runs.ts) on the machines that
// have each tool.
// Profiles: default (50 machines x 30 days, every part); large (100 x 90, the fleet's reports:
// issue 7's scale, targets triage < 1 s and < 500 MiB, compaction >= 200k rows/s).
// Options: --profile default|large --machines N --days D --runs R --only reports,local,usage,ssh
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import net from 'node:net';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { parseArgs } from 'node:util';
import { writeFleet } from '../fixtures/fleet.ts';
import { repoRoot } from '../lib/paths.ts';
import { COLLECTOR_NAMES } from '../lib/catalog.ts';
import { SSH_USER, sshdAvailable, startSshd, type Sshd } from './sshd.ts';
import { writeAgentLogs } from '../fixtures/agent-logs.ts';
import { ccusageBin, ccusageDaily } from './ccusage.ts';
import { recordToolRuns } from './tool-runs.ts';

const { values } = parseArgs({
  options: {
    profile: { type: 'string', default: 'default' },
    machines: { type: 'string' }, days: { type: 'string' }, runs: { type: 'string', default: '5' },
    only: { type: 'string' },
    // Internal: one process's share of a large fleet (buildFleet starts one per core).
    'build-part': { type: 'string' },
  },
});
/** default: design.md's budgets (50 machines x 30 days); large: issue 7's scale (100 x 90, reports only). */
const PROFILES = {
  default: { machines: 50, days: 30, only: 'reports,local,usage,ssh' },
  large: { machines: 100, days: 90, only: 'reports' },
} as const;
const profile = PROFILES[values.profile as keyof typeof PROFILES];
if (!profile) throw new Error(`--profile ${values.profile}: use ${Object.keys(PROFILES).join(' or ')}`);
const parts = new Set((values.only ?? profile.only).split(','));
const machines = Number(values.machines ?? profile.machines);
const days = Number(values.days ?? profile.days);
const runs = Number(values.runs);
const END = new Date('2026-11-20T12:00:00Z');
const SEED = 1;

const vcBin = path.join(repoRoot, 'bin', 'vc');
// Bumped whenever the fleet's content changes, so a cached old fleet is not measured.
const FLEET_VERSION = 3;
const fleetDir = path.join(repoRoot, '.bench', `fleet-v${FLEET_VERSION}-${machines}x${days}-s${SEED}-${END.toISOString().slice(0, 13)}`);
/** The tool suite's recorded runs the fleet replays (test/tool-runs.ts), kept beside it. */
const toolRunsFile = path.join(fleetDir, 'state', 'tool-runs.json');

if (values['build-part']) {
  const [from, to] = values['build-part'].split('-').map(Number) as [number, number];
  const toolRuns = JSON.parse(fs.readFileSync(toolRunsFile, 'utf8'));
  process.stdout.write(JSON.stringify(writeFleet(fleetDir, { machines, days, seed: SEED, end: END, range: [from, to], toolRuns })));
  process.exit(0);
}

/** Writes the fleet once (one process per core, each a share of the machines), then compacts it. */
async function buildFleet(): Promise<void> {
  const marker = path.join(fleetDir, 'state', 'demo.json');
  if (!fs.existsSync(marker)) {
    fs.rmSync(fleetDir, { recursive: true, force: true });
    const t0 = performance.now();
    process.stdout.write(`building the fleet (${machines} machines x ${days} days) in ${path.relative(repoRoot, fleetDir)} ... `);
    fs.mkdirSync(path.dirname(toolRunsFile), { recursive: true });
    fs.writeFileSync(toolRunsFile, JSON.stringify(recordToolRuns()));
    const procs = Math.min(os.cpus().length, machines);
    const shares = Array.from({ length: procs }, (_, k) => `${Math.floor((k * machines) / procs)}-${Math.floor(((k + 1) * machines) / procs)}`);
    const outputs = await Promise.all(shares.map((share) => new Promise<string>((resolve, reject) => {
      const child = spawn(process.execPath, ['--import', 'tsx', import.meta.filename, '--profile', values.profile!,
        '--machines', String(machines), '--days', String(days), '--build-part', share], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'inherit'] });
      let out = '';
      child.stdout.on('data', (d: Buffer) => { out += d.toString(); });
      child.on('exit', (code) => (code === 0 ? resolve(out) : reject(new Error(`building machines ${share} failed (exit ${code})`))));
    })));
    const summary = { machines: [] as string[], files: 0, lines: 0, bytes: 0, start: '', end: '' };
    for (const part of outputs.map((o) => JSON.parse(o) as typeof summary)) {
      summary.machines.push(...part.machines);
      summary.files += part.files;
      summary.lines += part.lines;
      summary.bytes += part.bytes;
      summary.start = part.start;
      summary.end = part.end;
    }
    fs.mkdirSync(path.dirname(marker), { recursive: true });
    fs.writeFileSync(marker, JSON.stringify({ ...summary, seed: SEED, days }));
    process.stdout.write(`${summary.lines} lines, ${(summary.bytes / 2 ** 20).toFixed(0)} MiB in ${((performance.now() - t0) / 1000).toFixed(1)} s\n`);
  }
  compactFleet();
}

/** Bytes of every file under `dir`. */
function bytesUnder(dir: string): number {
  if (!fs.existsSync(dir)) return 0;
  return (fs.readdirSync(dir, { recursive: true }) as string[]).reduce((n, f) => {
    const st = fs.statSync(path.join(dir, f));
    return st.isFile() ? n + st.size : n;
  }, 0);
}

/**
 * Compacts the fleet once with vc compact (the figures are kept in state/compact-bench.json, so a
 * cached fleet prints the throughput it was compacted at), then prints the sizes on disk.
 */
function compactFleet(): void {
  const marker = path.join(fleetDir, 'state', 'compact-bench.json');
  if (!fs.existsSync(marker)) {
    fs.rmSync(path.join(fleetDir, 'parquet'), { recursive: true, force: true });
    const run = timeVc(['compact', '--json'], fleetEnv());
    const data = JSON.parse(run.stdout).data as { rows: number; ms: number; ndjson_bytes: number; steps: unknown[]; rollups?: { ms: number; steps: unknown[] } };
    // Compaction's throughput is its own: the rollups of the closed days, after it, are timed apart.
    fs.writeFileSync(marker, JSON.stringify({ rows: data.rows, ms: data.ms - (data.rollups?.ms ?? 0), wall_ms: run.ms, ndjson_bytes: data.ndjson_bytes, segments: data.steps.length,
      peak_rss_kib: run.rssKiB, rollup_days: data.rollups?.steps.length ?? 0, rollup_ms: data.rollups?.ms ?? 0 }));
  } else if (!fs.existsSync(path.join(fleetDir, 'parquet', 'rollups'))) {
    timeVc(['compact', '--json'], fleetEnv()); // compacted before rollups existed: a pass rolls up its closed days
  }
  const c = JSON.parse(fs.readFileSync(marker, 'utf8')) as { rows: number; ms: number; wall_ms: number; ndjson_bytes: number; segments: number; peak_rss_kib: number | null;
    rollup_days?: number; rollup_ms?: number };
  const rate = c.rows / (c.ms / 1000);
  console.log(`${'vc compact (whole fleet, once)'.padEnd(58)} ${c.rows} rows, ${(c.ndjson_bytes / 2 ** 20).toFixed(0)} MiB in ${(c.ms / 1000).toFixed(1)} s: ${Math.round(rate)} rows/s`
    + `${rate >= 200_000 ? '  (target 200000 rows/s: met)' : '  (target 200000 rows/s: MISSED)'}, peak ${mibOf(c.peak_rss_kib)}`);
  if (c.rollup_days) console.log(`${'  then its closed days rolled up (sys_hourly, sys_daily)'.padEnd(58)} ${c.rollup_days} days in ${((c.rollup_ms ?? 0) / 1000).toFixed(1)} s`);
  const raw = bytesUnder(path.join(fleetDir, 'raw'));
  const pq = bytesUnder(path.join(fleetDir, 'parquet'));
  console.log(`${'data on disk'.padEnd(58)} NDJSON ${(raw / 2 ** 20).toFixed(0)} MiB, Parquet ${(pq / 2 ** 20).toFixed(0)} MiB (${(raw / Math.max(pq, 1)).toFixed(0)}x smaller)`);
}

const mibOf = (kib: number | null) => (kib === null ? '? MiB' : `${Math.round(kib / 1024)} MiB`);

/** The fleet's data dir, and an uncompacted view of it (its raw/ and state/ only) for comparison. */
function fleetEnv(uncompacted = false): NodeJS.ProcessEnv {
  let dir = fleetDir;
  if (uncompacted) {
    dir = `${fleetDir}-uncompacted`;
    fs.mkdirSync(dir, { recursive: true });
    for (const sub of ['raw', 'state']) if (!fs.existsSync(path.join(dir, sub))) fs.symlinkSync(path.join(fleetDir, sub), path.join(dir, sub));
  }
  const config = path.join(dir, 'no-config.toml');
  if (!fs.existsSync(config)) fs.writeFileSync(config, '');
  return { VC_DATA_DIR: dir, VC_CONFIG: config };
}

interface VcRun { ms: number; rssKiB: number | null; stdout: string }

/** Wall time and peak memory (VC_PROFILE prints it) of one bin/vc run; fails loudly if the command fails. */
function timeVc(args: string[], env: NodeJS.ProcessEnv): VcRun {
  const t0 = performance.now();
  const r = spawnSync(vcBin, args, { env: { ...process.env, ...env, VC_PROFILE: '1' }, encoding: 'utf8', maxBuffer: 64 * 2 ** 20 });
  const ms = performance.now() - t0;
  if (r.status !== 0 && !(args[0] === 'collect' && r.status === 1)) {
    throw new Error(`vc ${args.join(' ')} exited ${r.status}: ${r.stderr.slice(0, 500)}`);
  }
  const rss = /^peak rss (\d+) KiB$/m.exec(r.stderr)?.[1];
  return { ms, rssKiB: rss === undefined ? null : Number(rss), stdout: r.stdout };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

function measure(label: string, args: string[], env: NodeJS.ProcessEnv, budgetMs?: number, memBudgetMiB?: number): void {
  timeVc(args, env); // warm the page cache and tsx's transform cache
  const results = Array.from({ length: runs }, () => timeVc(args, env));
  const times = results.map((r) => r.ms);
  const m = median(times);
  const peak = Math.max(...results.map((r) => r.rssKiB ?? 0)) || null;
  const verdict = budgetMs === undefined ? '' : m <= budgetMs ? `  (budget ${budgetMs} ms: met)` : `  (budget ${budgetMs} ms: MISSED by ${Math.round(m - budgetMs)} ms)`;
  const memVerdict = memBudgetMiB === undefined || peak === null ? '' : peak / 1024 <= memBudgetMiB ? ` (budget ${memBudgetMiB} MiB: met)` : ` (budget ${memBudgetMiB} MiB: MISSED)`;
  console.log(`${label.padEnd(58)} median ${Math.round(m).toString().padStart(6)} ms  [${times.map((t) => Math.round(t)).join(', ')}]${verdict}  peak ${mibOf(peak)}${memVerdict}`);
}

console.log(`vc bench · ${os.cpus().length} cores · node ${process.version} · ${runs} runs each\n`);

async function benchReports(): Promise<void> {
  await buildFleet();
  const compacted = fleetEnv();
  const noon = END.toISOString();
  const night = new Date(END.getTime() - 9 * 3600_000).toISOString();
  const yesterday = new Date(END.getTime() - 86400_000).toISOString().slice(0, 10);
  // The large profile holds issue 7's targets: triage under 1 s and 500 MiB at 100 machines x 90 days.
  const mem = values.profile === 'large' ? 500 : undefined;

  measure(`vc report triage --md (${machines} machines, 12:00 UTC)`, ['report', 'triage', '--md', '--as-of', noon], compacted, 1000, mem);
  measure(`vc report triage --md (${machines} machines, 03:00 UTC)`, ['report', 'triage', '--md', '--as-of', night], compacted, 1000, mem);
  measure('  the same, 12:00 UTC, uncompacted NDJSON only', ['report', 'triage', '--md', '--as-of', noon], fleetEnv(true));
  measure(`vc report health --json (${machines} machines, 12:00 UTC)`, ['report', 'health', '--json', '--as-of', noon], compacted, undefined, mem);
  measure(`vc query: one day's load/cpu per machine (sys, ${days} days)`, ['query', '--as-of', noon,
    `SELECT machine_id, count(*) AS samples, avg(load5) AS load5, max(cpu_util) AS cpu FROM sys WHERE day = DATE '${yesterday}' GROUP BY machine_id ORDER BY machine_id`], compacted);
  const daily = `SELECT machine_id, day, avg(load5) AS load5, max(cpu_util) AS cpu FROM sys GROUP BY ALL ORDER BY ALL`;
  measure(`vc query: ${days}-day daily load/cpu per machine (sys)`, ['query', '--as-of', noon, daily], compacted);
  measure('  the same, uncompacted NDJSON only', ['query', '--as-of', noon, daily], fleetEnv(true));
  const rollup = `SELECT machine_id, day, avg AS load5_per_core FROM sys_daily WHERE metric = 'load5_per_core' ORDER BY ALL`;
  measure(`vc query: ${days}-day daily load per core per machine (sys_daily rollups)`, ['query', '--as-of', noon, rollup], compacted);
}

/** A real pass over this machine: every collector, its own data dir. */
function benchLocalCollect(): void {
  const localDir = fs.mkdtempSync(path.join(os.tmpdir(), 'vc-bench-local-'));
  try {
    const localEnv = { VC_DATA_DIR: localDir, VC_CONFIG: path.join(localDir, 'vc.toml') };
    fs.writeFileSync(localEnv.VC_CONFIG, '');
    measure('vc collect (local machine, all collectors)', ['collect'], localEnv, 3000);
  } finally {
    fs.rmSync(localDir, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------------------------------------
// Agent usage: one home of generated logs (all three agents, built once into .bench/), collected
// from scratch into a fresh data dir; then 1 % more lines appended and collected again; then the
// report against ccusage 18 (which reads only the Claude logs) on the same home.

const USAGE_MB = 200;
/** Sessions being written to while the incremental pass runs. */
const LIVE_SESSIONS = 20;

function benchUsage(): void {
  const home = path.join(repoRoot, '.bench', `agent-logs-${USAGE_MB}mb-s${SEED}-${END.toISOString().slice(0, 13)}`);
  const marker = path.join(home, '.vc-bench-done');
  if (!fs.existsSync(marker)) {
    fs.rmSync(home, { recursive: true, force: true });
    const t0 = performance.now();
    process.stdout.write(`\ngenerating ${USAGE_MB} MB of agent logs in ${path.relative(repoRoot, home)} ... `);
    const truth = writeAgentLogs(home, { seed: SEED, end: END, days: 30, targetBytes: USAGE_MB * 2 ** 20 });
    fs.writeFileSync(marker, JSON.stringify(truth.bytes));
    process.stdout.write(`${((performance.now() - t0) / 1000).toFixed(1)} s\n`);
  }
  const bytes = JSON.parse(fs.readFileSync(marker, 'utf8')) as { total: number; claude: number; codex: number; gemini: number };
  const mb = (n: number) => (n / 2 ** 20).toFixed(0);
  console.log(`\nagent usage: ${mb(bytes.total)} MiB of logs (Claude ${mb(bytes.claude)}, Codex ${mb(bytes.codex)}, Gemini ${mb(bytes.gemini)} MiB), 30 days`);
  const data = fs.mkdtempSync(path.join(os.tmpdir(), 'vc-bench-usage-'));
  // The incremental pass appends to a copy of the home, so the generated one stays as it is.
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'vc-bench-home-'));
  try {
    fs.cpSync(home, work, { recursive: true });
    const env = { HOME: work, VC_DATA_DIR: data, VC_CONFIG: path.join(data, 'vc.toml') };
    fs.writeFileSync(env.VC_CONFIG, '');
    const collectArgs = ['collect', '--source', 'claude-logs,codex-logs,gemini-logs'];
    const first = timeVc(collectArgs, env).ms;
    const ccusageRuns = Array.from({ length: runs }, () => timeCcusage(work));
    const ccusageMs = median(ccusageRuns);
    const verdict = (ok: boolean, what: string) => `(${what}: ${ok ? 'met' : 'MISSED'})`;
    console.log(`${'vc collect, first full read of the logs'.padEnd(58)}        ${fmt(first)}  ${verdict(first <= ccusageMs, 'no slower than one ccusage run')}`);
    // 1 % more lines, first where agents write: the sessions active last (the 20 files whose last
    // line is newest); then, the worst case, spread over every file.
    const files = logFiles(work);
    const info = files.map((f) => ({ f, ...fileLines(f) }));
    const totalLines = info.reduce((n, x) => n + x.lines.length, 0);
    const live = [...info].sort((a, b) => b.last - a.last).slice(0, LIVE_SESSIONS).map((x) => x.f);
    const noop = timeVc(collectArgs, env).ms;
    console.log(`${'vc collect, incremental, nothing new'.padEnd(58)}        ${fmt(noop)}`);
    const addLive = appendOnePercent(live, totalLines);
    const incremental = timeVc(collectArgs, env).ms;
    console.log(`${`vc collect, incremental (+${addLive.lines} lines, 1 %, ${(addLive.bytes / 2 ** 20).toFixed(1)} MiB, in ${LIVE_SESSIONS} live sessions)`.padEnd(58)}        ${fmt(incremental)}  ${verdict(incremental <= 2000, 'under 2 s')}`);
    const addAll = appendOnePercent(files, totalLines);
    const spread = timeVc(collectArgs, env).ms;
    console.log(`${`vc collect, incremental (+${addAll.lines} lines, 1 %, over all ${files.length} files)`.padEnd(58)}        ${fmt(spread)}`);
    const reportRuns = Array.from({ length: runs }, () => timeVc(['report', 'usage', '--json'], env).ms);
    const reportMs = median(reportRuns);
    console.log(`${'vc report usage --json'.padEnd(58)} median ${fmt(reportMs)}  [${reportRuns.map((t) => Math.round(t)).join(', ')}]`);
    console.log(`${`ccusage ${ccusageBin().version} daily --json --offline (Claude logs only)`.padEnd(58)} median ${fmt(ccusageMs)}  [${ccusageRuns.map((t) => Math.round(t)).join(', ')}]`);
    const ratio = ccusageMs / reportMs;
    console.log(`${'report speed-up over ccusage'.padEnd(58)}        ${ratio.toFixed(1).padStart(6)} x   ${verdict(ratio >= 5, 'at least 5x')}`);
  } finally {
    fs.rmSync(data, { recursive: true, force: true });
    fs.rmSync(work, { recursive: true, force: true });
  }
}

/** Wall time of one ccusage 18 daily run over a home's Claude logs (test/ccusage.ts runs it). */
function timeCcusage(home: string): number {
  const t0 = performance.now();
  ccusageDaily(home);
  return performance.now() - t0;
}

/** Every .jsonl log file under a home's agent roots. */
function logFiles(home: string): string[] {
  const files: string[] = [];
  const walk = (dir: string) => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith('.jsonl')) files.push(p);
    }
  };
  for (const root of ['.claude', '.config/claude', '.codex', '.gemini']) if (fs.existsSync(path.join(home, root))) walk(path.join(home, root));
  return files.sort();
}

/** A file's whole lines (without their newlines) and the time of its last one. */
function fileLines(file: string): { lines: string[]; last: number } {
  const text = fs.readFileSync(file, 'utf8');
  const lines = text.slice(0, text.lastIndexOf('\n') + 1).split('\n').slice(0, -1).filter((l) => l.trim());
  let last = 0;
  for (let i = lines.length - 1; i >= 0 && !last; i--) {
    const ts = /"timestamp":"([^"]+)"/.exec(lines[i]!)?.[1];
    if (ts) last = Date.parse(ts) || 0;
  }
  return { lines, last };
}

/**
 * Appends 1 % more lines: copies of each file's own lines (valid lines of its format; the views
 * deduplicate them, the collectors still read them), dealt round `files`. A file whose last line
 * was still being written gets the copies after a newline of its own. Returns lines and bytes added.
 */
function appendOnePercent(files: string[], totalLines: number): { lines: number; bytes: number } {
  const want = Math.ceil(totalLines / 100);
  const sources = files.map((f) => ({ file: f, lines: fileLines(f).lines, add: [] as string[] })).filter((x) => x.lines.length);
  for (let n = 0; n < want; n++) {
    const s = sources[n % sources.length]!;
    s.add.push(s.lines[s.lines.length - 1 - (s.add.length % s.lines.length)]!);
  }
  let bytes = 0;
  for (const s of sources) {
    if (!s.add.length) continue;
    const text = fs.readFileSync(s.file, 'utf8');
    const add = (text.endsWith('\n') || !text ? '' : '\n') + s.add.map((l) => `${l}\n`).join('');
    fs.appendFileSync(s.file, add);
    bytes += Buffer.byteLength(add);
  }
  return { lines: want, bytes };
}

// ---------------------------------------------------------------------------------------------
// A pass over 50 remote machines: 49 live ones (the loopback sshd, one shared connection each)
// and one dead one (a TCP listener that accepts and never speaks: ssh waits its ConnectTimeout).
// Default [collect] settings; connect timeout 10 s; every collector (repos on a small readable root).

const REMOTE_MACHINES = 50;
const CONNECT_TIMEOUT_S = 10;
const REMOTE_PASSES = 3;
const REMOTE_BUDGET_MS = 30_000;

interface Pass {
  ms: number;
  code: number | null;
  statuses: Record<string, number>;
  /** The dead machine's slowest run, and when each of its runs started and ended, in s into the pass. */
  deadMs: number | null;
  deadSpans: string;
}

/** One vc collect --json pass: wall time, exit code, run statuses, and the dead machine's slowest run. */
function collectPass(env: NodeJS.ProcessEnv, args: string[] = []): Pass {
  const t0 = performance.now();
  const wall0 = Date.now();
  const r = spawnSync(vcBin, ['collect', '--json', ...args], { env: { ...process.env, ...env }, encoding: 'utf8', maxBuffer: 64 * 2 ** 20 });
  const ms = performance.now() - t0;
  if (r.status !== 0 && r.status !== 1) throw new Error(`vc collect exited ${r.status}: ${r.stderr.slice(0, 500)}`);
  const runs = JSON.parse(r.stdout).data.runs as Array<{ machine_id: string; source: string; status: string; started_at: string; ended_at: string; duration_ms: number; error: string | null }>;
  const statuses: Record<string, number> = {};
  for (const o of runs) statuses[o.status] = (statuses[o.status] ?? 0) + 1;
  const deadRuns = runs.filter((o) => o.machine_id === 'dead');
  const dead = deadRuns.map((o) => o.duration_ms);
  const at = (iso: string) => ((Date.parse(iso) - wall0) / 1000).toFixed(1);
  const deadSpans = deadRuns.map((o) => `${o.source} ${at(o.started_at)}-${at(o.ended_at)}`).join(', ');
  const failed = runs.filter((o) => o.status !== 'ok' && o.machine_id !== 'dead');
  if (failed.length) console.log(`  ! ${failed.length} runs on live machines failed, e.g. ${failed[0]!.machine_id}: ${failed[0]!.status} ${failed[0]!.error}`);
  return { ms, code: r.status, statuses, deadMs: dead.length ? Math.max(...dead) : null, deadSpans };
}

const fmt = (ms: number) => `${Math.round(ms).toString().padStart(6)} ms`;
const statusText = (p: Pass) => Object.entries(p.statuses).map(([k, v]) => `${v} ${k}`).join(', ');

async function benchRemote(): Promise<void> {
  if (!sshdAvailable()) {
    console.log(`\nvc collect over ssh (${REMOTE_MACHINES} machines): skipped, needs root and /usr/sbin/sshd (Debian openssh-server)`);
    return;
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vc-bench-ssh-'));
  let sshd: Sshd | null = null;
  const sockets = new Set<net.Socket>();
  const tarpit = net.createServer((sock) => { sockets.add(sock); sock.on('error', () => {}); sock.on('close', () => sockets.delete(sock)); });
  const run = path.join(dir, 'run'); // XDG_RUNTIME_DIR: a socket dir of our own, so the first pass opens every connection
  const cleanup = () => {
    // The shared connections first (each master exits on request), then whatever of ours is left.
    const control = path.join(run, `vc-ssh-${process.getuid?.() ?? 0}`);
    if (fs.existsSync(control)) {
      for (const f of fs.readdirSync(control)) {
        spawnSync('ssh', ['-F', '/dev/null', '-o', `ControlPath=${path.join(control, f)}`, '-O', 'exit', 'vc-bench'], { stdio: 'ignore', timeout: 5000 });
      }
    }
    for (const s of sockets) s.destroy();
    tarpit.close();
    sshd?.stop();
    sshd = null;
    fs.rmSync(dir, { recursive: true, force: true });
  };
  const onSignal = (sig: NodeJS.Signals) => { cleanup(); process.kill(process.pid, sig); };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    fs.chmodSync(dir, 0o755);
    fs.mkdirSync(run, { mode: 0o700 });
    sshd = await startSshd([{ name: 'ok' }]);
    await new Promise<void>((resolve) => tarpit.listen(0, '127.0.0.1', resolve));
    const deadPort = (tarpit.address() as net.AddressInfo).port;
    // repos' root: a small readable directory holding one repository, owned by the login user.
    const roots = path.join(dir, 'roots');
    const repo = path.join(roots, 'project');
    fs.mkdirSync(repo, { recursive: true });
    const gitEnv = { ...process.env, GIT_AUTHOR_NAME: 'b', GIT_AUTHOR_EMAIL: 'b@e', GIT_COMMITTER_NAME: 'b', GIT_COMMITTER_EMAIL: 'b@e' };
    execFileSync('git', ['init', '-q', '-b', 'main', repo], { env: gitEnv });
    fs.writeFileSync(path.join(repo, 'README'), 'bench\n');
    execFileSync('git', ['-C', repo, 'add', 'README'], { env: gitEnv });
    execFileSync('git', ['-C', repo, 'commit', '-q', '-m', 'bench'], { env: gitEnv });
    execFileSync('chown', ['-R', `${SSH_USER}:`, roots]);
    execFileSync('chmod', ['-R', 'u=rwX,go=rX', roots]);

    const live = Array.from({ length: REMOTE_MACHINES - 1 }, (_, i) => `m${String(i + 1).padStart(2, '0')}`);
    const machine = (id: string, port: number) =>
      `[[machines]]\nid = "${id}"\nssh = "${SSH_USER}@127.0.0.1:${port}"\nidentity_file = ${JSON.stringify(sshd!.keys.ok)}\n`;
    const conf = path.join(dir, 'vc.toml');
    fs.writeFileSync(conf, [
      `[ssh]\nconfig_file = ${JSON.stringify(sshd.clientConfig)}\nconnect_timeout_seconds = ${CONNECT_TIMEOUT_S}\n`,
      `[collectors.repos]\nroots = [${JSON.stringify(roots)}]\n`,
      ...live.map((id) => machine(id, sshd!.port)),
      machine('dead', deadPort),
    ].join('\n'));
    const env = { VC_DATA_DIR: path.join(dir, 'data'), VC_CONFIG: conf, XDG_RUNTIME_DIR: run, TMUX: '', NO_COLOR: '1' };

    console.log(`\nvc collect over ssh: ${REMOTE_MACHINES} machines on a loopback sshd (${live.length} live + 1 dead, connect timeout ${CONNECT_TIMEOUT_S} s), default [collect] settings, collectors ${COLLECTOR_NAMES.join(', ')}; load average ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}`);
    console.log('  (the "remote" scripts run on this machine too: on a small box the pass is bound by its CPU)');
    const full = Array.from({ length: REMOTE_PASSES }, () => collectPass(env));
    const liveOnly = Array.from({ length: REMOTE_PASSES }, () => collectPass(env, ['--machine', live.join(',')]));
    const fullLater = median(full.slice(1).map((p) => p.ms));
    const liveMedian = median(liveOnly.map((p) => p.ms));
    const lost = fullLater - liveMedian;
    const deadMs = Math.max(...full.map((p) => p.deadMs ?? 0));
    const verdict = (ms: number, budget: number) => (ms <= budget ? `(budget ${budget} ms: met)` : `(budget ${budget} ms: MISSED by ${Math.round(ms - budget)} ms)`);
    console.log(`${`pass, ${REMOTE_MACHINES} machines, first (opens the connections)`.padEnd(58)}        ${fmt(full[0]!.ms)}  [${statusText(full[0]!)}]  ${verdict(full[0]!.ms, REMOTE_BUDGET_MS)}`);
    console.log(`${`pass, ${REMOTE_MACHINES} machines, later (shared connections)`.padEnd(58)} median ${fmt(fullLater)}  [${full.slice(1).map((p) => Math.round(p.ms)).join(', ')}]  ${verdict(fullLater, REMOTE_BUDGET_MS)}`);
    console.log(`${`pass, ${live.length} live machines only`.padEnd(58)} median ${fmt(liveMedian)}  [${liveOnly.map((p) => Math.round(p.ms)).join(', ')}]  [${statusText(liveOnly[0]!)}]`);
    console.log(`${'time lost to the dead host (later passes - live only)'.padEnd(58)}        ${fmt(lost)}  ${lost <= CONNECT_TIMEOUT_S * 1000 ? `(budget: its ${CONNECT_TIMEOUT_S} s timeout: met)` : `(budget: its ${CONNECT_TIMEOUT_S} s timeout: MISSED by ${Math.round(lost - CONNECT_TIMEOUT_S * 1000)} ms)`}`);
    console.log(`${"the dead host's slowest run".padEnd(58)}        ${fmt(deadMs)}  ${deadMs <= CONNECT_TIMEOUT_S * 1000 + 1000 ? `(its connect timeout ${CONNECT_TIMEOUT_S} s: within)` : `(its connect timeout ${CONNECT_TIMEOUT_S} s: OVER)`}`);
    for (const [k, p] of full.entries()) console.log(`  dead host's runs in pass ${k + 1} (s into the pass, of ${(p.ms / 1000).toFixed(1)}): ${p.deadSpans}`);
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    cleanup();
  }
}

if (parts.has('reports')) await benchReports();
if (parts.has('local')) benchLocalCollect();
if (parts.has('usage')) benchUsage();
if (parts.has('ssh')) await benchRemote();
