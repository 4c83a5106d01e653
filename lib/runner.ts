// `vc collect`: runs the planned collectors, several at once, each over all its machines, in this
// process and, with `[collect] processes` above 1, in more (lib/collect-host.ts). Each run is
// bounded by its collector's timeout inside its process (lib/collector.ts): a machine that is
// down, a script that hangs or a lock that never comes costs that run its timeout and nobody else
// anything. What could still stall a whole process is watched from outside: a child process by
// its hard timeout here, this one by a watchdog that kills it; runs that a killed or crashed
// process never recorded are recorded by the next pass (lib/inflight.ts). One process, not one
// per collector: each Node process costs most of a CPU second to start, every pass.
import fs from 'node:fs';
import path from 'node:path';
import type { CollectorName } from './catalog.ts';
import { recordFailedRun, runForMachines, type RunOutcome } from './collector.ts';
import { COLLECTOR_CODE } from './collectors.ts';
import { markInflight, orphanedRuns } from './inflight.ts';
import { intervalSeconds, machineCollectors, timeoutSeconds, type Config, type Machine } from './config.ts';
import { newRunId } from './envelope.ts';
import { errorMessage } from './errors.ts';
import { execArgv } from './exec.ts';
import { spawn } from 'node:child_process';
import { repoRoot, stateDir } from './paths.ts';
import { sanitize } from './render.ts';

/** A collector records its own runs; this is how long past its budget we wait before killing it. */
const KILL_GRACE_SECONDS = 10;
/** A collector prints one summary line per machine; past this per machine, it is a runaway. */
const OUTPUT_CAP_PER_MACHINE = 64 * 1024;
/** cron fires on the minute, a little late or early: count a job due within this of its interval. */
const DUE_SLACK_SECONDS = 30;

export interface CollectPlan {
  machines: Machine[];
  sources: CollectorName[];
}

export interface CollectOptions {
  config: Config;
  /** The vc.toml in use (passed on to the collectors), or null for the defaults. */
  configPath: string | null;
  dataDir: string;
  plan: CollectPlan;
  /** Only run collectors whose interval has passed since their last start. */
  due?: boolean;
}

interface Job { machine: Machine; source: CollectorName; runId: string }

const tsxLoader = path.join(repoRoot, 'node_modules', 'tsx', 'dist', 'loader.mjs');
const hostScript = path.join(repoRoot, 'lib', 'collect-host.ts');
const lastStartFile = (dataDir: string, machineId: string, source: string) =>
  path.join(stateDir(dataDir), 'last-start', machineId, `${source}.json`);

function lastStart(dataDir: string, machineId: string, source: string): number | null {
  try {
    const t = Date.parse(JSON.parse(fs.readFileSync(lastStartFile(dataDir, machineId, source), 'utf8')).started_at);
    return Number.isFinite(t) ? t : null;
  } catch {
    return null;
  }
}

function noteStart(dataDir: string, job: Job, at: Date): void {
  const file = lastStartFile(dataDir, job.machine.id, job.source);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  // A temp name of its own: a cron pass and a manual one may note the same job at once.
  const tmp = `${file}.${process.pid}.${job.runId}.tmp`;
  fs.writeFileSync(tmp, JSON.stringify({ started_at: at.toISOString() }));
  fs.renameSync(tmp, file);
}

/** The jobs to run: each planned machine's collectors (its include/exclude), minus those not yet due. */
export function planJobs(opts: CollectOptions, now = new Date()): Job[] {
  const jobs: Job[] = [];
  for (const machine of opts.plan.machines) {
    for (const source of machineCollectors(opts.config, machine)) {
      if (!opts.plan.sources.includes(source)) continue;
      if (opts.due) {
        const last = lastStart(opts.dataDir, machine.id, source);
        const interval = intervalSeconds(opts.config, source, machine);
        if (last !== null && now.getTime() - last < (interval - DUE_SLACK_SECONDS) * 1000) continue;
      }
      jobs.push({ machine, source, runId: newRunId() });
    }
  }
  return jobs;
}

/** Parses the outcome lines a collector process printed, by run id; anything else is ignored. */
function parseOutcomes(stdout: string): Map<string, RunOutcome> {
  const byRun = new Map<string, RunOutcome>();
  for (const line of stdout.split('\n')) {
    try {
      const o = JSON.parse(line) as RunOutcome;
      if (typeof o?.machine_id === 'string' && typeof o.run_id === 'string' && typeof o.status === 'string') byRun.set(o.run_id, o);
    } catch { /* not an outcome line */ }
  }
  return byRun;
}

/**
 * How long a process running `jobs` may take in all: its collectors run at once, and each round of
 * one collector's machines may wait a collector timeout for a machine slot, then use one.
 */
function processTimeoutMs(config: Config, jobs: Job[]): number {
  const perSource = new Map<CollectorName, number>();
  for (const j of jobs) perSource.set(j.source, (perSource.get(j.source) ?? 0) + 1);
  const longest = Math.max(...[...perSource].map(([source, n]) => 2 * Math.ceil(n / config.collect.machines_in_flight) * timeoutSeconds(config, source)));
  return (longest + KILL_GRACE_SECONDS) * 1000;
}

/** Runs jobs in this process: each collector's code is loaded, then all run at once. */
async function runHere(opts: CollectOptions, jobs: Job[]): Promise<RunOutcome[]> {
  const sources = [...new Set(jobs.map((j) => j.source))];
  const groups = await Promise.all(sources.map(async (source) => ({
    def: await COLLECTOR_CODE[source](),
    machines: jobs.filter((j) => j.source === source).map((j) => ({ machine: j.machine, runId: j.runId })),
  })));
  const { config, dataDir } = opts;
  return (await Promise.all(groups.map((g) => runForMachines(g.def, { config, dataDir, machines: g.machines })))).flat();
}

