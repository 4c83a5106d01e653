// cass (coding_agent_session_search): the health and freshness of its search index, its archive's
// conversations by agent and workspace, and the sessions started per hour, from its robot mode
// (see ../shared/upstream/cass.md). Only read-only commands: api-version, health, stats, timeline.
//
// Stored, one run's rows (kind snapshot): a `run` row (cass's version), a `health` row (status,
// index state and age as cass reported them), a `stats` row (totals), an `agent` and a `workspace`
// row per entry of stats' by_agent / top_workspaces (conversation counts), a `timeline` row (the
// range asked for) with a `bucket` row per hour and agent (sessions, messages), and an `error` row
// per command that failed with cass's error envelope (no archive yet, lock busy, ...): that is data.
//
// The output format is pinned: --json --robot-format compact (one line, whatever the environment
// says), with CASS_OUTPUT_FORMAT and TOON_DEFAULT_FORMAT unset, from `/` (cass loads a .env file
// from its working directory or a parent). Times: RFC 3339 strings and epoch milliseconds, both
// stored as ISO UTC; timeline hour keys are UTC.
import { z } from 'zod';
import type { CollectorDef, Item } from '../collector.ts';
import { asObject } from './logtail.ts';
import { excerpt, isoFromEpochMs, isoTime, lastJsonObject, parseJson, runTool, validate, type StepResult } from './toolrun.ts';

const int = z.number().int();
const text = z.string().nullable();
const flag = z.boolean().nullable();
const time = z.iso.datetime().nullable();

export const cassSchema = z.strictObject({
  type: z.enum(['run', 'health', 'stats', 'agent', 'workspace', 'timeline', 'bucket', 'error']),
  /** run: from cass api-version. */
  cass_version: text,
  contract_version: text,
  build_commit: text,
  /** health, error: the command's exit status (health exits 1 when not healthy, with its JSON). */
  exit_code: int.nullable(),
  /** health: healthy, rebuilding, stalled, unhealthy, not_initialized, degraded (open strings). */
  status: text,
  healthy: flag,
  /** health: status, or critical (ingest quarantine) / degraded (some conversations quarantined). */
  health_level: text,
  initialized: flag,
  /** health: archive or binary-only (cass since 2026-08-17). */
  exit_policy: text,
  errors: z.array(z.string()).nullable(),
  warnings: z.array(z.string()).nullable(),
  recommended_action: text,
  /** health: the commands cass recommends running, in its order. */
  recommended_commands: z.array(z.string()).nullable(),
  latency_ms: int.nullable(),
  db_exists: flag,
  db_opened: flag,
  db_open_error: text,
  index_exists: flag,
  /** health: ready, stale, missing, building, stalled. */
  index_status: text,
  index_fresh: flag,
  index_stale: flag,
  last_indexed_at: time,
  /** health: the index's age when cass answered, and the threshold it called that stale at. */
  index_age_s: int.nullable(),
  stale_threshold_s: int.nullable(),
  documents: int.nullable(),
  rebuilding: flag,
  rebuild_stalled: flag,
  rebuild_phase: text,
  /** health: 0-1. */
  rebuild_completion: z.number().finite().nullable(),
  pending_sessions: int.nullable(),
  watch_active: flag,
  quarantined_conversations: int.nullable(),
  /** health: cass's own timestamp (state._meta.timestamp). */
  reported_at: time,
  /** stats: totals; agent, workspace: that entry's conversation count. */
  conversations: int.nullable(),
  /** stats: total; bucket: messages of the bucket's sessions. */
  messages: int.nullable(),
  oldest_at: time,
  newest_at: time,
  raw_mirror_bytes: int.nullable(),
  raw_mirror_missing_blobs: int.nullable(),
  newest_capture_at: time,
  /** agent, bucket: the agent slug (claude_code, codex, ..., unknown). */
  agent: text,
  /** workspace: its path. */
  workspace: text,
  /** timeline: the range cass covered (from epoch ms) and its session count. */
  range_start: time,
  range_end: time,
  total_sessions: int.nullable(),
  /** bucket: its UTC start, length in hours (1; 24 for day keys), and whether the range covered all of it. */
  bucket_start: time,
  bucket_hours: int.nullable(),
  complete: flag,
  sessions: int.nullable(),
  /** error: which command (version, health, stats, timeline) and cass's error envelope. */
  step: text,
  error_code: int.nullable(),
  error_kind: text,
  message: text,
  hint: text,
  retryable: flag,
});

