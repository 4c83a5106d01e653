// codex-logs: Codex CLI rollout files (sessions/YYYY/MM/DD/rollout-*.jsonl and archived_sessions/),
// read incrementally. Facts: each session_meta (session id, cwd, fork parent, git), each
// turn_context (the model for the token counts after it) and each token_count event (the cumulative
// and the last usage, the model where the event names one, and the server's rate limits), with the
// byte offset that orders them within their file (../shared/upstream/agent-logs.md, section 2).
// Which events count, and by how much, is the SQL's (views/v1/60_usage.sql).
import { z } from 'zod';
import type { CollectorDef, Item } from '../collector.ts';
import type { TailFile } from '../tail.ts';
import { asCount, asIsoTime, asObject, asString, lineItems, parseObject, tailLogs } from './logtail.ts';

const count = z.number().int().nonnegative().nullable();
const text = z.string().nullable();
const num = z.number().nullable();

/** Every item carries every field, null where it does not apply: the SQL reads their union. */
const fields = {
  file: z.string(),
  byte_offset: z.number().int().nonnegative(),
  ts: z.iso.datetime().nullable(),
  session_id: text,
  cwd: text,
  forked_from_id: text,
  originator: text,
  cli_version: text,
  /** `cli`, `vscode`, `exec`, `mcp`, or `subagent` (given as an object upstream). */
  session_source: text,
  git_branch: text,
  git_repository_url: text,
  model: text,
  /** Cumulative usage of the session so far (total_token_usage). */
  total_input_tokens: count,
  total_cached_input_tokens: count,
  total_output_tokens: count,
  total_reasoning_output_tokens: count,
  total_tokens: count,
  /** Usage of the last API response (last_token_usage). */
  last_input_tokens: count,
  last_cached_input_tokens: count,
  last_output_tokens: count,
  last_reasoning_output_tokens: count,
  last_total_tokens: count,
  model_context_window: count,
  /** The server's own windows: primary (5 hours) and secondary (weekly). */
  primary_used_percent: num,
  primary_window_minutes: count,
  primary_resets_at: z.iso.datetime().nullable(),
  secondary_used_percent: num,
  secondary_window_minutes: count,
  secondary_resets_at: z.iso.datetime().nullable(),
  plan_type: text,
};

export const codexLogsSchema = z.discriminatedUnion('type', [
  z.strictObject({ ...fields, type: z.literal('session') }),
  z.strictObject({ ...fields, type: z.literal('turn') }),
  z.strictObject({ ...fields, type: z.literal('tokens'), ts: z.iso.datetime() }),
]);

export type CodexLogsItem = z.infer<typeof codexLogsSchema>;
type Blank = { [K in keyof typeof fields]: null };
const BLANK = Object.fromEntries(Object.keys(fields).map((k) => [k, null])) as Blank;

const finite = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);

/** Unix seconds as an ISO timestamp (rate-limit resets), or null. */
function unixTime(v: unknown): string | null {
  const n = finite(v);
  return n === null || n < 0 || n > 1e11 ? null : new Date(n * 1000).toISOString();
}

interface Usage { input: number | null; cached: number | null; output: number | null; reasoning: number | null; total: number | null }

/** TokenUsage; older logs call the cached field cache_read_input_tokens and may lack total_tokens. */
function usage(v: unknown): Usage | null {
  const u = asObject(v);
  if (!u) return null;
  const input = asCount(u.input_tokens);
  const output = asCount(u.output_tokens);
  const total = asCount(u.total_tokens) ?? (input !== null && output !== null ? input + output : null);
  return { input, cached: asCount(u.cached_input_tokens) ?? asCount(u.cache_read_input_tokens), output, reasoning: asCount(u.reasoning_output_tokens), total };
}

function limit(v: unknown): { used: number | null; window: number | null; resets: string | null } {
  const l = asObject(v);
  return { used: finite(l?.used_percent), window: asCount(l?.window_minutes), resets: unixTime(l?.resets_at) };
}

/** What the three line types vc reads hold; every other line (messages, tool calls, reasoning) is skipped unread. */
const CODEX_LINES = ['"session_meta"', '"turn_context"', '"token_count"'];

/** The fact a rollout line carries, a reason to skip it, or null (a line vc does not need). */
export function codexFact(file: string, offset: number, line: string): CodexLogsItem | string | null {
  if (!CODEX_LINES.some((t) => line.includes(t))) return null;
  const o = parseObject(line);
  if (!o) return 'not a JSON object';
  const payload = asObject(o.payload);
  const ts = asIsoTime(o.timestamp);
  if (!payload) return null;
  const base = { ...BLANK, file, byte_offset: offset, ts };
  if (o.type === 'session_meta') {
    const git = asObject(payload.git);
    const source = payload.source;
    return {
      ...base, type: 'session',
      session_id: asString(payload.id), cwd: asString(payload.cwd), forked_from_id: asString(payload.forked_from_id),
      originator: asString(payload.originator), cli_version: asString(payload.cli_version),
      session_source: typeof source === 'string' ? source : asObject(source) ? Object.keys(asObject(source)!)[0] ?? null : null,
      git_branch: asString(git?.branch), git_repository_url: asString(git?.repository_url),
    };
  }
  if (o.type === 'turn_context') return { ...base, type: 'turn', cwd: asString(payload.cwd), model: asString(payload.model) };
  if (o.type !== 'event_msg' || payload.type !== 'token_count') return null;
  if (!ts) return 'token_count without a valid timestamp';
  const info = asObject(payload.info);
  const total = usage(info?.total_token_usage);
  const last = usage(info?.last_token_usage);
  if (info && (!total || total.input === null || total.output === null)) return 'token_count whose total usage lacks input or output tokens';
  const limits = asObject(payload.rate_limits);
  const primary = limit(limits?.primary);
  const secondary = limit(limits?.secondary);
  return {
    ...base, type: 'tokens', ts,
    model: asString(info?.model) ?? asString(info?.model_name) ?? asString(payload.model),
    total_input_tokens: total?.input ?? null, total_cached_input_tokens: total?.cached ?? null,
    total_output_tokens: total?.output ?? null, total_reasoning_output_tokens: total?.reasoning ?? null,
    total_tokens: total?.total ?? null,
    last_input_tokens: last?.input ?? null, last_cached_input_tokens: last?.cached ?? null,
    last_output_tokens: last?.output ?? null, last_reasoning_output_tokens: last?.reasoning ?? null,
    last_total_tokens: last?.total ?? null,
    model_context_window: asCount(info?.model_context_window),
    primary_used_percent: primary.used, primary_window_minutes: primary.window, primary_resets_at: primary.resets,
    secondary_used_percent: secondary.used, secondary_window_minutes: secondary.window, secondary_resets_at: secondary.resets,
    plan_type: asString(limits?.plan_type),
  };
}

export const codexItems = (file: TailFile, skip: (reason: string) => void): Item[] =>
  lineItems(file, codexFact, 'Codex log', skip);

export const codexLogsCollector: CollectorDef = {
  name: 'codex-logs',
  version: '1.0.0',
  schemaVersion: 1,
  schema: codexLogsSchema,
  collect: (ctx) => tailLogs(ctx, {
    what: 'read Codex logs',
    trees: ctx.config.collectors['codex-logs'].roots.map((root) => ({ root, name: 'rollout-*.jsonl' })),
    toItems: codexItems,
    lineFilter: CODEX_LINES,
    absent: `no Codex logs here (none of ${ctx.config.collectors['codex-logs'].roots.join(', ')} exists)`,
  }),
};
