// afsc (automated_flywheel_setup_checker): the latest run of its installer checks, from
// `automated_flywheel_setup_checker --format jsonl status` (see ../shared/upstream/afsc.md): one
// line per installer (passed, failed, timedout, skipped, with afsc's classification of the error)
// and a summary line carrying the run id. The binary has the long name (there is no `afsc`
// program); it logs to stdout unless RUST_LOG=off, which vc sets, and "jsonl" can still be a
// pretty multi-line object (no runs yet), so stdout is read as concatenated JSON, skipping
// anything else. `status` only reads afsc's newest results file: it runs nothing.
//
// Stored (kind snapshot), one item each: a `run` (the summary, or `no_runs`, or the error afsc
// exited with) and a `result` per installer, keyed by run id and installer. afsc is young and has
// no schema version: a line with keys vc does not read is kept whole as `raw`.
import { z } from 'zod';
import type { CollectorDef, Item } from '../collector.ts';
import { excerpt, isoTime, jsonObjects, runTool, validate, type StepResult } from './toolrun.ts';

const count = z.number().int().nonnegative();
const text = z.string().nullable();

export const afscSchema = z.strictObject({
  type: z.enum(['run', 'result']),
  /** afsc's run UUID (from its summary line); NULL when afsc printed no summary. Not vc's run_id. */
  afsc_run_id: text,
  /** run: afsc has recorded no run on this machine yet. */
  no_runs: z.boolean().nullable(),
  /** run: afsc's exit status, and its `Error: ...` message when it failed (unreadable results, bad config). */
  exit_code: z.number().int().nullable(),
  error: text,
  total: count.nullable(),
  passed: count.nullable(),
  /** Failed and timed out. */
  failed: count.nullable(),
  skipped: count.nullable(),
  /** The sum of the installers' durations (not wall time when afsc ran them in parallel). */
  duration_total_ms: count.nullable(),
  started_at: z.iso.datetime().nullable(),
  ended_at: z.iso.datetime().nullable(),
  /** result: the installer (a key of afsc's checksums.yaml) and how its check ended. */
  installer: text,
  /** passed, failed, timedout, skipped (lower case, as afsc prints it). */
  status: text,
  duration_ms: count.nullable(),
  /** The installer's exit code; NULL when it never exited (timeout, container error). */
  installer_exit_code: z.number().int().nullable(),
  finished_at: z.iso.datetime().nullable(),
  /** afsc's classification of the failure: category (network, checksum_mismatch, ...), severity (PascalCase), retryable, confidence 0-1. */
  error_category: text,
  error_severity: text,
  retryable: z.boolean().nullable(),
  confidence: z.number().min(0).max(1).nullable(),
  stderr_excerpt: text,
  retry_count: count.nullable(),
  /** true only when a checksum was checked and matched. */
  sha256_verified: z.boolean().nullable(),
});

export type AfscItem = z.infer<typeof afscSchema>;

// afsc's lines, as the doc describes them: the fields vc reads, others allowed. The crate is young
// (0.1.0) and changing fast: all but the names that tell the lines apart are optional.
const n = z.number();
const resultLine = z.looseObject({
  installer_name: z.string(),
  status: z.string(),
  timestamp: z.string().optional(),
  duration_ms: n.optional(),
  exit_code: z.number().int().nullable().optional(),
  error_classification: z.looseObject({
    category: z.string().optional(), severity: z.string().optional(), retryable: z.boolean().optional(), confidence: n.optional(),
  }).nullable().optional(),
  stderr_excerpt: z.string().optional(),
  retry_count: n.optional(),
  sha256_verified: z.boolean().optional(),
});
const summaryLine = z.looseObject({
  run_id: z.string(),
  total: n.optional(), passed: n.optional(), failed: n.optional(), skipped: n.optional(), duration_total_ms: n.optional(),
  timestamp_start: z.string().optional(), timestamp_end: z.string().optional(),
});

const BLANK: Omit<AfscItem, 'type'> = {
  afsc_run_id: null, no_runs: null, exit_code: null, error: null, total: null, passed: null, failed: null, skipped: null,
  duration_total_ms: null, started_at: null, ended_at: null, installer: null, status: null, duration_ms: null,
  installer_exit_code: null, finished_at: null, error_category: null, error_severity: null, retryable: null,
  confidence: null, stderr_excerpt: null, retry_count: null, sha256_verified: null,
};

const RESULT_KEYS = new Set(['timestamp', 'installer_name', 'status', 'duration_ms', 'exit_code', 'error_classification', 'stderr_excerpt', 'retry_count', 'sha256_verified']);
const SUMMARY_KEYS = new Set(['run_id', 'total', 'passed', 'failed', 'skipped', 'duration_total_ms', 'timestamp_start', 'timestamp_end']);
const CLASSIFICATION_KEYS = new Set(['category', 'severity', 'retryable', 'confidence']);
/** The line itself, where it has keys vc does not read (a newer afsc): kept as raw, so nothing is lost. */
const rawIfNew = (line: Record<string, unknown>, known: Set<string>, nested?: Record<string, unknown> | null) =>
  Object.keys(line).some((k) => !known.has(k)) || (nested && Object.keys(nested).some((k) => !CLASSIFICATION_KEYS.has(k))) ? { raw: line } : {};

