// ntm (Named Tmux Manager): its tmux sessions, the agents in them with their state, and what was
// done with them (sessions created, agents spawned, prompts sent), from its robot mode and its
// analytics log (see ../shared/upstream/ntm.md). Read-only: robot commands only look.
//
// Stored (kind snapshot, one run's rows): a `run` row (ntm's overall status, summary counts, the
// failure envelope of either command), a `session` row per session header of --robot-status, an
// `agent` row per agent of --robot-snapshot (status v2 no longer lists agents; an older ntm's
// status still does, and those are used when there is no snapshot). Stored as events, read
// incrementally: an `event` row per line of ~/.config/ntm/analytics/events.jsonl, keyed by the
// line, so a re-read after ntm's daily rewrite of the file counts nothing twice.
//
// The output format is pinned: --robot-format=json and --robot-verbosity=default on every call,
// with the environment overrides (NTM_ROBOT_FORMAT, NTM_OUTPUT_FORMAT, TOON_DEFAULT_FORMAT,
// NTM_ROBOT_VERBOSITY) unset, since toon and terse output are not the JSON vc reads.
import path from 'node:path';
import { z } from 'zod';
import type { CollectorDef, Item } from '../collector.ts';
import type { TailFile } from '../tail.ts';
import { asObject, asString, lineItems, parseObject, tailLogs } from './logtail.ts';
import { excerpt, isoTime, parseJson, runTool, validate, type StepResult } from './toolrun.ts';

const int = z.number().int();
const text = z.string().nullable();

export const ntmSchema = z.strictObject({
  type: z.enum(['run', 'session', 'agent', 'event']),
  /** run: exit status of --robot-status. */
  exit_code: int.nullable(),
  /** run: the envelope's version (1.0.0), status's schema_version (ntm.robot.status.v2) and generated_at. */
  envelope_version: text,
  schema_version: text,
  generated_at: z.iso.datetime().nullable(),
  /** run: ntm's own version (system.version) and whether it found tmux. */
  ntm_version: text,
  tmux_available: z.boolean().nullable(),
  /** run: healthy, degraded or critical; health_score 0-1. */
  overall_status: text,
  health_score: z.number().finite().nullable(),
  total_sessions: int.nullable(),
  total_agents: int.nullable(),
  attached_count: int.nullable(),
  /** run: summary.agents_by_state and agents_by_type, as lists (keys are open strings). */
  agents_by_state: z.array(z.strictObject({ state: z.string(), count: int })).nullable(),
  agents_by_type: z.array(z.strictObject({ agent_type: z.string(), count: int })).nullable(),
  /** run: alert counts by severity (absent in ntm's output when there are none: then []). */
  alert_counts: z.array(z.strictObject({ severity: z.string(), count: int })).nullable(),
  alerts_active: int.nullable(),
  mail_unread: int.nullable(),
  mail_urgent: int.nullable(),
  ready_work: int.nullable(),
  in_progress: int.nullable(),
  /** run: sources ntm could not read fresh (a 0 count from them is not a real 0). */
  degraded_sources: z.array(z.string()).nullable(),
  /** run: --robot-status's failure (error_code, error); event: an `error` event's type and message. */
  error_code: text,
  message: text,
  /** run: --robot-snapshot's exit status, schema_version, and its failure (tmux missing, ...). */
  snapshot_exit_code: int.nullable(),
  snapshot_schema_version: text,
  snapshot_error_code: text,
  snapshot_message: text,
  /** run: where the agent rows come from: snapshot, status (an older ntm), or null (none). */
  agents_from: z.enum(['snapshot', 'status']).nullable(),
  /** session, agent, event: the tmux session. */
  session: text,
  attached: z.boolean().nullable(),
  agent_count: int.nullable(),
  /** session: ntm's own health of the session: healthy, warning, critical, unknown. */
  health_status: text,
  health_reason: text,
  /** agent: the pane index, as ntm prints it (a string). */
  pane: text,
  /** agent (event: agent_spawn/agent_add): claude, codex, ... */
  agent_type: text,
  variant: text,
  type_confidence: z.number().finite().nullable(),
  type_method: text,
  /** agent: idle, active, busy, error, compacting, unknown (projection) or active, idle, error, unknown (live). */
  state: text,
  /** agent, older status shape only: is_active. */
  is_active: z.boolean().nullable(),
  /** agent: seconds since the pane's last output; null where ntm says -1 (unknown). */
  last_output_age_s: int.nullable(),
  output_tail_lines: int.nullable(),
  /** agent: context window used, 0-100. */
  context_percent: z.number().finite().nullable(),
  current_bead: text,
  pending_mail: int.nullable(),
  /** event: when, ntm's type (session_create, agent_spawn, prompt_send, ...; any string). */
  ts: z.iso.datetime().nullable(),
  event_type: text,
  agent_name: text,
  correlation_id: text,
  model: text,
  /** event prompt_send: panes targeted, prompt length in chars, ntm's token estimate. */
  target_count: int.nullable(),
  prompt_length: int.nullable(),
  estimated_tokens: int.nullable(),
  /** event session_create: the session's working directory. */
  work_dir: text,
});

