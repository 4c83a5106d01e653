// rch (remote_compilation_helper): its daemon, workers, queue, builds and alerts from
// `rch status --format json`, the builds rchd keeps in its history file (tailed), and rchd's
// Prometheus /metrics where a URL is configured (../shared/upstream/rch.md).
//
// Stored per run (snapshots): a `run` row (rch's exit status, its error envelope when the daemon
// did not answer, the daemon's pid/version/uptime, worker and slot counts, its build stats, queue
// depth, active builds, the metrics scrape's outcome, the history file read), a row per `worker`,
// `active_build`, `queued_build`, `issue`, `alert` (rchd's) and `hint` (the CLI's remediation
// hints), and a `metric` row per Prometheus sample. Completed builds are events (`build`), keyed
// by rchd's build id so the status's recent_builds and the history file's lines of the same build
// are one build: rchd writes the same BuildRecord to both.
//
// Traps (rch.md): since rch 1.0.11 the daemon's payload is nested (data.daemon.daemon.pid) beside
// posture and hints; before it, data was the daemon's payload. rchd's build ids are epoch seconds
// << 24, beyond 2^53: they are read exactly, as strings. Several metric families are registered
// but never updated (NEVER_UPDATED): they are not stored. rch finds rchd's socket through
// XDG_RUNTIME_DIR, which cron does not set: the step sets it the way a login would.
import path from 'node:path';
import { z } from 'zod';
import type { CollectContext, CollectorDef, Item } from '../collector.ts';
import { shQuote } from '../shell.ts';
import type { TailCursors, TailFile } from '../tail.ts';
import { parseObject, tailLogs } from './logtail.ts';
import { parsePrometheusText } from './prometheus.ts';
import { excerpt, isoTime, parseJson, quoteBigIntegers, runTool, validate, type StepResult, type ToolStep } from './toolrun.ts';

const int = z.number().int().nullable();
const num = z.number().finite().nullable();
const text = z.string().nullable();
const time = z.iso.datetime().nullable();
const flag = z.boolean().nullable();