const whole = (v: number | undefined): number | null => (v !== undefined && Number.isSafeInteger(v) && v >= 0 ? v : null);

function resultItem(r: z.infer<typeof resultLine>, runId: string | null): Item {
  const c = r.error_classification;
  return {
    ...rawIfNew(r, RESULT_KEYS, c),
    key: `${runId ?? 'no-run-id'}:${r.installer_name}`,
    data: {
      ...BLANK, type: 'result', afsc_run_id: runId, installer: r.installer_name.slice(0, 200), status: r.status.toLowerCase().slice(0, 40),
      duration_ms: whole(r.duration_ms), installer_exit_code: r.exit_code ?? null, finished_at: isoTime(r.timestamp),
      error_category: c?.category?.slice(0, 80) ?? null, error_severity: c?.severity?.slice(0, 40) ?? null,
      retryable: c?.retryable ?? null,
      confidence: c?.confidence !== undefined && c.confidence >= 0 && c.confidence <= 1 ? c.confidence : null,
      stderr_excerpt: r.stderr_excerpt?.slice(0, 1000) ?? null, retry_count: whole(r.retry_count), sha256_verified: r.sha256_verified ?? null,
    },
  };
}

/** Items from the status step's stdout, stderr and exit status (see the module comment), with warnings. */
export function afscItems(step: StepResult, what = 'automated_flywheel_setup_checker --format jsonl status'): { items: Item[]; warnings: string[] } {
  if (step.rc === 124) throw new Error(`${what} did not answer in time and was stopped`);
  const err = step.stderr.trim();
  const { objects, skipped } = jsonObjects(step.stdout);
  if (step.rc !== 0) {
    // afsc's own errors (anyhow): exit 1, nothing on stdout, "Error: <message>" on stderr. That is
    // the state of afsc on this machine (its results cannot be read), so it is stored.
    const m = /^Error: (.+)$/ms.exec(err);
    if (step.rc === 1 && objects.length === 0 && m) {
      return { items: [{ data: { ...BLANK, type: 'run', exit_code: 1, error: m[1]!.trim().slice(0, 2000) } }], warnings: [] };
    }
    throw new Error(`${what} exited ${step.rc ?? '(killed)'}${err ? `: ${excerpt(err.split('\n').slice(-2).join(' '))}` : ''}`);
  }
  const noRuns = objects.find((o) => o.status === 'no_runs' && o.installer_name === undefined);
  if (noRuns) return { items: [{ data: { ...BLANK, type: 'run', exit_code: 0, no_runs: true } }], warnings: [] };
  const summaries = objects.filter((o) => 'run_id' in o);
  const results = objects.filter((o) => 'installer_name' in o);
  if (summaries.length === 0 && results.length === 0) {
    throw new Error(objects.length === 0
      ? `${what} printed no JSON${step.stdout.trim() ? `: ${excerpt(step.stdout)}` : ''}`
      : `${what} printed JSON of an unexpected shape (no installer results, no run summary): ${excerpt(JSON.stringify(objects[0]))}`);
  }
  const warnings: string[] = [];
  const other = objects.length - summaries.length - results.length;
  if (skipped + other > 0) warnings.push(`${what}: skipped ${skipped + other} line(s) that are not its results (log lines?)`);
  if (summaries.length > 1) throw new Error(`${what} printed ${summaries.length} run summaries; status shows one run`);
  const s = summaries[0] === undefined ? null : validate(summaryLine, summaries[0], what);
  const runId = s ? s.run_id.slice(0, 80) : null;
  const items: Item[] = [{
    ...(runId ? { key: runId } : {}),
    ...(s ? rawIfNew(s, SUMMARY_KEYS) : {}),
    data: {
      ...BLANK, type: 'run', afsc_run_id: runId, exit_code: 0, no_runs: false,
      total: whole(s?.total), passed: whole(s?.passed), failed: whole(s?.failed), skipped: whole(s?.skipped),
      duration_total_ms: whole(s?.duration_total_ms), started_at: isoTime(s?.timestamp_start), ended_at: isoTime(s?.timestamp_end),
    },
  }];
  for (const r of results) items.push(resultItem(validate(resultLine, r, what), runId));
  return { items, warnings };
}

export const afscCollector: CollectorDef = {
  name: 'afsc',
  version: '1.0.0',
  schemaVersion: 1,
  schema: afscSchema,
  async collect(ctx) {
    const cfg = ctx.config.collectors.afsc;
    const run = await runTool(ctx, ['automated_flywheel_setup_checker'], [{
      name: 'status',
      // Its tracing logs go to stdout: RUST_LOG=off silences them (and beats any RUST_LOG set there).
      run: 'RUST_LOG=off "$VC_TOOL" --format jsonl status',
      timeoutSeconds: cfg.step_timeout_seconds,
    }]);
    if ('absent' in run) return { items: [], absent: run.absent };
    const { items, warnings } = afscItems(run.steps.status!);
    warnings.forEach(ctx.warn);
    return { items };
  },
};
