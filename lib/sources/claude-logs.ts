// claude-logs: Claude Code session transcripts (projects/**/*.jsonl under both roots), read
// incrementally. One fact per line that carries usage: the ids the dedup rule keys on, the model,
// the token classes and the flags the SQL filters on (../shared/upstream/agent-logs.md, section 1).
// No transcript text is kept. Dedup and pricing are the SQL's (views/v1/60_usage.sql): the rule has
// changed several times upstream, and a view change needs no re-collection.
import { z } from 'zod';
import type { CollectorDef, Item } from '../collector.ts';
import type { TailFile } from '../tail.ts';
import { asCount, asObject, asString, lineItems, parseObject, tailLogs } from './logtail.ts';

const count = z.number().int().nonnegative();
const text = z.string().nullable();

export const claudeLogsSchema = z.strictObject({
  file: z.string(),
  byte_offset: count,
  ts: z.iso.datetime(),
  session_id: text,
  cwd: text,
  version: text,
  is_sidechain: z.boolean(),
  is_api_error: z.boolean(),
  message_id: text,
  request_id: text,
  model: text,
  /** `standard` | `fast`; fast mode is priced with a multiplier. */
  speed: text,
  input_tokens: count,
  output_tokens: count,
  /** All cache writes (cache_creation_input_tokens). */
  cache_creation_tokens: count,
  /** The split of cache writes by TTL, when the line has it (else all of them count as 5m). */
  cache_creation_5m_tokens: count.nullable(),
  cache_creation_1h_tokens: count.nullable(),
  cache_read_tokens: count,
  /** Only old Claude Code versions wrote a cost. */
  cost_usd: z.number().nonnegative().nullable(),
});

export type ClaudeLogsItem = z.infer<typeof claudeLogsSchema>;

/** ccusage's timestamp rule: ISO 8601 UTC, seconds, optional milliseconds. */
const TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{3})?Z$/;

/** An optional count: null when absent, undefined when present but not a count. */
const optCount = (v: unknown): number | null | undefined => (v === undefined || v === null ? null : asCount(v) ?? undefined);

/**
 * The fact a line carries, or the reason it has none worth storing (null: a line without usage,
 * which is most of them). Follows ccusage's schema: a timestamp and message.usage with numeric
 * input and output tokens are required, everything else is optional.
 */
export function claudeFact(file: string, offset: number, line: string): ClaudeLogsItem | string | null {
  // Most lines (user turns, tool results, snapshots) have no usage: skip them unparsed.
  if (!line.includes('"usage"')) return null;
  const o = parseObject(line);
  if (!o) return 'not a JSON object';
  const message = asObject(o.message);
  const usage = asObject(message?.usage);
  if (!message || !usage) return null;
  if (typeof o.timestamp !== 'string' || !TIMESTAMP.test(o.timestamp)) return 'usage line without a valid timestamp';
  const input = asCount(usage.input_tokens);
  const output = asCount(usage.output_tokens);
  const creation = optCount(usage.cache_creation_input_tokens);
  const read = optCount(usage.cache_read_input_tokens);
  if (input === null || output === null || creation === undefined || read === undefined) return 'usage with token counts that are not non-negative integers';
  const split = asObject(usage.cache_creation);
  const c5m = optCount(split?.ephemeral_5m_input_tokens);
  const c1h = optCount(split?.ephemeral_1h_input_tokens);
  const speed = asString(usage.speed);
  const cost = o.costUSD;
  return {
    file,
    byte_offset: offset,
    ts: o.timestamp,
    session_id: asString(o.sessionId),
    cwd: asString(o.cwd),
    version: asString(o.version),
    is_sidechain: o.isSidechain === true,
    is_api_error: o.isApiErrorMessage === true,
    message_id: asString(message.id),
    request_id: asString(o.requestId),
    model: asString(message.model),
    speed: speed === 'standard' || speed === 'fast' ? speed : null,
    input_tokens: input,
    output_tokens: output,
    cache_creation_tokens: creation ?? 0,
    cache_creation_5m_tokens: split ? c5m ?? 0 : null,
    cache_creation_1h_tokens: split ? c1h ?? 0 : null,
    cache_read_tokens: read ?? 0,
    cost_usd: typeof cost === 'number' && Number.isFinite(cost) && cost >= 0 ? cost : null,
  };
}

export const claudeItems = (file: TailFile, skip: (reason: string) => void): Item[] =>
  lineItems(file, claudeFact, 'Claude Code log', skip);

export const claudeLogsCollector: CollectorDef = {
  name: 'claude-logs',
  version: '1.0.0',
  schemaVersion: 1,
  schema: claudeLogsSchema,
  collect: (ctx) => tailLogs(ctx, {
    what: 'read Claude Code logs',
    trees: ctx.config.collectors['claude-logs'].roots.map((root) => ({ root, name: '*.jsonl' })),
    toItems: claudeItems,
    // What claudeFact checks first: most lines (and most of the bytes) carry no usage.
    lineFilter: ['"usage"'],
    absent: `no Claude Code logs here (none of ${ctx.config.collectors['claude-logs'].roots.join(', ')} exists)`,
  }),
};