export const rchSchema = z.strictObject({
  type: z.enum(['run', 'worker', 'active_build', 'queued_build', 'build', 'issue', 'alert', 'hint', 'metric']),
  /** run: rch's exit status (1 when the daemon did not answer); build: the build's exit code. */
  exit_code: int,
  /** run: the envelope's api_version, and data.schema_version (NULL: rch before 1.0.11, unnested payload). */
  api_version: text,
  status_schema: text,
  /** run: remote_ready, degraded or local_only (rch >= 1.0.11). */
  posture: text,
  posture_description: text,
  /** run: rch's error envelope (daemon down: RCH-E504 with the socket in details). */
  error_code: text,
  error_category: text,
  /** run: the error's message; issue, alert, hint: their text. */
  message: text,
  details: text,
  daemon_pid: int,
  daemon_version: text,
  daemon_uptime_secs: int,
  daemon_started_at: time,
  socket_path: text,
  workers_total: int,
  workers_healthy: int,
  slots_total: int,
  slots_available: int,
  /** run: rchd's stats over the builds it remembers (a ring buffer, 100 by default). */
  builds_total: int,
  builds_succeeded: int,
  builds_failed: int,
  builds_remote: int,
  builds_local: int,
  avg_duration_ms: int,
  /** run: how many builds were queued and active at the time. */
  queue_depth: int,
  active_count: int,
  /** run: rchd's remediation summary (healthy, normal_fail_open, self_healing_in_progress, operator_action_required). */
  remediation_overall: text,
  convergence_status: text,
  /** run: the /metrics URL scraped, why it could not be (the endpoint's failure is data), samples kept and left out. */
  metrics_url: text,
  metrics_error: text,
  metrics_samples: int,
  metrics_ignored: int,
  /** run: rchd's build history file read this run (rchd --history-file), or NULL. */
  history_file: text,
  worker_id: text,
  host: text,
  user: text,
  /** worker: healthy, degraded, unreachable, draining, drained, disabled. */
  status: text,
  /** worker: closed, open, half_open. */
  circuit_state: text,
  used_slots: int,
  total_slots: int,
  speed_score: num,
  last_error: text,
  consecutive_failures: int,
  recovery_in_secs: int,
  /** worker: recent health checks (failure_history) and how many of them failed. */
  checks_recent: int,
  checks_failed: int,
  /** worker: healthy, warning, critical, telemetry_gap. */
  pressure_state: text,
  pressure_reason_code: text,
  pressure_disk_free_gb: num,
  pressure_disk_free_ratio: num,
  pressure_telemetry_fresh: flag,
  /** worker: the quarantine's reason code (RCH-Innn) when rchd bypasses it. */
  bypass_reason_code: text,
  /** Builds: rchd's id, exact, as digits (queued_build: its queue id). */
  build_id: text,
  project_id: text,
  command: text,
  started_at: time,
  completed_at: time,
  duration_ms: int,
  /** build: local or remote. */
  location: text,
  bytes_transferred: int,
  cancelled: flag,
  cancel_reason: text,
  /** active_build: sync_up, execute, sync_down, finalize; ages in seconds; rchd's stuck detector. */
  heartbeat_phase: text,
  heartbeat_age_secs: int,
  progress_age_secs: int,
  heartbeat_stale: flag,
  progress_stale: flag,
  /** active_build: slots held; queued_build: slots needed. */
  slots: int,
  queued_at: time,
  queue_position: int,
  estimated_start: time,
  wait_time: text,
  /** build: where it was read, `status` (recent_builds) or `history` (the history file). */
  origin: text,
  /** issue: error, warning; alert: info..critical; hint: critical, warning, info. */
  severity: text,
  /** issue: its remediation; hint: its suggested_action (a command rch suggests, shown, never run). */
  action: text,
  reason_code: text,
  alert_id: text,
  /** alert: worker_offline, worker_degraded, circuit_open, all_workers_offline. */
  kind: text,
  first_seen: time,
  last_seen: time,
  cleared_at: time,
  /** alert: active, cleared_pending_clean. */
  state: text,
  /** metric: the sample's name, its family's TYPE, labels and value (NULL for NaN and infinities). */
  metric: text,
  metric_type: text,
  labels: z.record(z.string(), z.string()).nullable(),
  value: num,
});

export type RchItem = z.infer<typeof rchSchema>;
const BLANK = Object.fromEntries(Object.keys(rchSchema.shape).filter((k) => k !== 'type').map((k) => [k, null])) as Omit<RchItem, 'type'>;

// ---- rch status --format json (rch.md §2) -------------------------------------------------------

/** A u64 rch prints: a number, or (beyond 2^53, after quoteBigIntegers) a string of digits. */
const id = z.union([z.number().int().nonnegative(), z.string().regex(/^\d{1,20}$/)]).transform(String);
const big = z.union([z.number().int(), z.string().regex(/^\d{1,20}$/)]).transform(Number);
const str = z.string().nullish();
const float = z.number().nullish();

