// npm run bench: the budgets of design.md, measured end to end through bin/vc.
//   - vc report triage --md on the synthetic fleet (50 machines x 30 days), median of several runs,
//     at noon UTC and at 03:00 UTC (when the recent window reaches into the previous day's file);
//   - a vc query of one day's aggregate over the full sys history;
//   - a local vc collect pass (every collector, this machine);
//   - agent usage on >= 200 MB of generated agent logs (fixtures/agent-logs.ts): vc's first full
//     collection; incremental passes with nothing new, after 1 % more lines in the 20 live sessions,
//     and after 1 % more spread over every file; vc report usage --json against ccusage 18's
//     daily --json --offline on the same logs;
//   - a vc collect pass over 50 machine ids pointing at a loopback sshd (test/sshd.ts; needs root),
//     one of them dead (a listener that never speaks, so it costs its connect timeout): the pass
//     wall time (first pass, which opens the shared connections, and the median of later ones),
//     the same pass over the 49 live machines only, and the difference, the time lost to the dead host.
// The fleet is built once into .bench/ with a fixed end time, so figures are comparable over time.
// Options: --machines N --days D --runs R --only reports,local,usage,ssh (default: all parts)
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import net from 'node:net';
import { execFileSync, spawnSync } from 'node:child_process';
import { parseArgs } from 'node:util';
import { writeFleet } from '../fixtures/fleet.ts';
import { repoRoot } from '../lib/paths.ts';
import { COLLECTOR_NAMES } from '../lib/catalog.ts';
import { SSH_USER, sshdAvailable, startSshd, type Sshd } from './sshd.ts';
import { writeAgentLogs } from '../fixtures/agent-logs.ts';
import { ccusageBin, ccusageDaily } from './ccusage.ts';

const { values } = parseArgs({
  options: {
    machines: { type: 'string', default: '50' }, days: { type: 'string', default: '30' }, runs: { type: 'string', default: '5' },
    only: { type: 'string', default: 'reports,local,usage,ssh' },
  },
});
const parts = new Set(values.only.split(','));
const machines = Number(values.machines);
const days = Number(values.days);
const runs = Number(values.runs);
const END = new Date('2026-11-20T12:00:00Z');
const SEED = 1;

const vcBin = path.join(repoRoot, 'bin', 'vc');
// Bumped whenever the fleet's content changes, so a cached old fleet is not measured.
const FLEET_VERSION = 2;
const fleetDir = path.join(repoRoot, '.bench', `fleet-v${FLEET_VERSION}-${machines}x${days}-s${SEED}-${END.toISOString().slice(0, 13)}`);

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

function benchReports(): void {
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
    const first = timeVc(collectArgs, env);
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
    const noop = timeVc(collectArgs, env);
    console.log(`${'vc collect, incremental, nothing new'.padEnd(58)}        ${fmt(noop)}`);
    const addLive = appendOnePercent(live, totalLines);
    const incremental = timeVc(collectArgs, env);
    console.log(`${`vc collect, incremental (+${addLive.lines} lines, 1 %, ${(addLive.bytes / 2 ** 20).toFixed(1)} MiB, in ${LIVE_SESSIONS} live sessions)`.padEnd(58)}        ${fmt(incremental)}  ${verdict(incremental <= 2000, 'under 2 s')}`);
    const addAll = appendOnePercent(files, totalLines);
    const spread = timeVc(collectArgs, env);
    console.log(`${`vc collect, incremental (+${addAll.lines} lines, 1 %, over all ${files.length} files)`.padEnd(58)}        ${fmt(spread)}`);
    const reportRuns = Array.from({ length: runs }, () => timeVc(['report', 'usage', '--json'], env));
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

if (parts.has('reports')) benchReports();
if (parts.has('local')) benchLocalCollect();
if (parts.has('usage')) benchUsage();
if (parts.has('ssh')) await benchRemote();
