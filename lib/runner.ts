// `vc collect`: runs each collector as one separate process (collect/<name>.ts) over all its
// machines, with a hard timeout and an output cap. A machine that is down, refuses the key or
// hangs costs each of its collectors their timeout, in parallel, and nobody else anything. A
// collector process that hangs or dies is killed and its missing runs recorded here; it never
// stops the others.
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

/** Parses the outcome lines a collector printed, by machine; anything else is ignored. */
function parseOutcomes(stdout: string): Map<string, RunOutcome> {
  const byMachine = new Map<string, RunOutcome>();
  for (const line of stdout.split('\n')) {
    try {
      const o = JSON.parse(line) as RunOutcome;
      if (typeof o?.machine_id === 'string' && typeof o.run_id === 'string' && typeof o.status === 'string') byMachine.set(o.machine_id, o);
    } catch { /* not an outcome line */ }
  }
  return byMachine;
}

/** One collector process over all its machines; the runs it could not record are recorded here. */
async function runSource(opts: CollectOptions, source: CollectorName, jobs: Job[]): Promise<RunOutcome[]> {
  const { config, dataDir } = opts;
  const started = new Date();
  const rounds = Math.ceil(jobs.length / config.collect.machines_in_flight);
  // Each round of machines may wait a collector timeout for a slot, then use one.
  const timeoutMs = (2 * rounds * timeoutSeconds(config, source) + KILL_GRACE_SECONDS) * 1000;
  const maxBytes = OUTPUT_CAP_PER_MACHINE * jobs.length;
  const argv = [process.execPath, '--import', tsxLoader, path.join(repoRoot, 'collect', `${source}.ts`),
    ...jobs.flatMap((j) => ['--machine', j.machine.id, '--run-id', j.runId]),
    ...(opts.configPath ? ['--config', opts.configPath] : [])];
  let outcomes = new Map<string, RunOutcome>();
  let why = '';
  try {
    const r = await execArgv(argv, { timeoutMs, maxBytes, env: { ...process.env, VC_DATA_DIR: dataDir } });
    outcomes = parseOutcomes(r.stdout);
    const stderr = sanitize(r.stderr.trim().split('\n').slice(-5).join(' | ')).slice(0, 1000);
    why = r.timedOut ? `killed after ${timeoutMs / 1000}s (collector timeout plus grace)`
      : r.overflow ? `killed: printed more than ${maxBytes} bytes`
      : `exited ${r.code ?? `on signal ${r.signal}`} without recording this run`;
    if (stderr) why += `: ${stderr}`;
  } catch (err) {
    why = `could not be started: ${errorMessage(err)}`;
  }
  return jobs.map((j) => outcomes.get(j.machine.id)
    ?? recordFailedRun(dataDir, j.machine.id, source, j.runId, started, why.startsWith('killed after') ? 'timeout' : 'killed',
      `collector ${source} ${why}`));
}

export async function collect(opts: CollectOptions): Promise<RunOutcome[]> {
  const jobs = planJobs(opts);
  const started = new Date();
  for (const job of jobs) {
    try {
      noteStart(opts.dataDir, job, started);
    } catch { /* bookkeeping for --due only: the run itself is recorded either way */ }
  }
  const bySource = new Map<CollectorName, Job[]>();
  for (const j of jobs) bySource.set(j.source, [...(bySource.get(j.source) ?? []), j]);
  // One process per collector, all at once. Each starts its machines at a different place in the
  // list, so the collectors of one machine do not all arrive together (the first opens the shared
  // ssh connection; the others find it).
  const sources = [...bySource];
  const results = await Promise.all(sources.map(([source, sourceJobs], k) => {
    const shift = Math.floor((k * sourceJobs.length) / sources.length);
    return runSource(opts, source, [...sourceJobs.slice(shift), ...sourceJobs.slice(0, shift)]);
  }));
  // In plan order: machine by machine, collector by collector.
  const order = new Map(jobs.map((j, i) => [j.runId, i]));
  return results.flat().sort((a, b) => (order.get(a.run_id) ?? 0) - (order.get(b.run_id) ?? 0));
}