const daemonInfo = z.looseObject({
  pid: big.nullish(), uptime_secs: big.nullish(), version: str, socket_path: str, started_at: str,
  workers_total: big.nullish(), workers_healthy: big.nullish(), slots_total: big.nullish(), slots_available: big.nullish(),
});
const workerSchema = z.looseObject({
  id: z.string(), host: str, user: str, status: z.string(), circuit_state: str,
  used_slots: big.nullish(), total_slots: big.nullish(), speed_score: float, last_error: str,
  consecutive_failures: big.nullish(), recovery_in_secs: big.nullish(), failure_history: z.array(z.boolean()).nullish(),
  pressure_state: str, pressure_reason_code: str, pressure_disk_free_gb: float, pressure_disk_free_ratio: float,
  pressure_telemetry_fresh: z.boolean().nullish(), bypass: z.looseObject({ reason_code: str }).nullish(),
});
const activeSchema = z.looseObject({
  id, project_id: str, worker_id: str, command: str, started_at: str, heartbeat_age_secs: big.nullish(),
  progress_age_secs: big.nullish(), heartbeat_phase: str, slots: big.nullish(),
  detector_heartbeat_stale: z.boolean().nullish(), detector_progress_stale: z.boolean().nullish(),
});
const queuedSchema = z.looseObject({
  id, project_id: str, command: str, queued_at: str, position: big.nullish(), slots_needed: big.nullish(),
  estimated_start: str, wait_time: str,
});
/** rchd's BuildRecord: recent_builds[] and each line of its history file. */
const buildSchema = z.looseObject({
  id, started_at: z.string(), completed_at: z.string(), project_id: z.string(), worker_id: str, command: z.string(),
  exit_code: z.number().int(), duration_ms: big, location: str, bytes_transferred: big.nullish(),
  cancellation: z.looseObject({ reason_code: str }).nullish(),
});
const daemonResponse = z.looseObject({
  daemon: daemonInfo,
  workers: z.array(workerSchema),
  active_builds: z.array(activeSchema).nullish(),
  queued_builds: z.array(queuedSchema).nullish(),
  recent_builds: z.array(buildSchema).nullish(),
  issues: z.array(z.looseObject({ severity: z.string(), summary: z.string(), remediation: str })).nullish(),
  alerts: z.array(z.looseObject({
    id: z.union([z.string(), z.number()]).transform(String), kind: z.string(), severity: z.string(), message: str,
    worker_id: str, first_seen: str, last_seen: str, cleared_at: str, state: str,
  })).nullish(),
  stats: z.looseObject({
    total_builds: big, success_count: big, failure_count: big, remote_count: big, local_count: big, avg_duration_ms: big.nullish(),
  }).nullish(),
  remediation: z.looseObject({ overall: str }).nullish(),
});
/** CliStatusResponse (rch >= 1.0.11): the daemon's payload one level down, beside posture and hints. */
const cliStatus = z.looseObject({
  schema_version: z.string(),
  posture: str,
  posture_description: str,
  daemon: daemonResponse,
  convergence: z.looseObject({ status: str }).nullish(),
  remediation_hints: z.array(z.looseObject({
    reason_code: z.string(), severity: z.string(), message: str, suggested_action: str, worker_id: str,
  })).nullish(),
});
const envelopeSchema = z.looseObject({
  api_version: str,
  command: str,
  success: z.boolean(),
  data: z.unknown().optional(),
  error: z.looseObject({ code: z.string(), category: str, message: str, details: str }).nullish(),
});

const cut = (s: string | null | undefined, max = 2000): string | null => (s == null ? null : s.slice(0, max));
const n = (v: number | null | undefined): number | null => (v == null || !Number.isFinite(v) ? null : v);

type Build = z.infer<typeof buildSchema>;

/** A completed build as an item (null when its completion time is not a time). */
function buildItem(b: Build, origin: 'status' | 'history'): Item | null {
  const completed = isoTime(b.completed_at);
  if (!completed) return null;
  return {
    kind: 'event', key: `build:${b.id}`,
    data: {
      ...BLANK, type: 'build', build_id: b.id, project_id: cut(b.project_id, 500), worker_id: cut(b.worker_id, 200),
      command: cut(b.command), started_at: isoTime(b.started_at), completed_at: completed, exit_code: b.exit_code,
      duration_ms: n(b.duration_ms), location: cut(b.location, 20), bytes_transferred: n(b.bytes_transferred),
      cancelled: b.cancellation != null, cancel_reason: cut(b.cancellation?.reason_code, 200), origin,
    },
  };
}

export interface StatusItems {
  items: Item[];
  /** The ids of recent_builds this status listed: the next run stores only the ones not among them. */
  recent: string[] | null;
}

/**
 * Items from `rch status --format json`'s output. `seen`: build ids the previous run listed (their
 * builds are stored already). rch's error envelope (the daemon not answering) is a run row.
 */
