// The collector contract: what a source module provides, and the harness that runs it for one
// machine, validates what it produced, appends it and records the run in `collector_runs`.
import { parseArgs } from 'node:util';
import type { z } from 'zod';
import { describeIssues, findMachine, loadConfig, machineCollectors, timeoutSeconds, type Config, type Machine } from './config.ts';
import { isCollectorName, type CollectorName } from './catalog.ts';
import { COLLECTOR_CODE } from './collectors.ts';
import { storable, MAX_LINE_BYTES, newRunId, type Envelope, type EnvelopeKind } from './envelope.ts';
import { errorMessage, UsageError } from './errors.ts';
import { execFailure, type ExecOptions, type ExecResult } from './exec.ts';
import { appendEnvelopes, loadCursor, saveCursor } from './store.ts';
import { clearInflight } from './inflight.ts';
import { succeeded, type RunStatus } from './status.ts';
import { mapLimit } from './pool.ts';
import { withMachineSlot } from './slots.ts';
import { sanitize } from './render.ts';
import { sshFailure } from './ssh.ts';
import { targetFor, type Target } from './target.ts';

export interface Item {
  data: unknown;
  key?: string;
  kind?: EnvelopeKind;
  raw?: unknown;
}

export interface CollectContext {
  machine: Machine;
  target: Target;
  config: Config;
  runId: string;
  /** The cursor saved by the previous successful run, or null. */
  cursor: unknown;
  limits: Pick<ExecOptions, 'timeoutMs' | 'maxBytes'>;
  warn(message: string): void;
  /** Runs a script on the target; throws with a clear reason if it fails, times out or floods. */
  run(what: string, script: string): Promise<ExecResult>;
  /**
   * Stores items now and then saves the cursor that covers them, so a long catch-up keeps what it
   * has read if it is stopped later. What collect() returns is committed the same way at the end.
   */
  commit(items: Item[], cursor?: unknown): Promise<void>;
  /** Milliseconds left before this run's timeout: a collector that loops stops well before 0. */
  timeLeftMs(): number;
}

export interface CollectOutput {
  items: Item[];
  cursor?: unknown;
  /**
   * Set when what the collector reads is not on the machine (the tool is not installed, its store
   * does not exist): why, in a few words. The run is recorded `absent`, a success with nothing to collect.
   */
  absent?: string;
}

/** A collector's code; its description, interval and timeout defaults live in lib/catalog.ts. */
export interface CollectorDef {
  name: CollectorName;
  /** Bumped on any change of behaviour; stored on every line. */
  version: string;
  /** Bumped when the shape of `data` changes; the SQL reads by it. */
  schemaVersion: number;
  schema: z.ZodType;
  collect(ctx: CollectContext): Promise<CollectOutput>;
}

export type { RunStatus } from './status.ts';

/** The `data` of a `collector_runs` line. */
export interface RunRecord {
  source: string;
  started_at: string;
  ended_at: string;
  duration_ms: number;
  bytes: number;
  rows: number;
  status: RunStatus;
  error: string | null;
  warnings: string[];
  cursor: unknown;
}

export const RUNS_SOURCE = 'collector_runs';
export const RUNS_VERSION = '1.0.0';
const MAX_WARNINGS = 20;

export function runEnvelope(machineId: string, runId: string, record: RunRecord): Envelope {
  // Error text can carry a source's strings: keep them readable to DuckDB (see storable()).
  const data = { ...record, error: record.error?.toWellFormed() ?? null, warnings: record.warnings.map((w) => w.toWellFormed()) };
  return {
    v: 1, source: RUNS_SOURCE, machine_id: machineId, collected_at: record.ended_at, run_id: runId,
    collector_version: RUNS_VERSION, schema_version: 1, kind: 'event', key: runId, data,
  };
}

export interface RunOutcome extends RunRecord {
  run_id: string;
  machine_id: string;
}

/**
 * Records a run that never got to collect (no slot, machine unreachable, process killed) and
 * returns its outcome. If even the record cannot be stored, the outcome says so.
 */
