// gemini-logs: Gemini CLI chats under tmp/<project>/chats/, read incrementally: the append-only
// JSONL stream (since 2026-04) and the legacy whole-file session-*.json ConversationRecord. Facts:
// each session header and each model message that carries tokens (../shared/upstream/agent-logs.md,
// section 3). Gemini appends a message again whenever it changes; the SQL keeps the last record
// per message id (views/v1/60_usage.sql). No message text is kept.
import { z } from 'zod';
import type { CollectorDef, Item } from '../collector.ts';
import type { FileCursor, TailFile } from '../tail.ts';
import { asCount, asIsoTime, asObject, asString, lineItems, lineKey, parseObject, tailLogs } from './logtail.ts';

const count = z.number().int().nonnegative().nullable();
const text = z.string().nullable();

const fields = {
  file: z.string(),
  byte_offset: z.number().int().nonnegative(),
  /** The <project-id> directory: a sha256 of the project root, or (since 2026-02) a short slug. */
  project: text,
  /** On session headers; on messages only when the file is a legacy JSON record. */
  session_id: text,
  project_hash: text,
  /** `main` | `subagent`. */
  session_kind: text,
  start_time: z.iso.datetime().nullable(),
  message_id: text,
  ts: z.iso.datetime().nullable(),
  model: text,
  input_tokens: count,
  output_tokens: count,
  /** A subset of input_tokens. */
  cached_tokens: count,
  thoughts_tokens: count,
  tool_tokens: count,
  total_tokens: count,
};

export const geminiLogsSchema = z.discriminatedUnion('type', [
  z.strictObject({ ...fields, type: z.literal('session'), session_id: z.string() }),
  z.strictObject({ ...fields, type: z.literal('message'), message_id: z.string(), ts: z.iso.datetime() }),
]);

export type GeminiLogsItem = z.infer<typeof geminiLogsSchema>;
type Blank = { [K in keyof typeof fields]: null };
const BLANK = Object.fromEntries(Object.keys(fields).map((k) => [k, null])) as Blank;


/** The <project-id> of a chat file: the directory that holds its chats/ directory. */
export const geminiProject = (file: string): string | null => /\/([^/]+)\/chats\//.exec(file)?.[1] ?? null;

type Fact = GeminiLogsItem | string | null;

/** A session header ({sessionId, projectHash, startTime, ...}), or null if the record is not one. */
function sessionFact(file: string, offset: number, o: Record<string, unknown>): Fact {
  if (typeof o.sessionId !== 'string') return null;
  return {
    ...BLANK, type: 'session', file, byte_offset: offset, project: geminiProject(file), session_id: o.sessionId,
    project_hash: asString(o.projectHash), session_kind: asString(o.kind), start_time: asIsoTime(o.startTime),
  };
}

/** A model message with tokens, a reason to skip it, or null (any other record). */
function messageFact(file: string, offset: number, o: Record<string, unknown>, sessionId: string | null): Fact {
  if (o.type !== 'gemini') return null;
  const tokens = asObject(o.tokens);
  if (!tokens) return null; // tokens arrive in a later copy of the message
  if (typeof o.id !== 'string') return 'model message without an id';
  const ts = asIsoTime(o.timestamp);
  if (!ts) return 'model message without a valid timestamp';
  const input = asCount(tokens.input);
  const output = asCount(tokens.output);
  if (input === null || output === null) return 'tokens whose input or output is not a non-negative integer';
  return {
    ...BLANK, type: 'message', file, byte_offset: offset, project: geminiProject(file), session_id: sessionId,
    message_id: o.id, ts, model: asString(o.model),
    input_tokens: input, output_tokens: output, cached_tokens: asCount(tokens.cached) ?? 0,
    thoughts_tokens: asCount(tokens.thoughts) ?? 0, tool_tokens: asCount(tokens.tool) ?? 0, total_tokens: asCount(tokens.total),
  };
}