export function rchStatusItems(step: StepResult, seen: ReadonlySet<string> = new Set()): StatusItems {
  const what = 'rch status --format json';
  if (step.rc === 124) throw new Error(`${what} did not answer in time and was stopped`);
  if (!step.stdout.trim().startsWith('{')) {
    const said = step.stderr.trim() ? `; stderr: ${excerpt(step.stderr.trim().split('\n').slice(-2).join(' '))}` : '';
    throw new Error(`${what} exited ${step.rc ?? '(killed)'} without its JSON envelope${step.stdout.trim() ? `: ${excerpt(step.stdout)}` : ''}${said}`);
  }
  const env = validate(envelopeSchema, parseJson(quoteBigIntegers(step.stdout), what), what);
  if (env.command != null && env.command !== 'status' && env.command !== 'rch') {
    throw new Error(`${what} printed the envelope of ${excerpt(env.command)}, not of status`);
  }
  const run = { ...BLANK, type: 'run' as const, exit_code: step.rc, api_version: cut(env.api_version, 40) };
  if (!env.success) {
    if (!env.error) throw new Error(`${what} printed an unsuccessful envelope without an error`);
    return {
      items: [{ data: { ...run, error_code: cut(env.error.code, 40), error_category: cut(env.error.category, 40), message: cut(env.error.message), details: cut(env.error.details) } }],
      recent: null,
    };
  }
  // Since rch 1.0.11 data carries a schema_version and nests the daemon's payload (rch.md §6.1).
  const data = env.data;
  const nested = data !== null && typeof data === 'object' && 'schema_version' in data;
  const cli = nested ? validate(cliStatus, data, what) : null;
  const d = cli ? cli.daemon : validate(daemonResponse, data, what);
  const items: Item[] = [{
    data: {
      ...run, status_schema: cli ? cut(cli.schema_version, 40) : null, posture: cut(cli?.posture, 40),
      posture_description: cut(cli?.posture_description, 500),
      daemon_pid: n(d.daemon.pid), daemon_version: cut(d.daemon.version, 60), daemon_uptime_secs: n(d.daemon.uptime_secs),
      daemon_started_at: isoTime(d.daemon.started_at), socket_path: cut(d.daemon.socket_path, 1000),
      workers_total: n(d.daemon.workers_total), workers_healthy: n(d.daemon.workers_healthy),
      slots_total: n(d.daemon.slots_total), slots_available: n(d.daemon.slots_available),
      builds_total: n(d.stats?.total_builds), builds_succeeded: n(d.stats?.success_count), builds_failed: n(d.stats?.failure_count),
      builds_remote: n(d.stats?.remote_count), builds_local: n(d.stats?.local_count), avg_duration_ms: n(d.stats?.avg_duration_ms),
      queue_depth: d.queued_builds?.length ?? 0, active_count: d.active_builds?.length ?? 0,
      remediation_overall: cut(d.remediation?.overall, 60), convergence_status: cut(cli?.convergence?.status, 60),
    },
  }];
  for (const w of d.workers) {
    items.push({
      data: {
        ...BLANK, type: 'worker', worker_id: cut(w.id, 200), host: cut(w.host, 300), user: cut(w.user, 100), status: cut(w.status, 40),
        circuit_state: cut(w.circuit_state, 40), used_slots: n(w.used_slots), total_slots: n(w.total_slots), speed_score: n(w.speed_score),
        last_error: cut(w.last_error), consecutive_failures: n(w.consecutive_failures), recovery_in_secs: n(w.recovery_in_secs),
        checks_recent: w.failure_history?.length ?? null, checks_failed: w.failure_history ? w.failure_history.filter((ok) => !ok).length : null,
        pressure_state: cut(w.pressure_state, 40), pressure_reason_code: cut(w.pressure_reason_code, 100),
        pressure_disk_free_gb: n(w.pressure_disk_free_gb), pressure_disk_free_ratio: n(w.pressure_disk_free_ratio),
        pressure_telemetry_fresh: w.pressure_telemetry_fresh ?? null, bypass_reason_code: cut(w.bypass?.reason_code, 40),
      },
    });
  }
  for (const a of d.active_builds ?? []) {
    items.push({
      data: {
        ...BLANK, type: 'active_build', build_id: a.id, project_id: cut(a.project_id, 500), worker_id: cut(a.worker_id, 200),
        command: cut(a.command), started_at: isoTime(a.started_at), heartbeat_phase: cut(a.heartbeat_phase, 40),
        heartbeat_age_secs: n(a.heartbeat_age_secs), progress_age_secs: n(a.progress_age_secs), slots: n(a.slots),
        heartbeat_stale: a.detector_heartbeat_stale ?? null, progress_stale: a.detector_progress_stale ?? null,
      },
    });
  }
  for (const q of d.queued_builds ?? []) {
    items.push({
      data: {
        ...BLANK, type: 'queued_build', build_id: q.id, project_id: cut(q.project_id, 500), command: cut(q.command),
        queued_at: isoTime(q.queued_at), queue_position: n(q.position), slots: n(q.slots_needed),
        estimated_start: isoTime(q.estimated_start), wait_time: cut(q.wait_time, 100),
      },
    });
  }
  for (const i of d.issues ?? []) {
    items.push({ data: { ...BLANK, type: 'issue', severity: cut(i.severity, 40), message: cut(i.summary), action: cut(i.remediation) } });
  }
  for (const a of d.alerts ?? []) {
    items.push({
      data: {
        ...BLANK, type: 'alert', alert_id: cut(a.id, 200), kind: cut(a.kind, 60), severity: cut(a.severity, 40), message: cut(a.message),
        worker_id: cut(a.worker_id, 200), first_seen: isoTime(a.first_seen), last_seen: isoTime(a.last_seen),
        cleared_at: isoTime(a.cleared_at), state: cut(a.state, 40),
      },
    });
  }
  for (const h of cli?.remediation_hints ?? []) {
    items.push({
      data: {
        ...BLANK, type: 'hint', reason_code: cut(h.reason_code, 100), severity: cut(h.severity, 40), message: cut(h.message),
        action: cut(h.suggested_action) || null, worker_id: cut(h.worker_id, 200),
      },
    });
  }
  const recent = (d.recent_builds ?? []).map((b) => b.id);
  for (const b of d.recent_builds ?? []) {
    if (seen.has(b.id)) continue;
    const item = buildItem(b, 'status');
    if (item) items.push(item);
  }
  return { items, recent };
}

