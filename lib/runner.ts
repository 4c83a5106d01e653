// `vc collect`: runs collectors as separate processes (collect/<name>.ts), with bounded
// concurrency, a hard timeout per process and a cap on what it may print. A collector that
// hangs or dies is killed and recorded here; it never stops the others.
import fs from 'node:fs';
import path from 'node:path';
import type { CollectorName } from './catalog.ts';
import { runEnvelope, type RunOutcome, type RunStatus } from './collector.ts';
import { intervalSeconds, timeoutSeconds, type Config, type Machine } from './config.ts';
import { newRunId } from './envelope.ts';
import { execArgv } from './exec.ts';
import { repoRoot, stateDir } from './paths.ts';
import { mapLimit } from './pool.ts';
import { appendEnvelopes } from './store.ts';
import { errorMessage } from './errors.ts';

/** A collector records its own run; this is how long past its timeout we wait before killing it. */
const KILL_GRACE_SECONDS = 10;
/** A collector prints one summary line; anything past this is a runaway. */
const CHILD_OUTPUT_CAP = 1024 * 1024;
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

function noteStart(dataDir: string, machineId: string, source: string, at: Date, runId: string): void {
  const file = lastStartFile(dataDir, machineId, source);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  // A temp name of its own: a cron pass and a manual one may note the same job at once.
  const tmp = `${file}.${process.pid}.${runId}.tmp`;
  fs.writeFileSync(tmp, JSON.stringify({ started_at: at.toISOString() }));
  fs.renameSync(tmp, file);
}

/** The jobs to run: every enabled collector for every planned machine, minus those not yet due. */
export function planJobs(opts: CollectOptions, now = new Date()): Array<{ machine: Machine; source: CollectorName }> {
  const jobs: Array<{ machine: Machine; source: CollectorName }> = [];
  for (const machine of opts.plan.machines) {
    for (const source of opts.plan.sources) {
      if (!opts.config.collectors[source].enabled) continue;
      if (opts.due) {
        const last = lastStart(opts.dataDir, machine.id, source);
        if (last !== null && now.getTime() - last < (intervalSeconds(opts.config, source) - DUE_SLACK_SECONDS) * 1000) continue;
      }
      jobs.push({ machine, source });
    }
  }
  return jobs;
}

/** Reads the outcome line a collector prints last; null if it never got that far. */
function parseOutcome(stdout: string): RunOutcome | null {
  const last = stdout.trim().split('\n').pop();
  if (!last) return null;
  try {
    const o = JSON.parse(last) as RunOutcome;
    return typeof o.run_id === 'string' && typeof o.status === 'string' ? o : null;
  } catch {
    return null;
  }
}

/** Records a run the collector could not record itself, and returns its outcome. */
function recordHere(opts: CollectOptions, machine: Machine, source: CollectorName, runId: string, started: Date,
  status: RunStatus, error: string): RunOutcome {
  const ended = new Date();
  const record = {
    source, started_at: started.toISOString(), ended_at: ended.toISOString(), duration_ms: ended.getTime() - started.getTime(),
    bytes: 0, rows: 0, status, error, warnings: [], cursor: null,
  };
  const outcome = { ...record, run_id: runId, machine_id: machine.id };
  try {
    appendEnvelopes(opts.dataDir, [runEnvelope(machine.id, runId, record)]);
  } catch (err) {
    outcome.error = `${error}; and the run could not be recorded: ${errorMessage(err)}`;
  }
  return outcome;
}

async function runJob(opts: CollectOptions, machine: Machine, source: CollectorName): Promise<RunOutcome> {
  const runId = newRunId();
  const started = new Date();
  try {
    noteStart(opts.dataDir, machine.id, source, started, runId);
    const timeoutMs = (timeoutSeconds(opts.config, source) + KILL_GRACE_SECONDS) * 1000;
    const argv = [process.execPath, '--import', tsxLoader, path.join(repoRoot, 'collect', `${source}.ts`),
      '--machine', machine.id, '--run-id', runId, ...(opts.configPath ? ['--config', opts.configPath] : [])];
    const r = await execArgv(argv, { timeoutMs, maxBytes: CHILD_OUTPUT_CAP, env: { ...process.env, VC_DATA_DIR: opts.dataDir } });
    const outcome = parseOutcome(r.stdout);
    if (outcome && !r.timedOut && !r.overflow) return outcome;

    // The collector died before recording its run: record it here, with what it said on stderr.
    const why = r.timedOut ? `killed after ${timeoutMs / 1000}s (collector timeout plus grace)`
      : r.overflow ? `killed: printed more than ${CHILD_OUTPUT_CAP} bytes`
      : `exited ${r.code ?? `on signal ${r.signal}`} without recording its run`;
    const stderr = r.stderr.trim().split('\n').slice(-5).join(' | ').slice(0, 1000);
    return recordHere(opts, machine, source, runId, started, r.timedOut ? 'timeout' : 'killed',
      `collector ${source} ${why}${stderr ? `: ${stderr}` : ''}`);
  } catch (err) {
    // vc's own bookkeeping failed (state dir unwritable, ...): one failed job, never a failed pass.
    return recordHere(opts, machine, source, runId, started, 'error', `could not run collector ${source}: ${errorMessage(err)}`);
  }
}

export async function collect(opts: CollectOptions): Promise<RunOutcome[]> {
  const jobs = planJobs(opts);
  return mapLimit(jobs, opts.config.collect.concurrency, ({ machine, source }) => runJob(opts, machine, source));
}