export type NtmItem = z.infer<typeof ntmSchema>;

const BLANK: Omit<NtmItem, 'type'> = Object.fromEntries(
  Object.keys(ntmSchema.shape).filter((k) => k !== 'type').map((k) => [k, null]),
) as Omit<NtmItem, 'type'>;

// ntm's output, as ../shared/upstream/ntm.md §2 documents it: the fields vc reads, others allowed.
const count = z.number().int();
const failureSchema = z.looseObject({
  success: z.literal(false),
  error: z.string().optional(),
  error_code: z.string().optional(),
});

const summarySchema = z.looseObject({
  total_sessions: count,
  total_agents: count,
  attached_count: count.optional(),
  agents_by_state: z.record(z.string(), count).optional(),
  agents_by_type: z.record(z.string(), count).optional(),
  ready_work: count.optional(),
  in_progress: count.optional(),
  health_score: z.number().optional(),
  alerts_active: count.optional(),
  mail_unread: count.optional(),
  mail_urgent: count.optional(),
});

/** An agent in --robot-snapshot; an older --robot-status listed them per session with is_active. */
const agentSchema = z.looseObject({
  pane: z.union([z.string(), count]),
  type: z.string().optional(),
  variant: z.string().optional(),
  type_confidence: z.number().optional(),
  type_method: z.string().optional(),
  state: z.string().optional(),
  is_active: z.boolean().optional(),
  last_output_age_sec: count.optional(),
  output_tail_lines: count.optional(),
  context_percent: z.number().optional(),
  current_bead: z.string().optional(),
  pending_mail: count.optional(),
});

const statusSchema = z.looseObject({
  success: z.literal(true),
  version: z.string().optional(),
  schema_version: z.string().optional(),
  generated_at: z.string().optional(),
  timestamp: z.string().optional(),
  overall_status: z.string().optional(),
  system: z.looseObject({ version: z.string().optional(), tmux_available: z.boolean().optional() }).optional(),
  sessions: z.array(z.looseObject({
    name: z.string(),
    attached: z.boolean().optional(),
    agent_count: count.optional(),
    health: z.looseObject({ status: z.string(), reason: z.string().optional() }).optional(),
    /** Status before v2 (2026-03-22): the agents, per session. */
    agents: z.array(agentSchema).optional(),
  })),
  summary: summarySchema,
  alert_counts: z.record(z.string(), count).optional(),
  degraded_sources: z.array(z.string()).optional(),
});

const snapshotSchema = z.looseObject({
  success: z.literal(true),
  schema_version: z.string().optional(),
  sessions: z.array(z.looseObject({
    name: z.string(),
    attached: z.boolean().optional(),
    agents: z.array(agentSchema),
  })),
});

type Agent = z.infer<typeof agentSchema>;

/** A map of counts as a sorted list; null where ntm printed none (an older summary), unlike {} (none counted). */
const pairs = <K extends string>(key: K, rec: Record<string, number> | undefined) => rec === undefined ? null :
  Object.entries(rec).sort(([a], [b]) => a.localeCompare(b)).map(([k, n]) => ({ [key]: k, count: n }) as Record<K, string> & { count: number });

const cut = (s: string | undefined, n: number) => (s === undefined ? null : s.slice(0, n));

function agentItem(session: string, a: Agent): Item {
  return {
    data: {
      ...BLANK, type: 'agent', session, pane: String(a.pane), agent_type: a.type ?? null, variant: cut(a.variant, 200),
      type_confidence: a.type_confidence ?? null, type_method: a.type_method ?? null,
      // An older status said only is_active: the live path's two states for it.
      state: a.state ?? (a.is_active === undefined ? null : a.is_active ? 'active' : 'idle'),
      is_active: a.is_active ?? null,
      last_output_age_s: a.last_output_age_sec === undefined || a.last_output_age_sec < 0 ? null : a.last_output_age_sec,
      output_tail_lines: a.output_tail_lines ?? null, context_percent: a.context_percent ?? null,
      current_bead: cut(a.current_bead, 200), pending_mail: a.pending_mail ?? null,
    },
  };
}