// ---- rchd's /metrics (rch.md §5) ---------------------------------------------------------------

/**
 * Families rchd registers but never updates in the version rch.md read (no call sites, or always
 * 0): their samples say nothing, so they are not stored (counted in the run's metrics_ignored).
 * rch_daemon_uptime_seconds is always 0: the status's daemon_uptime_secs is the uptime.
 */
export const NEVER_UPDATED: ReadonlySet<string> = new Set([
  'rch_circuit_failures_total', 'rch_circuit_trips_total', 'rch_circuit_recoveries_total',
  'rch_build_duration_seconds', 'rch_build_classification_total',
  'rch_transfer_bytes_total', 'rch_transfer_files_total', 'rch_transfer_duration_seconds', 'rch_transfer_compression_ratio',
  'rch_daemon_uptime_seconds', 'rch_daemon_connections_active',
  'rch_classification_tier_total', 'rch_classification_tier_latency_seconds',
]);

export interface MetricItems {
  items: Item[];
  /** Why the endpoint could not be read (not an error of the run: rchd may be down, or its port off). */
  error: string | null;
  /** Samples not stored: never-updated families, histogram buckets, other than rch_*. */
  ignored: number;
}

/**
 * Items from a scrape of rchd's /metrics. Kept: every rch_* sample of a family rchd updates, but
 * of histograms only _sum and _count (the buckets would be most of the rows). An endpoint that
 * cannot be reached is the run's metrics_error; a body that is not Prometheus text is an error.
 */