export type CassItem = z.infer<typeof cassSchema>;

const BLANK: Omit<CassItem, 'type'> = Object.fromEntries(
  Object.keys(cassSchema.shape).filter((k) => k !== 'type').map((k) => [k, null]),
) as Omit<CassItem, 'type'>;

// cass's output, as ../shared/upstream/cass.md §2 documents it: the fields vc reads, others allowed.
const opt = <T extends z.ZodType>(t: T) => t.nullable().optional();

const versionSchema = z.looseObject({
  crate_version: z.string(),
  contract_version: z.union([z.string(), int]).optional(),
  build_commit: z.string().optional(),
});

const healthSchema = z.looseObject({
  status: z.string(),
  healthy: z.boolean(),
  health_level: z.string().optional(),
  exit_policy: z.string().optional(),
  initialized: z.boolean().optional(),
  errors: z.array(z.string()).optional(),
  warnings: z.array(z.string()).optional(),
  recommended_action: opt(z.string()),
  recommended_commands: z.array(z.looseObject({ command: opt(z.string()) })).optional(),
  latency_ms: opt(int),
  rebuild_progress: z.looseObject({ phase: opt(z.string()), completion_ratio: opt(z.number()) }).optional(),
  db: z.looseObject({ exists: opt(z.boolean()), opened: opt(z.boolean()), open_error: opt(z.string()) }).optional(),
  state: z.looseObject({
    index: z.looseObject({
      exists: opt(z.boolean()), status: opt(z.string()), fresh: opt(z.boolean()), stale: opt(z.boolean()),
      last_indexed_at: opt(z.string()), age_seconds: opt(int), stale_threshold_seconds: opt(int), documents: opt(int),
      rebuilding: opt(z.boolean()), stalled: opt(z.boolean()), quarantined_conversations: opt(int),
    }).optional(),
    pending: z.looseObject({ sessions: opt(int), watch_active: opt(z.boolean()) }).optional(),
    rebuild: z.looseObject({ phase: opt(z.string()) }).optional(),
    _meta: z.looseObject({ timestamp: opt(z.string()) }).optional(),
  }).optional(),
});

const statsSchema = z.looseObject({
  conversations: int,
  messages: int,
  by_agent: z.array(z.looseObject({ agent: opt(z.string()), count: int })),
  top_workspaces: z.array(z.looseObject({ workspace: z.string(), count: int })),
  date_range: z.looseObject({ oldest: opt(z.string()), newest: opt(z.string()) }).optional(),
  raw_mirror: z.looseObject({
    total_storage_bytes: opt(int), missing_blob_count: opt(int), newest_capture_at_ms: opt(int),
  }).optional(),
});

const sessionSchema = z.looseObject({
  agent: opt(z.string()),
  started_at: opt(int),
  message_count: opt(int),
});

const timelineSchema = z.looseObject({
  range: z.looseObject({ start: int, end: int }),
  total_sessions: int,
  /** --group-by hour|day: UTC keys "YYYY-MM-DD HH:00" or "YYYY-MM-DD", in no order. */
  groups: z.record(z.string(), z.array(sessionSchema)).optional(),
  /** --group-by none (and what to expect if grouping were ever dropped). */
  sessions: z.array(sessionSchema).optional(),
}).refine((t) => t.groups !== undefined || t.sessions !== undefined, { message: 'neither groups nor sessions', path: ['groups'] });

const errorEnvelope = z.looseObject({
  code: int.optional(),
  kind: z.string(),
  message: z.string().optional(),
  hint: opt(z.string()),
  retryable: z.boolean().optional(),
});

type Step = 'version' | 'health' | 'stats' | 'timeline';
type Answer = { json: unknown } | { error: Item };

const cut = (s: string | null | undefined, n: number) => (s === undefined || s === null ? null : s.slice(0, n));

/** A command's JSON on stdout, or its error envelope on stderr as an `error` item; else a thrown error. */
function answer(step: Step, r: StepResult, what: string): Answer {
  if (r.rc === 124) throw new Error(`${what} did not answer in time and was stopped`);
  const out = r.stdout.trim();
  if (out.startsWith('{')) {
    const json = parseJson(out, what);
    const env = asObject(asObject(json)?.error);
    if (!env) return { json };
  }
  const env = asObject(lastJsonObject(out.startsWith('{') ? out : r.stderr)?.error);
  if (env && r.rc !== 0) {
    const e = validate(errorEnvelope, env, `${what}'s error`);
    return {
      error: {
        data: {
          ...BLANK, type: 'error', step, exit_code: r.rc, error_code: e.code ?? null, error_kind: e.kind.slice(0, 60),
          message: cut(e.message, 2000), hint: cut(e.hint, 500), retryable: e.retryable ?? null,
        },
      },
    };
  }
  const said = r.stderr.trim() ? `; stderr: ${excerpt(r.stderr.trim().split('\n').slice(-2).join(' '))}` : '';
  throw new Error(`${what} exited ${r.rc ?? '(killed)'} without its JSON output${out ? `: ${excerpt(out)}` : ''}${said}`);
}