/** A robot command's JSON: its success envelope, or its failure (ntm's own error, which is data). */
function robotJson(step: StepResult, what: string): { ok: unknown } | { failure: z.infer<typeof failureSchema> } {
  if (step.rc === 124) throw new Error(`${what} did not answer in time and was stopped`);
  const out = step.stdout.trim();
  if (!out.startsWith('{')) {
    const said = step.stderr.trim() ? `; stderr: ${excerpt(step.stderr.trim().split('\n').slice(-2).join(' '))}` : '';
    throw new Error(`${what} exited ${step.rc ?? '(killed)'} without its JSON output${out ? `: ${excerpt(out)}` : ''}${said}`);
  }
  const json = parseJson(out, what);
  // Since ntm#207 a failure exits non-zero; older builds printed one and exited 0: `success` decides.
  if (asObject(json)?.success === false) return { failure: validate(failureSchema, json, what) };
  return { ok: json };
}

/** Status v1 (before 2026-03-22) and v2 are read; a later major version may mean another shape. */
function checkVersion(version: string | undefined, surface: string, maxMajor: number, what: string) {
  const m = version === undefined ? null : new RegExp(`^ntm\\.robot\\.${surface}\\.v(\\d+)$`).exec(version);
  if (m && Number(m[1]) > maxMajor) throw new Error(`${what} printed schema_version ${excerpt(version!)}; vc reads up to ntm.robot.${surface}.v${maxMajor}`);
}

/** Items from --robot-status and --robot-snapshot (stdout, stderr, exit status of each). */
export function ntmItems(status: StepResult, snapshot: StepResult): Item[] {
  const sw = 'ntm --robot-status';
  const nw = 'ntm --robot-snapshot';
  const st = robotJson(status, sw);
  const sn = robotJson(snapshot, nw);
  const run: NtmItem = { ...BLANK, type: 'run', exit_code: status.rc, snapshot_exit_code: snapshot.rc };
  const sessions = new Map<string, Item>();
  /** An older status's sessions with their agents. */
  let listed: Array<{ name: string; agents?: Agent[] }> = [];

  if ('failure' in st) {
    run.error_code = cut(st.failure.error_code, 60);
    run.message = cut(st.failure.error, 2000);
  } else {
    const s = validate(statusSchema, st.ok, sw);
    checkVersion(s.schema_version, 'status', 2, sw);
    const sum = s.summary;
    Object.assign(run, {
      envelope_version: s.version ?? null, schema_version: s.schema_version ?? null,
      generated_at: isoTime(s.generated_at ?? s.timestamp), ntm_version: cut(s.system?.version, 100),
      tmux_available: s.system?.tmux_available ?? null, overall_status: s.overall_status ?? null, health_score: sum.health_score ?? null,
      total_sessions: sum.total_sessions, total_agents: sum.total_agents, attached_count: sum.attached_count ?? null,
      agents_by_state: pairs('state', sum.agents_by_state), agents_by_type: pairs('agent_type', sum.agents_by_type),
      // No alert_counts is no alerts (an empty map is left out).
      alert_counts: pairs('severity', s.alert_counts ?? {}), alerts_active: sum.alerts_active ?? null,
      mail_unread: sum.mail_unread ?? null, mail_urgent: sum.mail_urgent ?? null,
      ready_work: sum.ready_work ?? null, in_progress: sum.in_progress ?? null, degraded_sources: s.degraded_sources ?? [],
    });
    listed = s.sessions;
    for (const h of s.sessions) {
      sessions.set(h.name, {
        data: {
          ...BLANK, type: 'session', session: h.name, attached: h.attached ?? false,
          agent_count: h.agent_count ?? h.agents?.length ?? null,
          health_status: h.health?.status ?? null, health_reason: cut(h.health?.reason, 500),
        },
      });
    }
  }

  let agents: Item[] = [];
  if ('failure' in sn) {
    run.snapshot_error_code = cut(sn.failure.error_code, 60);
    run.snapshot_message = cut(sn.failure.error, 2000);
  } else {
    const s = validate(snapshotSchema, sn.ok, nw);
    checkVersion(s.schema_version, 'snapshot', 1, nw);
    run.snapshot_schema_version = s.schema_version ?? null;
    run.agents_from = 'snapshot';
    for (const ses of s.sessions) {
      agents.push(...ses.agents.map((a) => agentItem(ses.name, a)));
      // A session the status did not list (it failed, or the session came up in between).
      if (!sessions.has(ses.name)) {
        sessions.set(ses.name, { data: { ...BLANK, type: 'session', session: ses.name, attached: ses.attached ?? false, agent_count: ses.agents.length } });
      }
    }
  }
  const old = listed.filter((h) => h.agents);
  if (run.agents_from === null && old.length) {
    // An older ntm's status lists the agents itself; its shape is kept as raw.
    run.agents_from = 'status';
    agents = old.flatMap((h) => h.agents!.map((a) => ({ ...agentItem(h.name, a), raw: a })));
  }
  return [{ data: run }, ...sessions.values(), ...agents];
}