export function rchMetricItems(step: StepResult, url: string): MetricItems {
  if (step.rc === 124) return { items: [], error: 'did not answer in time', ignored: 0 };
  if (step.rc !== 0) {
    const said = step.stderr.trim() ? `: ${excerpt(step.stderr.trim().split('\n').slice(-2).join(' '), 300)}` : '';
    return { items: [], error: `the fetch failed (exit ${step.rc ?? 'killed'})${said}`, ignored: 0 };
  }
  let samples;
  try {
    samples = parsePrometheusText(step.stdout);
  } catch (err) {
    throw new Error(`rchd's metrics at ${url} are not Prometheus text: ${(err as Error).message}`);
  }
  const items: Item[] = [];
  for (const s of samples) {
    if (!s.family.startsWith('rch_') || NEVER_UPDATED.has(s.family) || s.name.endsWith('_bucket')) continue;
    const labels = Object.fromEntries(Object.entries(s.labels).map(([k, v]) => [k.slice(0, 100), v.slice(0, 300)]));
    items.push({ data: { ...BLANK, type: 'metric', metric: s.name, metric_type: s.type, labels, value: n(s.value) } });
  }
  return { items, error: null, ignored: samples.length - items.length };
}

/** Fetches a URL on the machine (so 127.0.0.1 is rchd's host, over ssh too) with curl, else wget. */
export function fetchScript(url: string, seconds: number): string {
  const u = shQuote(url);
  return `if command -v curl >/dev/null 2>&1; then curl -sS -f -m ${seconds} ${u}; `
    + `elif command -v wget >/dev/null 2>&1; then wget -q -T ${seconds} -O - ${u}; `
    + 'else echo "neither curl nor wget is installed" >&2; exit 127; fi';
}

// ---- rchd's build history (rchd --history-file) --------------------------------------------------

/** The running rchd's command line: where its build history goes, if anywhere. */
const FIND_RCHD = `ps -eo args 2>/dev/null | awk '{ p = $1; sub(/.*\\//, "", p); if (p == "rchd") { print; exit } }'`;

/** The --history-file of rchd's command line, or null (none, or a relative path: relative to what?). */
export function historyFileOf(rchdArgs: string, warn: (m: string) => void): string | null {
  const m = /(?:^|\s)--history-file(?:=|\s+)(\S+)/.exec(rchdArgs);
  if (!m) return null;
  if (!m[1]!.startsWith('/')) {
    warn(`rchd writes its build history to a relative path (${excerpt(m[1]!)}): set [collectors.rch] history_file to read it`);
    return null;
  }
  return m[1]!;
}

/** One line of the history file: a build event, a reason to skip it, or null for a blank line. */
export function rchBuildFact(line: string): Item | string | null {
  if (!line.trim()) return null;
  const o = parseObject(quoteBigIntegers(line));
  if (!o) return 'not a JSON object';
  const r = buildSchema.safeParse(o);
  if (!r.success) return 'not a build record';
  return buildItem(r.data, 'history') ?? 'a build record without a completion time';
}

export function rchHistoryItems(file: TailFile, skip: (reason: string) => void): Item[] {
  const items: Item[] = [];
  for (const line of file.lines) {
    const f = rchBuildFact(line.text);
    if (typeof f === 'string') skip(`${f} (rchd build history)`);
    else if (f) items.push(f);
  }
  return items;
}

// ---- the collector -----------------------------------------------------------------------------

export interface RchCursor {
  /** Tail cursors of the history file. */
  builds: TailCursors;
  /** Build ids of the last status's recent_builds (stored already). */
  recent: string[];
}

const cursorSchema = z.object({
  builds: z.record(z.string(), z.unknown()).default({}),
  recent: z.array(z.string().regex(/^\d{1,20}$/)).max(200).default([]),
});

export function rchCursorFrom(saved: unknown, warn: (m: string) => void): RchCursor {
  if (saved === null || saved === undefined) return { builds: {}, recent: [] };
  const r = cursorSchema.safeParse(saved);
  if (r.success) return { builds: r.data.builds as TailCursors, recent: r.data.recent };
  warn('the saved rch cursor is not of the expected shape: the build history is read from its start (stored builds are not counted twice)');
  return { builds: {}, recent: [] };
}