/**
 * Kills this process if it is still running `ms` from now: a stalled event loop (a hung file
 * system, a bug) can do nothing itself. A shell waits on a pipe from this process for at most that
 * long; the pipe closes when this process ends, however it ends, and the watchdog with it.
 */
function watchdog(ms: number): () => void {
  const dog = spawn('/bin/sh', ['-c', `timeout ${Math.ceil(ms / 1000)} cat >/dev/null; [ $? -eq 124 ] && kill -9 ${process.pid}`],
    { stdio: ['pipe', 'ignore', 'ignore'], detached: true });
  dog.on('error', () => { /* no watchdog: the pass still runs */ });
  dog.stdin!.on('error', () => {});
  dog.unref();
  (dog.stdin as unknown as { unref?: () => void }).unref?.();
  return () => dog.stdin!.end();
}

/** One child collector process for some jobs; the runs it could not record are recorded here. */
async function runProcess(opts: CollectOptions, jobs: Job[]): Promise<RunOutcome[]> {
  const { config, dataDir } = opts;
  const started = new Date();
  const timeoutMs = processTimeoutMs(config, jobs);
  const maxBytes = OUTPUT_CAP_PER_MACHINE * jobs.length;
  const argv = [process.execPath, '--import', tsxLoader, hostScript,
    ...jobs.flatMap((j) => ['--job', `${j.source}:${j.machine.id}:${j.runId}`]),
    ...(opts.configPath ? ['--config', opts.configPath] : [])];
  let outcomes = new Map<string, RunOutcome>();
  let why = '';
  try {
    const r = await execArgv(argv, { timeoutMs, maxBytes, env: { ...process.env, VC_DATA_DIR: dataDir } });
    outcomes = parseOutcomes(r.stdout);
    const stderr = sanitize(r.stderr.trim().split('\n').slice(-5).join(' | ')).slice(0, 1000);
    why = r.timedOut ? `killed after ${timeoutMs / 1000}s (the collector timeout plus grace)`
      : r.overflow ? `killed: printed more than ${maxBytes} bytes`
      : `exited ${r.code ?? `on signal ${r.signal}`} without recording this run`;
    if (stderr) why += `: ${stderr}`;
  } catch (err) {
    why = `could not be started: ${errorMessage(err)}`;
  }
  return Promise.all(jobs.map((j) => outcomes.get(j.runId)
    ?? recordFailedRun(dataDir, j.machine.id, j.source, j.runId, started, why.startsWith('killed after') ? 'timeout' : 'killed',
      `collector ${j.source}: its process ${why}`)));
}

/** Records the runs of earlier passes that ended before recording them; says how many. */
async function recordOrphans(dataDir: string): Promise<number> {
  const orphans = orphanedRuns(dataDir);
  for (const o of orphans) {
    await recordFailedRun(dataDir, o.machine_id, o.source, o.run_id, new Date(Date.parse(o.started_at) || Date.now()), 'killed',
      `collector ${o.source}: the vc process running it (pid ${o.pid}) ended before the run was recorded (killed, crashed, or the machine restarted)`);
  }
  return orphans.length;
}

export interface CollectResult {
  outcomes: RunOutcome[];
  /** Runs of earlier passes recorded now (their process ended without recording them). */
  recovered: number;
}

export async function collect(opts: CollectOptions): Promise<CollectResult> {
  const recovered = await recordOrphans(opts.dataDir);
  const jobs = planJobs(opts);
  const started = new Date();
  for (const job of jobs) {
    try {
      noteStart(opts.dataDir, job, started);
    } catch { /* bookkeeping for --due only: the run itself is recorded either way */ }
  }
  // The collectors, dealt round the processes in plan order: the first group runs here. Within a
  // process each collector starts its machines at a different place in the list, so the
  // collectors of one machine do not all arrive together (the first opens the shared ssh
  // connection; the others find it).
  const sources = [...new Set(jobs.map((j) => j.source))];
  const groups = Array.from({ length: Math.min(sources.length, opts.config.collect.processes) }, () => [] as Job[]);
  sources.forEach((source, k) => {
    const mine = jobs.filter((j) => j.source === source);
    const shift = Math.floor((k * mine.length) / sources.length);
    groups[k % groups.length]!.push(...mine.slice(shift), ...mine.slice(0, shift));
  });
  const [here = [], ...elsewhere] = groups;
  // The watchdog (before anything is noted in flight) allows the longest group its time, and then
  // the grace to record a child's runs.
  const longest = Math.max(0, ...groups.filter((g) => g.length).map((g) => processTimeoutMs(opts.config, g)));
  const stopWatchdog = jobs.length ? watchdog(longest + KILL_GRACE_SECONDS * 1000) : () => {};
  markInflight(opts.dataDir, jobs.map((j) => ({ run_id: j.runId, source: j.source, machine_id: j.machine.id, started_at: started.toISOString() })));
  try {
    const results = await Promise.all([runHere(opts, here), ...elsewhere.map((p) => runProcess(opts, p))]);
    // In plan order: machine by machine, collector by collector.
    const order = new Map(jobs.map((j, i) => [j.runId, i]));
    return { outcomes: results.flat().sort((a, b) => (order.get(a.run_id) ?? 0) - (order.get(b.run_id) ?? 0)), recovered };
  } finally {
    stopWatchdog();
  }
}