export async function recordFailedRun(dataDir: string, machineId: string, source: string, runId: string, started: Date,
  status: RunStatus, error: string): Promise<RunOutcome> {
  const ended = new Date();
  const record: RunRecord = {
    source, started_at: started.toISOString(), ended_at: ended.toISOString(), duration_ms: ended.getTime() - started.getTime(),
    bytes: 0, rows: 0, status, error, warnings: [], cursor: null,
  };
  const outcome: RunOutcome = { ...record, run_id: runId, machine_id: machineId };
  try {
    await appendEnvelopes(dataDir, [runEnvelope(machineId, runId, record)]);
    clearInflight(dataDir, runId);
  } catch (err) {
    outcome.error = `${error}; and the run could not be recorded: ${errorMessage(err)}`;
  }
  return outcome;
}

/**
 * Runs one collector for one machine and records the run. Never throws for source trouble. The
 * run has its collector's timeout in all: at the deadline it is given up (recorded as a timeout),
 * its command killed and any later store or command of it refused, so a run that hangs (a script,
 * a lock that never comes) costs the other collectors of the process nothing.
 */
export async function runCollector(def: CollectorDef, opts: {
  config: Config; dataDir: string; machine: Machine; runId?: string;
}): Promise<RunOutcome> {
  const runId = opts.runId ?? newRunId();
  const started = new Date();
  const warnings: string[] = [];
  const limits = { timeoutMs: timeoutSeconds(opts.config, def.name) * 1000, maxBytes: opts.config.collect.max_output_bytes };
  const timeLeftMs = () => limits.timeoutMs - (Date.now() - started.getTime());
  const stop = new AbortController();
  let bytes = 0;
  let rows = 0;
  let status: RunStatus = 'ok';
  let error: string | null = null;
  let cursor: unknown = null;
  const collectedAt = started.toISOString();
  const givenUp = () => new Error(`${def.name} was given up at its ${limits.timeoutMs / 1000}s timeout`);
  const commit = async (items: Item[], next: unknown) => {
    if (stop.signal.aborted) throw givenUp();
    const envelopes = items.map((item, i): Envelope => {
      const parsed = def.schema.safeParse(item.data);
      if (!parsed.success) {
        throw new Error(`${def.name} produced an item of the wrong shape (item ${i}): ${describeIssues(parsed.error.issues).split('\n').slice(0, 3).join('; ')}`);
      }
      const env: Envelope = {
        v: 1, source: def.name, machine_id: opts.machine.id, collected_at: collectedAt, run_id: runId,
        collector_version: def.version, schema_version: def.schemaVersion, kind: item.kind ?? 'snapshot',
        ...(item.key !== undefined ? { key: item.key.toWellFormed() } : {}), data: storable(parsed.data),
        ...(item.raw !== undefined ? { raw: item.raw } : {}),
      };
      const size = Buffer.byteLength(JSON.stringify(env));
      if (size > MAX_LINE_BYTES) throw new Error(`${def.name} produced a ${size}-byte item (item ${i}), over the ${MAX_LINE_BYTES}-byte line limit`);
      return env;
    });
    const appended = await appendEnvelopes(opts.dataDir, envelopes, stop.signal);
    if (appended.repairedBytes > 0) warnings.push(`cut ${appended.repairedBytes} bytes of a partial line left by an interrupted writer`);
    rows += envelopes.length;
    // Invariant 2: the cursor moves only once the data it covers is on disk.
    if (next !== undefined) {
      saveCursor(opts.dataDir, opts.machine.id, def.name, next);
      cursor = next;
    }
  };
  const work = (async () => {
    const target = targetFor(opts.machine, opts.config);
    const ctx: CollectContext = {
      machine: opts.machine, target, config: opts.config, runId, limits,
      cursor: loadCursor(opts.dataDir, opts.machine.id, def.name),
      warn: (m) => { if (warnings.length < MAX_WARNINGS) warnings.push(m); },
      commit,
      timeLeftMs,
      async run(what, script) {
        if (stop.signal.aborted) throw givenUp();
        const r = await target.runScript(script, { ...limits, timeoutMs: Math.max(1, timeLeftMs()), signal: stop.signal });
        bytes += r.bytes;
        // ssh's own failure (exit 255): the machine was not reached (in ssh's words), or the
        // connection broke once the script ran there, which is an error of this run.
        const ssh = target.describe.startsWith('ssh') ? sshFailure(r) : null;
        if (ssh?.unreachable) {
          status = 'unreachable';
          throw new Error(`machine unreachable: ${sanitize(ssh.reason)}`);
        }
        if (ssh) throw new Error(`${what} on ${target.describe}: ${sanitize(ssh.reason)}`);
        const failure = execFailure(`${what} on ${target.describe}`, r, limits);
        if (failure) {
          if (r.timedOut) status = 'timeout';
          throw new Error(failure);
        }
        return r;
      },
    };
    const out = await def.collect(ctx);
    await commit(out.items, out.cursor);
    if (out.absent !== undefined) {
      status = 'absent';
      warnings.unshift(out.absent);
    }
  })();
  let deadline: NodeJS.Timeout | undefined;
  const timedOut = new Promise<'timeout'>((resolve) => { deadline = setTimeout(() => resolve('timeout'), Math.max(0, timeLeftMs())); });
  try {
    if (await Promise.race([work.then(() => 'done' as const), timedOut]) === 'timeout') {
      stop.abort();
      status = 'timeout';
      error = `${def.name} timed out after ${limits.timeoutMs / 1000}s and was given up`;
      work.catch(() => { /* its later failures belong to a run already recorded */ });
    }
  } catch (err) {
    if (status === 'ok') status = 'error';
    error = errorMessage(err);
  } finally {
    clearTimeout(deadline);
  }
  const ended = new Date();
  const record: RunRecord = {
    source: def.name, started_at: started.toISOString(), ended_at: ended.toISOString(),
    duration_ms: ended.getTime() - started.getTime(), bytes, rows, status, error, warnings, cursor: cursorSummary(cursor),
  };
  await appendEnvelopes(opts.dataDir, [runEnvelope(opts.machine.id, runId, record)]);
  clearInflight(opts.dataDir, runId);
  return { ...record, run_id: runId, machine_id: opts.machine.id };
}