/** One JSONL record: a session header, a model message, or nothing vc needs ($set, $rewindTo, user, ...). */
export function geminiLineFact(file: string, offset: number, line: string): Fact {
  if (!line.includes('"tokens"') && !line.includes('"sessionId"')) return null;
  const o = parseObject(line);
  if (!o) return 'not a JSON object';
  return sessionFact(file, offset, o) ?? messageFact(file, offset, o, null);
}

/** A legacy session-*.json, whole: its header and every model message in it. */
export function geminiRecordFacts(file: string, content: string, skip: (reason: string) => void): GeminiLogsItem[] {
  const o = parseObject(content);
  if (!o) {
    skip('legacy Gemini chat that is not a JSON object');
    return [];
  }
  const session = sessionFact(file, 0, o);
  const facts: GeminiLogsItem[] = session && typeof session === 'object' ? [session] : [];
  const messages = Array.isArray(o.messages) ? o.messages : [];
  messages.forEach((m, i) => {
    const message = asObject(m);
    const fact = message ? messageFact(file, i, message, asString(o.sessionId)) : 'legacy chat message that is not an object';
    if (typeof fact === 'string') skip(`${fact} (Gemini log)`);
    else if (fact) facts.push(fact);
  });
  return facts;
}

/**
 * The items of one collection run. A legacy .json file is one JSON document, rewritten on every
 * update (the tail reader sees the rewrite and reads it again from its start), usually ending
 * without a newline: its lines, and its held-back last line, are gathered across the run's batches
 * and parsed once the file has been read to its end.
 */
function geminiReader() {
  const partial = new Map<string, string[]>();
  return (file: TailFile, skip: (reason: string) => void, before: FileCursor | undefined): Item[] => {
    if (!file.path.includes('/chats/')) return [];
    if (file.path.endsWith('.json')) return legacyItems(file, skip, before, partial);
    return lineItems(file, geminiLineFact, 'Gemini log', skip);
  };
}

function legacyItems(file: TailFile, skip: (reason: string) => void, before: FileCursor | undefined, partial: Map<string, string[]>): Item[] {
  const start = file.lines[0]?.offset ?? file.pendingOffset;
  if (start === undefined) return [];
  let lines = partial.get(file.path);
  if (start === 0) {
    // A document of one line and no newline is never consumed, so it comes back whole every run:
    // unchanged (same file, same size), it has been stored already.
    const unchanged = !file.lines.length && before && file.cursor && before.inode === file.cursor.inode && before.size === file.cursor.size;
    if (unchanged) return [];
    lines = [];
  } else if (!lines) {
    // Only the held-back last line again: nothing new. Anything else is a change vc cannot follow.
    if (file.lines.length) skip('legacy Gemini chat that grew without being rewritten from its start (read again once it is rewritten)');
    return [];
  }
  lines.push(...file.lines.map((l) => l.text));
  if (file.more) {
    partial.set(file.path, lines);
    return [];
  }
  partial.delete(file.path);
  if (file.pending !== undefined) lines.push(file.pending);
  const content = lines.join('\n');
  const version = lineKey(file.path, content);
  return geminiRecordFacts(file.path, content, skip).map((data, i) => ({ kind: 'event', key: `${version}-${i}`, data }));
}

export const geminiLogsCollector: CollectorDef = {
  name: 'gemini-logs',
  version: '1.0.0',
  schemaVersion: 1,
  schema: geminiLogsSchema,
  collect: (ctx) => {
    const roots = ctx.config.collectors['gemini-logs'].roots;
    return tailLogs(ctx, {
      what: 'read Gemini CLI logs',
      trees: roots.flatMap((root) => [{ root, name: '*.jsonl' }, { root, name: 'session-*.json' }]),
      toItems: geminiReader(),
      absent: `no Gemini CLI logs here (none of ${roots.join(', ')} exists)`,
    });
  },
};
