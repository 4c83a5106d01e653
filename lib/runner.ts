// `vc collect`: runs the planned collectors in a few separate processes (lib/collect-host.ts,
// `[collect] processes` of them, 1 by default), each running several collectors at once over all
// their machines. Each run is bounded by its collector's timeout inside its process; the process
// itself has a hard timeout and an output cap here. A machine that is down, refuses the key or
// hangs costs each of its collectors their timeout, in parallel, and nobody else anything. A
// process that hangs or dies anyway is killed and its missing runs recorded here; it never stops
// the other processes. (A process per collector would isolate more, but costs most of a CPU second
// each to start, every pass.)
import fs from 'node:fs';
import path from 'node:path';
import type { CollectorName } from './catalog.ts';
import { recordFailedRun, type RunOutcome } from './collector.ts';
import { intervalSeconds, machineCollectors, timeoutSeconds, type Config, type Machine } from './config.ts';
import { newRunId } from './envelope.ts';
import { errorMessage } from './errors.ts';
import { execArgv } from './exec.ts';
import { repoRoot, stateDir } from './paths.ts';
import { mapLimit } from './pool.ts';
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

/** One collector process for some jobs; the runs it could not record are recorded here. */
async function runProcess(opts: CollectOptions, jobs: Job[]): Promise<RunOutcome[]> {
  const { config, dataDir } = opts;
  const started = new Date();
  // Its collectors run at once; each round of one collector's machines may wait a collector
  // timeout for a machine slot, then use one.
  const perSource = new Map<CollectorName, number>();
  for (const j of jobs) perSource.set(j.source, (perSource.get(j.source) ?? 0) + 1);
  const longest = Math.max(...[...perSource].map(([source, n]) => 2 * Math.ceil(n / config.collect.machines_in_flight) * timeoutSeconds(config, source)));
  const timeoutMs = (longest + KILL_GRACE_SECONDS) * 1000;
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

export async function collect(opts: CollectOptions): Promise<RunOutcome[]> {
  const jobs = planJobs(opts);
  const started = new Date();
  for (const job of jobs) {
    try {
      noteStart(opts.dataDir, job, started);
    } catch { /* bookkeeping for --due only: the run itself is recorded either way */ }
  }
  // The collectors, dealt round the processes in plan order. Within a process each collector
  // starts its machines at a different place in the list, so the collectors of one machine do not
  // all arrive together (the first opens the shared ssh connection; the others find it).
  const sources = [...new Set(jobs.map((j) => j.source))];
  const processes = Array.from({ length: Math.min(sources.length, opts.config.collect.processes) }, () => [] as Job[]);
  sources.forEach((source, k) => {
    const mine = jobs.filter((j) => j.source === source);
    const shift = Math.floor((k * mine.length) / sources.length);
    processes[k % processes.length]!.push(...mine.slice(shift), ...mine.slice(0, shift));
  });
  const results = await Promise.all(processes.map((p) => runProcess(opts, p)));
  // In plan order: machine by machine, collector by collector.
  const order = new Map(jobs.map((j, i) => [j.runId, i]));
  return results.flat().sort((a, b) => (order.get(a.run_id) ?? 0) - (order.get(b.run_id) ?? 0));
}