/**
 * What a run record keeps of its cursor: a small cursor as it is; a per-file map (a log reader's,
 * with thousands of files) as a count and the bytes consumed, so a run line stays small. The
 * cursor itself is in state/cursors.
 */
export function cursorSummary(cursor: unknown): unknown {
  if (cursor === null || typeof cursor !== 'object' || JSON.stringify(cursor).length <= 1024) return cursor;
  const values = Object.values(cursor as Record<string, unknown>);
  const offsets = values.map((v) => (v !== null && typeof v === 'object' ? (v as { offset?: unknown }).offset : undefined));
  return {
    entries: values.length,
    ...(offsets.every((o) => typeof o === 'number') ? { offset_total: offsets.reduce((a: number, b) => a + (b as number), 0) } : {}),
  };
}

/**
 * Runs one collector for several machines: at most `machines_in_flight` at once, and each inside
 * one of its machine's slots (at most `collectors_per_machine` collectors per machine across all
 * processes). Every outcome is recorded; `onOutcome` sees each as it ends.
 */
export async function runForMachines(def: CollectorDef, opts: {
  config: Config; dataDir: string; machines: Array<{ machine: Machine; runId?: string }>; onOutcome?: (o: RunOutcome) => void;
}): Promise<RunOutcome[]> {
  const { config, dataDir } = opts;
  const waitMs = timeoutSeconds(config, def.name) * 1000;
  return mapLimit(opts.machines, config.collect.machines_in_flight, async ({ machine, runId }) => {
    let outcome: RunOutcome;
    try {
      outcome = await withMachineSlot(dataDir, machine.id, config.collect.collectors_per_machine, waitMs,
        () => runCollector(def, { config, dataDir, machine, runId }));
    } catch (err) {
      // No slot came free: still one recorded, failed run for this machine.
      outcome = await recordFailedRun(dataDir, machine.id, def.name, runId ?? newRunId(), new Date(), 'error', errorMessage(err));
    }
    opts.onOutcome?.(outcome);
    return outcome;
  });
}