/** A file name as a find(1) -name pattern matching only itself. */
const literalPattern = (name: string) => name.replace(/[*?[\]\\]/g, '\\$&');

export const rchCollector: CollectorDef = {
  name: 'rch',
  version: '1.0.0',
  schemaVersion: 1,
  schema: rchSchema,
  async collect(ctx) {
    const cfg = ctx.config.collectors.rch;
    const state = rchCursorFrom(ctx.cursor, ctx.warn);
    const snapshot = (): RchCursor => ({ builds: state.builds, recent: [...state.recent] });
    const url = cfg.metrics_urls[ctx.machine.id] ?? cfg.metrics_url ?? null;
    const steps: ToolStep[] = [{
      name: 'status',
      // rch finds rchd's socket under XDG_RUNTIME_DIR, which cron and ssh commands may lack.
      run: 'if [ -z "$XDG_RUNTIME_DIR" ] && [ -d "/run/user/$(id -u)" ]; then XDG_RUNTIME_DIR=/run/user/$(id -u); export XDG_RUNTIME_DIR; fi; '
        + 'unset RCH_OUTPUT_FORMAT TOON_DEFAULT_FORMAT; "$VC_TOOL" status --format json',
      timeoutSeconds: cfg.step_timeout_seconds,
    }];
    if (url) steps.push({ name: 'metrics', run: fetchScript(url, cfg.step_timeout_seconds), timeoutSeconds: cfg.step_timeout_seconds + 2 });
    if (cfg.history_file === 'auto') steps.push({ name: 'rchd', run: FIND_RCHD, timeoutSeconds: 10 });
    const run = await runTool(ctx, ['rch'], steps);
    if ('absent' in run) return { items: [], absent: run.absent };

    const status = rchStatusItems(run.steps.status!, new Set(state.recent));
    const runRow = status.items[0]!.data as RchItem;
    const items = [...status.items];
    if (url) {
      const m = rchMetricItems(run.steps.metrics!, url);
      Object.assign(runRow, { metrics_url: url.slice(0, 1000), metrics_error: m.error, metrics_samples: m.items.length, metrics_ignored: m.ignored });
      if (m.error) ctx.warn(`rchd's metrics at ${url}: ${m.error}`);
      else if (m.items.length === 0 && m.ignored > 0) ctx.warn(`${url} serves no rch_* metrics rchd updates: is it rchd's /metrics?`);
      items.push(...m.items);
    }
    const file = cfg.history_file === 'off' ? null
      : cfg.history_file === 'auto' ? historyFileOf(run.steps.rchd!.stdout, ctx.warn) : cfg.history_file;
    runRow.history_file = file;
    if (status.recent) state.recent = status.recent;
    // The state first: trouble reading the history then costs its builds, not the status.
    await ctx.commit(items, snapshot());
    if (!file) return { items: [], cursor: snapshot() };

    // The history file through the shared tail reader: its cursor is one part of ours.
    const tailCtx: CollectContext = {
      ...ctx,
      cursor: state.builds,
      commit: async (batch, cursor) => {
        if (cursor !== undefined) state.builds = cursor as TailCursors;
        await ctx.commit(batch, snapshot());
      },
    };
    const out = await tailLogs(tailCtx, {
      what: 'read rchd\'s build history',
      // The file alone: rotated copies (history.jsonl.1) are found by tail.ts through their inode.
      trees: [{ root: path.posix.dirname(file), name: literalPattern(path.posix.basename(file)), maxDepth: 1 }],
      toItems: rchHistoryItems,
      absent: 'no directory',
    });
    if (out.absent) ctx.warn(`rchd's build history ${file} is not there (no such directory)`);
    if (out.cursor !== undefined) state.builds = out.cursor as TailCursors;
    return { items: [], cursor: snapshot() };
  },
};