function healthItem(rc: number | null, json: unknown, what: string): Item {
  const h = validate(healthSchema, json, what);
  const idx = h.state?.index;
  return {
    data: {
      ...BLANK, type: 'health', exit_code: rc, status: h.status.slice(0, 60), healthy: h.healthy, health_level: cut(h.health_level, 60),
      initialized: h.initialized ?? null, exit_policy: cut(h.exit_policy, 60),
      errors: (h.errors ?? []).slice(0, 20).map((e) => e.slice(0, 500)), warnings: (h.warnings ?? []).slice(0, 20).map((w) => w.slice(0, 500)),
      recommended_action: cut(h.recommended_action, 1000),
      recommended_commands: (h.recommended_commands ?? []).flatMap((c) => (c.command ? [c.command.slice(0, 500)] : [])).slice(0, 10),
      latency_ms: h.latency_ms ?? null,
      db_exists: h.db?.exists ?? null, db_opened: h.db?.opened ?? null, db_open_error: cut(h.db?.open_error, 1000),
      index_exists: idx?.exists ?? null, index_status: cut(idx?.status, 60), index_fresh: idx?.fresh ?? null, index_stale: idx?.stale ?? null,
      last_indexed_at: isoTime(idx?.last_indexed_at), index_age_s: idx?.age_seconds ?? null,
      stale_threshold_s: idx?.stale_threshold_seconds ?? null, documents: idx?.documents ?? null,
      rebuilding: idx?.rebuilding ?? null, rebuild_stalled: idx?.stalled ?? null,
      rebuild_phase: cut(h.state?.rebuild?.phase ?? h.rebuild_progress?.phase, 60),
      rebuild_completion: h.rebuild_progress?.completion_ratio ?? null,
      pending_sessions: h.state?.pending?.sessions ?? null, watch_active: h.state?.pending?.watch_active ?? null,
      quarantined_conversations: idx?.quarantined_conversations ?? null, reported_at: isoTime(h.state?._meta?.timestamp),
    },
  };
}

function statsItems(json: unknown, what: string): Item[] {
  const s = validate(statsSchema, json, what);
  const rm = s.raw_mirror;
  return [
    {
      data: {
        ...BLANK, type: 'stats', conversations: s.conversations, messages: s.messages,
        oldest_at: isoTime(s.date_range?.oldest), newest_at: isoTime(s.date_range?.newest),
        raw_mirror_bytes: rm?.total_storage_bytes ?? null, raw_mirror_missing_blobs: rm?.missing_blob_count ?? null,
        newest_capture_at: isoFromEpochMs(rm?.newest_capture_at_ms),
      },
    },
    // A legacy row without an agent is cass's "unknown" (it prints that since 2026-04-09).
    ...s.by_agent.map((a) => ({ data: { ...BLANK, type: 'agent' as const, agent: (a.agent ?? 'unknown').slice(0, 60), conversations: a.count } })),
    ...s.top_workspaces.map((w) => ({ data: { ...BLANK, type: 'workspace' as const, workspace: w.workspace.slice(0, 1000), conversations: w.count } })),
  ];
}

const HOUR_KEY = /^(\d{4}-\d{2}-\d{2}) (\d{2}):00$/;
const DAY_KEY = /^\d{4}-\d{2}-\d{2}$/;

/** A timeline group key (UTC) as its start and length in hours. */
function bucketOf(key: string, what: string): { start: string; hours: number } {
  const h = HOUR_KEY.exec(key);
  const iso = h ? isoTime(`${h[1]}T${h[2]}:00:00Z`) : DAY_KEY.test(key) ? isoTime(`${key}T00:00:00Z`) : null;
  if (!iso) throw new Error(`${what} printed a group key that is neither an hour nor a day: ${excerpt(key)}`);
  return { start: iso, hours: h ? 1 : 24 };
}