/** A job of a collector process: run `def` on these machines (each with its run id, if given). */
interface JobGroup { def: CollectorDef; machines: Array<{ machine: Machine; runId?: string }> }

/** Runs the groups at once, printing one JSON line per run as it ends; exits 0 if all were ok, else 1. */
async function runGroups(groups: JobGroup[], config: Config, dataDir: string): Promise<never> {
  const onOutcome = (o: RunOutcome) => process.stdout.write(`${JSON.stringify(o)}\n`);
  const outcomes = (await Promise.all(groups.map((g) => runForMachines(g.def, { config, dataDir, machines: g.machines, onOutcome })))).flat();
  process.exit(outcomes.every((o) => succeeded(o.status)) ? 0 : 1);
}

function fail(what: string, err: unknown): never {
  process.stderr.write(`${what}: ${errorMessage(err)}\n`);
  process.exit(err instanceof UsageError || (err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS') ? 2 : 1);
}

const RUN_ID = /^[A-Za-z0-9._-]{1,64}$/;

/**
 * Entry point of a standalone collector script: `tsx collect/<name>.ts [--machine ID [--run-id R]]...
 * [--config FILE]`. Without --machine, every configured machine this collector runs on. Prints one
 * JSON line per run as it ends; exits 0 if every run succeeded, 1 if one failed, 2 on bad usage.
 */
export async function collectorMain(def: CollectorDef, argv = process.argv.slice(2)): Promise<never> {
  try {
    const { values } = parseArgs({
      args: argv,
      options: {
        machine: { type: 'string', multiple: true },
        'run-id': { type: 'string', multiple: true },
        config: { type: 'string' },
      },
      strict: true,
    });
    const { config, dataDir } = loadConfig(values.config);
    const ids = values.machine ?? [];
    const runIds = values['run-id'] ?? [];
    if (runIds.length && runIds.length !== ids.length) throw new UsageError('give one --run-id per --machine, in the same order');
    for (const r of runIds) if (!RUN_ID.test(r)) throw new UsageError(`--run-id "${r}" must be 1-64 plain characters`);
    const machines = ids.length
      ? ids.map((id, i) => ({ machine: findMachine(config, id), runId: runIds[i] }))
      : config.machines.filter((m) => machineCollectors(config, m).includes(def.name)).map((machine) => ({ machine }));
    return await runGroups([{ def, machines }], config, dataDir);
  } catch (err) {
    return fail(`vc collect/${def.name}`, err);
  }
}

/**
 * Entry point of lib/collect-host.ts, the process `vc collect` runs collectors in:
 * `--job SOURCE:MACHINE:RUN_ID` (repeated) `[--config FILE]`. Output and exit codes as collectorMain's.
 */
export async function hostMain(argv = process.argv.slice(2)): Promise<never> {
  try {
    const { values } = parseArgs({ args: argv, options: { job: { type: 'string', multiple: true }, config: { type: 'string' } }, strict: true });
    const { config, dataDir } = loadConfig(values.config);
    const bySource = new Map<CollectorName, JobGroup['machines']>();
    for (const job of values.job ?? []) {
      const [source, machineId, runId, ...rest] = job.split(':');
      if (!source || !machineId || !runId || rest.length || !isCollectorName(source) || !RUN_ID.test(runId)) {
        throw new UsageError(`--job "${job}" must be SOURCE:MACHINE:RUN_ID with a known collector and a plain run id`);
      }
      bySource.set(source, [...(bySource.get(source) ?? []), { machine: findMachine(config, machineId), runId }]);
    }
    const groups = await Promise.all([...bySource].map(async ([source, machines]) => ({ def: await COLLECTOR_CODE[source](), machines })));
    return await runGroups(groups, config, dataDir);
  } catch (err) {
    return fail('vc collect (collector process)', err);
  }
}