const num = (v: unknown): number | null => (typeof v === 'number' && Number.isSafeInteger(v) ? v : null);

/**
 * The event a line of events.jsonl carries, or why it has none. Encrypted lines (base64, no
 * leading `{`) are skipped and counted, never an error.
 */
export function ntmEventFact(_file: string, _offset: number, line: string): NtmItem | string | null {
  const t = line.trimStart();
  if (!t) return null;
  if (!t.startsWith('{')) return 'not plain JSON (an encrypted ntm event?)';
  const o = parseObject(t);
  if (!o) return 'not a JSON object';
  const ts = isoTime(o.timestamp);
  const type = asString(o.type);
  if (!ts || !type) return 'an event without a timestamp or type';
  const d = asObject(o.data) ?? {};
  return {
    ...BLANK, type: 'event', ts, event_type: type.slice(0, 60), session: asString(o.session)?.slice(0, 200) ?? null,
    agent_name: asString(o.agent_name)?.slice(0, 200) ?? null, correlation_id: asString(o.correlation_id)?.slice(0, 200) ?? null,
    agent_type: asString(d.agent_type)?.slice(0, 60) ?? null, model: asString(d.model)?.slice(0, 100) || null,
    variant: asString(d.variant)?.slice(0, 200) || null, pane: num(d.pane_index) === null ? null : String(d.pane_index),
    target_count: num(d.target_count), prompt_length: num(d.prompt_length), estimated_tokens: num(d.estimated_tokens),
    work_dir: asString(d.work_dir)?.slice(0, 1000) || null,
    error_code: type === 'error' ? asString(d.error_type)?.slice(0, 60) ?? null : null,
    message: type === 'error' ? asString(d.message)?.slice(0, 2000) ?? null : null,
  };
}

export const ntmEventItems = (file: TailFile, skip: (reason: string) => void): Item[] =>
  lineItems(file, ntmEventFact, 'ntm events.jsonl', skip);

/** Unset first: each of these would switch the output away from the JSON vc reads. */
const PIN = 'unset NTM_ROBOT_FORMAT NTM_OUTPUT_FORMAT TOON_DEFAULT_FORMAT NTM_ROBOT_VERBOSITY;';
const FLAGS = '--robot-format=json --robot-verbosity=default';

export const ntmCollector: CollectorDef = {
  name: 'ntm',
  version: '1.0.0',
  schemaVersion: 1,
  schema: ntmSchema,
  async collect(ctx) {
    const cfg = ctx.config.collectors.ntm;
    const run = await runTool(ctx, ['ntm'], [
      { name: 'status', run: `${PIN} "$VC_TOOL" --robot-status ${FLAGS}`, timeoutSeconds: cfg.step_timeout_seconds },
      { name: 'snapshot', run: `${PIN} "$VC_TOOL" --robot-snapshot ${FLAGS}`, timeoutSeconds: cfg.step_timeout_seconds },
    ]);
    if ('absent' in run) return { items: [], absent: run.absent };
    const items = ntmItems(run.steps.status!, run.steps.snapshot!);
    if (!cfg.events) return { items };
    // The state first: a problem reading the log then costs the events, not the sessions.
    await ctx.commit(items);
    const file = cfg.events_file;
    const out = await tailLogs(ctx, {
      what: 'read ntm events.jsonl',
      // The file alone: events.jsonl.old and .tmp exist only while ntm rewrites it.
      trees: [{ root: path.posix.dirname(file), name: path.posix.basename(file), maxDepth: 1 }],
      toItems: ntmEventItems,
      absent: `no ntm events log here (${file})`,
    });
    // No log yet is normal (ntm logs once something happens): the run is still a success.
    return { items: [], cursor: out.cursor };
  },
};