/** The `timeline` row and a `bucket` row per hour (or day) and agent. */
export function timelineItems(json: unknown, what: string): Item[] {
  const t = validate(timelineSchema, json, what);
  const rangeStart = isoFromEpochMs(t.range.start);
  const items: Item[] = [{ data: { ...BLANK, type: 'timeline', range_start: rangeStart, range_end: isoFromEpochMs(t.range.end), total_sessions: t.total_sessions } }];
  // Ungrouped sessions are put in the hour they started (UTC), as cass groups them.
  const groups: Array<[string, Array<z.infer<typeof sessionSchema>>]> = t.groups ? Object.entries(t.groups) : [];
  if (!t.groups) {
    const byHour = new Map<string, Array<z.infer<typeof sessionSchema>>>();
    for (const s of t.sessions!) {
      const at = isoFromEpochMs(s.started_at);
      if (!at) continue;
      const key = `${at.slice(0, 10)} ${at.slice(11, 13)}:00`;
      byHour.set(key, [...(byHour.get(key) ?? []), s]);
    }
    groups.push(...byHour);
  }
  const rows = new Map<string, CassItem>();
  for (const [key, sessions] of groups) {
    const b = bucketOf(key, what);
    for (const s of sessions) {
      const agent = (s.agent ?? 'unknown').slice(0, 60);
      const id = `${b.start} ${agent}`;
      const row = rows.get(id) ?? {
        ...BLANK, type: 'bucket', bucket_start: b.start, bucket_hours: b.hours, agent, sessions: 0, messages: 0,
        // The range starts mid-bucket: this run saw only part of it (an earlier run may have seen all).
        complete: t.range.start <= Date.parse(b.start),
      };
      row.sessions! += 1;
      row.messages! += s.message_count ?? 0;
      rows.set(id, row);
    }
  }
  items.push(...[...rows.values()].sort((a, b) => `${a.bucket_start} ${a.agent}`.localeCompare(`${b.bucket_start} ${b.agent}`)).map((data) => ({ data })));
  return items;
}

/** Items from the four commands' stdout, stderr and exit status (see the module comment). */
export function cassItems(steps: Record<Step, StepResult>): Item[] {
  const what: Record<Step, string> = {
    version: 'cass api-version --json', health: 'cass health --json', stats: 'cass stats --json', timeline: 'cass timeline --json',
  };
  const got = Object.fromEntries((Object.keys(what) as Step[]).map((s) => [s, answer(s, steps[s], what[s])])) as Record<Step, Answer>;
  const run: CassItem = { ...BLANK, type: 'run' };
  const items: Item[] = [{ data: run }];
  const errors: Item[] = [];
  for (const s of Object.keys(what) as Step[]) {
    const a = got[s];
    if ('error' in a) {
      errors.push(a.error);
      continue;
    }
    if (s === 'version') {
      const v = validate(versionSchema, a.json, what.version);
      Object.assign(run, { cass_version: v.crate_version.slice(0, 60), contract_version: v.contract_version === undefined ? null : String(v.contract_version),
        build_commit: cut(v.build_commit, 60) });
    } else if (s === 'health') items.push(healthItem(steps.health.rc, a.json, what.health));
    else if (s === 'stats') items.push(...statsItems(a.json, what.stats));
    else items.push(...timelineItems(a.json, what.timeline));
  }
  return [...items, ...errors];
}

/** Unset first: either would switch the output away from JSON if a flag were ever missing. */
const PIN = 'cd / && unset CASS_OUTPUT_FORMAT TOON_DEFAULT_FORMAT &&';
const FLAGS = '--json --robot-format compact';

export const cassCollector: CollectorDef = {
  name: 'cass',
  version: '1.0.0',
  schemaVersion: 1,
  schema: cassSchema,
  async collect(ctx) {
    const cfg = ctx.config.collectors.cass;
    const step = (name: Step, args: string) => ({ name, run: `${PIN} "$VC_TOOL" ${args}`, timeoutSeconds: cfg.step_timeout_seconds });
    const run = await runTool(ctx, ['cass'], [
      step('version', `api-version ${FLAGS}`),
      // Numbers only, checked in lib/config.ts.
      step('health', `health ${FLAGS} --stale-threshold ${cfg.stale_threshold_seconds}`),
      step('stats', `stats ${FLAGS}`),
      step('timeline', `timeline ${FLAGS} --since ${cfg.timeline_days}d --group-by hour`),
    ]);
    if ('absent' in run) return { items: [], absent: run.absent };
    return { items: cassItems(run.steps as Record<Step, StepResult>) };
  },
};
