// mcp_agent_mail: its agents' messages, who read and acknowledged them, and their file
// reservations, read from the server's SQLite store (storage.sqlite3) through the sqlite3 CLI on
// the machine (lib/sources/sqlite.ts: read-only, works over SSH). See
// ../shared/upstream/mcp_agent_mail.md: §2 the schema, §3 the queries (a)-(f) followed here, §5
// the Rust port that rewrites every timestamp as integer microseconds.
//
// Stored per store (the path is in every row, its hash in every key):
//   events, each once (natural keys; re-reads dedupe in the views):
//     message      a new message (id cursor): subject, importance, body LENGTH only (bodies may
//                  hold anything an agent pasted), attachment count; never body_md/attachments
//     recipient    a message's recipient row as first read (with its read/ack times then)
//     read, ack    a recipient's read_ts / ack_ts, from a time cursor (they are UPDATEd in place)
//     reservation  a new file reservation (id cursor), as first read
//     release      a reservation's released_ts, from a time cursor
//   snapshots, every run (the views' current state; events older than the recent window are not
//   read by them):
//     store        layout (text or integer timestamps), columns missing, totals
//     open         per recipient: an urgent unread message or an ack still pending (last 7 days,
//                  recipient not retired), newest first, capped
//     held         unreleased reservations (expired less than a day ago at most), with the holder
//     agent        the agents active in the last 7 days (query (e); never registration_token)
// A long history is read in batches, each committed with the cursor that covers it (as
// lib/sources/logtail.ts does), so a first run that runs out of time goes on from there next time.
import { createHash } from 'node:crypto';
import { z } from 'zod';
import type { CollectContext, CollectOutput, CollectorDef, Item } from '../collector.ts';
import { shPath } from '../shell.ts';
import { readSqlite, sqlInt, sqliteTime, sqlText, type SqliteQuery, type SqliteRow } from './sqlite.ts';

const id = z.number().int().nullable();
const text = z.string().nullable();
const time = z.iso.datetime().nullable();

export const ITEM_TYPES = ['store', 'message', 'recipient', 'read', 'ack', 'reservation', 'release', 'open', 'held', 'agent'] as const;

export const agentMailSchema = z.strictObject({
  type: z.enum(ITEM_TYPES),
  /** The store's path as configured (absolute or ~/ on the machine). */
  store: z.string(),
  /** Events: when it happened (message or reservation created, read, acknowledged, released). */
  ts: time,
  project_id: id,
  project_slug: text,
  /** The project's human_key: usually the repository's absolute path. */
  project_path: text,
  message_id: id,
  thread_id: text,
  topic: text,
  subject: text,
  /** Length of the Markdown body in characters; the body itself is never read. */
  body_chars: id,
  /** low, normal, high, urgent, or other (free-form upstream); importance_raw keeps what it said. */
  importance: text,
  importance_raw: text,
  ack_required: z.boolean().nullable(),
  attachment_count: id,
  sender_id: id,
  sender_name: text,
  /** The recipient (open, recipient, read, ack), the holder (reservation, held) or the agent itself (agent). */
  agent_id: id,
  agent_name: text,
  agent_program: text,
  agent_model: text,
  contact_policy: text,
  agent_inception_at: time,
  agent_last_active_at: time,
  agent_retired_at: time,
  /** to, cc or bcc. */
  recipient_kind: text,
  read_at: time,
  ack_at: time,
  reservation_id: id,
  path_pattern: text,
  exclusive: z.boolean().nullable(),
  reason: text,
  /** The message's or reservation's creation time. */
  created_at: time,
  expires_at: time,
  released_at: time,
  /** store: 'text' (the Python server's 'YYYY-MM-DD HH:MM:SS.ffffff') or 'integer' (µs, the Rust port's migrations ran). */
  layout: z.enum(['text', 'integer']).nullable(),
  /** store: table.column names vc reads that this store lacks (older server), read as NULL. */
  missing_columns: z.array(z.string()).nullable(),
  last_message_id: id,
  agents_total: id,
  agents_live: id,
  /** store: open items of the last 7 days (recipients not retired), of which `open` rows show the newest. */
  urgent_unread_total: id,
  ack_pending_total: id,
  reservations_active_total: id,
});

export type AgentMailItem = z.infer<typeof agentMailSchema>;

const BLANK = Object.fromEntries(Object.keys(agentMailSchema.shape).filter((k) => k !== 'type' && k !== 'store').map((k) => [k, null])) as
  Omit<AgentMailItem, 'type' | 'store'>;

/** Rows per stream and batch, by default ([collectors.agent-mail] batch_rows). */
export const BATCH = 2000;
/** Open items and agents are looked at over this many days: older ones are abandoned, not news. */
const OPEN_DAYS = 7;
/** Unreleased reservations are shown until a day after they expired (expired-unreleased is normal upstream). */
const HELD_GRACE_DAYS = 1;
const MAX_OPEN = 500;
const MAX_HELD = 1000;
const MAX_AGENTS = 500;
/**
 * Read and release times are written before the write lock is won (a 60 s busy timeout
 * upstream), so a row can commit with a time earlier than one already read: each time stream
 * re-reads this far behind its mark and skips the rows it has seen.
 */
export const SLACK_US = 120_000_000;
/** Share of the run's timeout a catch-up may use (as lib/sources/logtail.ts). */
const CATCH_UP_SHARE = 0.6;
/** Where the server keeps its store by default (relative to its working directory: usually its checkout). */
export const USUAL_STORES = ['/data/projects/mcp_agent_mail/storage.sqlite3', '~/mcp_agent_mail/storage.sqlite3'];

// ---------------------------------------------------------------------------------------------
// Timestamps: text 'YYYY-MM-DD HH:MM:SS[.ffffff]' (naive UTC) or integer µs since the epoch.

/** A stored timestamp as µs since the epoch, or null. Exact to the µs for both layouts (cursors). */
export function timeUs(v: unknown): number | null {
  if (typeof v === 'number') return Number.isSafeInteger(v) && v > 0 ? v : null;
  if (typeof v !== 'string') return null;
  const m = /^(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2}:\d{2})(?:\.(\d{1,9}))?$/.exec(v);
  if (!m) return null;
  const ms = Date.parse(`${m[1]}T${m[2]}Z`);
  if (!Number.isFinite(ms)) return null;
  return ms * 1000 + Number((m[3] ?? '').padEnd(6, '0').slice(0, 6));
}

export type Layout = 'text' | 'integer';

/** A µs time as an SQL literal that compares right with the store's column values. */
export function sqlTime(us: number, layout: Layout): string {
  if (layout === 'integer') return sqlInt(us);
  const iso = new Date(Math.floor(us / 1000)).toISOString();
  return sqlText(`${iso.slice(0, 10)} ${iso.slice(11, 19)}.${String(us % 1_000_000).padStart(6, '0')}`);
}

// ---------------------------------------------------------------------------------------------
// The store's shape: which of the tables and columns vc reads it has (PRAGMA table_info).

const TABLES = ['projects', 'agents', 'messages', 'message_recipients', 'file_reservations', 'mcp_agent_mail_migrations'] as const;
/** Without these the store is not one vc can read. */
const REQUIRED: Record<string, string[]> = {
  messages: ['id', 'project_id', 'sender_id', 'created_ts'],
  message_recipients: ['message_id', 'agent_id'],
  agents: ['id', 'name'],
  projects: ['id'],
};

export const SCHEMA_QUERY: SqliteQuery = {
  name: 'tables',
  sql: `SELECT m.name AS tbl, p.name AS col FROM sqlite_master m JOIN pragma_table_info(m.name) p
WHERE m.type = 'table' AND m.name IN (${TABLES.map(sqlText).join(', ')}) ORDER BY m.name, p.cid`,
};

export class StoreShape {
  readonly missing = new Set<string>();
  constructor(readonly tables: Map<string, Set<string>>) {}

  get layout(): Layout {
    return this.tables.has('mcp_agent_mail_migrations') ? 'integer' : 'text';
  }

  has(table: string, column?: string): boolean {
    const t = this.tables.get(table);
    return t !== undefined && (column === undefined || t.has(column));
  }

  /** `alias.column AS name`, or `NULL AS name` (noted as missing) when the store lacks it. */
  col(alias: string, table: string, column: string, as = column): string {
    if (this.has(table, column)) return `${alias}."${column}" AS ${as}`;
    this.missing.add(`${table}.${column}`);
    return `NULL AS ${as}`;
  }

  /** A condition on a column that holds when the column is missing (e.g. retired_at IS NULL). */
  where(table: string, column: string, cond: (ref: string) => string, alias: string): string {
    if (this.has(table, column)) return cond(`${alias}."${column}"`);
    this.missing.add(`${table}.${column}`);
    return '1';
  }
}

/** The store's shape from SCHEMA_QUERY's rows; an Error when it is not mcp_agent_mail's store. */
export function storeShape(rows: SqliteRow[], file: string): StoreShape {
  const tables = new Map<string, Set<string>>();
  for (const r of rows) {
    if (typeof r.tbl !== 'string' || typeof r.col !== 'string') continue;
    if (!tables.has(r.tbl)) tables.set(r.tbl, new Set());
    tables.get(r.tbl)!.add(r.col);
  }
  for (const [table, columns] of Object.entries(REQUIRED)) {
    if (!tables.has(table)) throw new Error(`${file} is not an mcp_agent_mail store: it has no ${table} table`);
    const lacking = columns.filter((c) => !tables.get(table)!.has(c));
    if (lacking.length) throw new Error(`${file} is not an mcp_agent_mail store vc can read: ${table} has no ${lacking.join(', ')}`);
  }
  return new StoreShape(tables);
}

// ---------------------------------------------------------------------------------------------
// The cursor: per store, an id per id stream and a time mark per time stream.

const mark = z.strictObject({ us: z.number().int().nullable(), seen: z.array(z.string()) });
const storeCursor = z.strictObject({
  message_id: z.number().int().min(0),
  reservation_id: z.number().int().min(0),
  read: mark,
  ack: mark,
  release: mark,
});
const cursorSchema = z.strictObject({ v: z.literal(1), stores: z.record(z.string(), storeCursor) });

export type TimeMark = z.infer<typeof mark>;
export type StoreCursor = z.infer<typeof storeCursor>;
export type MailCursor = z.infer<typeof cursorSchema>;

const emptyMark = (): TimeMark => ({ us: null, seen: [] });
export const freshStoreCursor = (): StoreCursor => ({ message_id: 0, reservation_id: 0, read: emptyMark(), ack: emptyMark(), release: emptyMark() });

/** The saved cursor, or a fresh one (with a warning when one was saved but is not understood). */
export function cursorFrom(saved: unknown, warn: (m: string) => void): MailCursor {
  if (saved === null || saved === undefined) return { v: 1, stores: {} };
  const r = cursorSchema.safeParse(saved);
  if (r.success) return r.data;
  warn('the saved cursor was not understood: the stores are read from the start (rows read again are deduplicated)');
  return { v: 1, stores: {} };
}

// ---------------------------------------------------------------------------------------------
// Queries (../shared/upstream/mcp_agent_mail.md §3), built for one store's shape and cursor.

/** The time streams: a table's timestamp column read past a mark. */
const TIME_STREAMS = {
  read: { table: 'message_recipients', column: 'read_ts', ids: ['message_id', 'agent_id'] },
  ack: { table: 'message_recipients', column: 'ack_ts', ids: ['message_id', 'agent_id'] },
  release: { table: 'file_reservations', column: 'released_ts', ids: ['id'] },
} as const;
type TimeStream = keyof typeof TIME_STREAMS;

const importanceIsUrgent = (ref: string) => `lower(trim(${ref})) IN ('high', 'urgent')`;

export type Stream = 'messages' | 'reservations' | TimeStream;
export const STREAMS: readonly Stream[] = ['messages', 'reservations', 'read', 'ack', 'release'];

/**
 * The batch's queries: the `streams` still to read past the cursor (after the first batch, only
 * those whose last batch was full), and (first batch) the snapshots.
 */
export function batchQueries(shape: StoreShape, c: StoreCursor, nowUs: number, snapshots: boolean,
  streams: ReadonlySet<Stream> = new Set(STREAMS), batch = BATCH): SqliteQuery[] {
  const L = shape.layout;
  const q: SqliteQuery[] = [];
  const msgs = `SELECT id FROM messages WHERE id > ${sqlInt(c.message_id)} ORDER BY id LIMIT ${sqlInt(batch)}`;
  // (a) new messages; never body_md or attachments themselves.
  if (streams.has('messages')) q.push({ name: 'messages', sql: `SELECT m.id, m.project_id, ${shape.col('p', 'projects', 'slug', 'project_slug')},
  ${shape.col('p', 'projects', 'human_key', 'project_path')}, m.sender_id, ${shape.col('s', 'agents', 'name', 'sender_name')},
  ${shape.col('m', 'messages', 'thread_id')}, ${shape.col('m', 'messages', 'topic')},
  ${shape.has('messages', 'subject') ? 'substr(m.subject, 1, 500)' : 'NULL'} AS subject,
  ${shape.has('messages', 'body_md') ? 'length(m.body_md)' : 'NULL'} AS body_chars,
  ${shape.col('m', 'messages', 'importance')}, ${shape.col('m', 'messages', 'ack_required')}, m.created_ts,
  ${shape.has('messages', 'attachments') ? 'CASE WHEN json_valid(m.attachments) THEN json_array_length(m.attachments) END' : 'NULL'} AS attachment_count
FROM messages m LEFT JOIN projects p ON p.id = m.project_id LEFT JOIN agents s ON s.id = m.sender_id
WHERE m.id > ${sqlInt(c.message_id)} ORDER BY m.id LIMIT ${sqlInt(batch)}` });
  // (b) their recipients (bounded by the same batch of ids; cut to the messages read, in collect()).
  if (streams.has('messages')) q.push({ name: 'recipients', sql: `SELECT r.message_id, r.agent_id, a.name AS agent_name, ${shape.col('r', 'message_recipients', 'kind')},
  ${shape.col('r', 'message_recipients', 'read_ts')}, ${shape.col('r', 'message_recipients', 'ack_ts')}
FROM message_recipients r LEFT JOIN agents a ON a.id = r.agent_id
WHERE r.message_id > ${sqlInt(c.message_id)} AND r.message_id <= (SELECT max(id) FROM (${msgs}))
ORDER BY r.message_id, r.agent_id` });
  // (c) read and ack times past their marks, (f') releases past theirs.
  for (const [name, s] of Object.entries(TIME_STREAMS) as Array<[TimeStream, typeof TIME_STREAMS[TimeStream]]>) {
    if (!shape.has(s.table, s.column)) {
      shape.missing.add(shape.has(s.table) ? `${s.table}.${s.column}` : s.table);
      continue;
    }
    if (!streams.has(name)) continue;
    const m = c[name];
    const ref = `t."${s.column}"`;
    const from = m.us === null ? '' : ` AND ${ref} >= ${sqlTime(Math.max(1, m.us - SLACK_US), L)}`;
    q.push({ name, sql: `SELECT ${s.ids.map((i) => `t.${i}`).join(', ')}, ${ref} AS ts FROM ${s.table} t
WHERE ${ref} IS NOT NULL${from} ORDER BY ${ref}, ${s.ids.map((i) => `t.${i}`).join(', ')} LIMIT ${sqlInt(batch + m.seen.length)}` });
  }
  // A store older than 2025-10 has `claims` instead (never migrated): no reservations then.
  const reservations = shape.has('file_reservations', 'id');
  if (!shape.has('file_reservations')) shape.missing.add('file_reservations');
  // (f) new reservations.
  if (reservations && streams.has('reservations')) {
    q.push({ name: 'reservations', sql: `SELECT f.id, ${reservationColumns(shape)}, ${shape.col('f', 'file_reservations', 'released_ts')}
FROM file_reservations f LEFT JOIN agents a ON a.id = f.agent_id LEFT JOIN projects p ON p.id = f.project_id
WHERE f.id > ${sqlInt(c.reservation_id)} ORDER BY f.id LIMIT ${sqlInt(batch)}` });
  }
  if (!snapshots) return q;

  // The current state. Open items: (d) pending acks, with urgent unread, per recipient and message.
  const since = sqlTime(nowUs - OPEN_DAYS * 86_400_000_000, L);
  const now = sqlTime(nowUs, L);
  const urgent = shape.has('messages', 'importance') ? importanceIsUrgent('m.importance') : '0';
  const unread = shape.has('message_recipients', 'read_ts') ? 'r.read_ts IS NULL' : '0';
  const needsAck = shape.has('messages', 'ack_required') && shape.has('message_recipients', 'ack_ts') ? 'm.ack_required = 1 AND r.ack_ts IS NULL' : '0';
  const openFrom = `FROM message_recipients r JOIN messages m ON m.id = r.message_id
LEFT JOIN agents a ON a.id = r.agent_id LEFT JOIN projects p ON p.id = m.project_id
WHERE m.created_ts >= ${since} AND ${shape.where('agents', 'retired_at', (x) => `${x} IS NULL`, 'a')}
  AND ${shape.where('projects', 'archived_at', (x) => `${x} IS NULL`, 'p')}`;
  q.push({ name: 'open', sql: `SELECT m.id AS message_id, r.agent_id, a.name AS agent_name, ${shape.col('a', 'agents', 'program', 'agent_program')},
  ${shape.col('a', 'agents', 'last_active_ts', 'agent_last_active_ts')}, m.project_id, ${shape.col('p', 'projects', 'slug', 'project_slug')},
  ${shape.col('p', 'projects', 'human_key', 'project_path')}, m.sender_id, (SELECT s.name FROM agents s WHERE s.id = m.sender_id) AS sender_name,
  ${shape.col('m', 'messages', 'thread_id')}, ${shape.has('messages', 'subject') ? 'substr(m.subject, 1, 500)' : 'NULL'} AS subject,
  ${shape.col('m', 'messages', 'importance')}, ${shape.col('m', 'messages', 'ack_required')}, m.created_ts,
  ${shape.col('r', 'message_recipients', 'kind')}, ${shape.col('r', 'message_recipients', 'read_ts')}, ${shape.col('r', 'message_recipients', 'ack_ts')}
${openFrom} AND ((${urgent} AND ${unread}) OR (${needsAck}))
ORDER BY m.created_ts DESC, m.id DESC, r.agent_id LIMIT ${MAX_OPEN}` });
  if (reservations && shape.has('file_reservations', 'expires_ts')) {
    q.push({ name: 'held', sql: `SELECT f.id, ${reservationColumns(shape)},
  ${shape.col('a', 'agents', 'program', 'agent_program')}, ${shape.col('a', 'agents', 'last_active_ts', 'agent_last_active_ts')},
  ${shape.col('a', 'agents', 'retired_at', 'agent_retired_at')}
FROM file_reservations f LEFT JOIN agents a ON a.id = f.agent_id LEFT JOIN projects p ON p.id = f.project_id
WHERE ${shape.where('file_reservations', 'released_ts', (x) => `${x} IS NULL`, 'f')}
  AND f.expires_ts > ${sqlTime(nowUs - HELD_GRACE_DAYS * 86_400_000_000, L)}
ORDER BY f.expires_ts DESC, f.id DESC LIMIT ${MAX_HELD}` });
  } else if (reservations) {
    shape.missing.add('file_reservations.expires_ts');
  }
  // (e) agents, never registration_token.
  const lastActive = shape.has('agents', 'last_active_ts') ? `WHERE a.last_active_ts >= ${since} ORDER BY a.last_active_ts DESC, a.id` : 'ORDER BY a.id DESC';
  q.push({ name: 'agents', sql: `SELECT a.id, ${shape.col('a', 'agents', 'project_id')}, ${shape.col('p', 'projects', 'slug', 'project_slug')},
  ${shape.col('p', 'projects', 'human_key', 'project_path')}, a.name, ${shape.col('a', 'agents', 'program')}, ${shape.col('a', 'agents', 'model')},
  ${shape.col('a', 'agents', 'inception_ts')}, ${shape.col('a', 'agents', 'last_active_ts')}, ${shape.col('a', 'agents', 'contact_policy')},
  ${shape.col('a', 'agents', 'retired_at')}
FROM agents a LEFT JOIN projects p ON p.id = a.project_id ${lastActive} LIMIT ${MAX_AGENTS}` });
  const retired = shape.has('agents', 'retired_at') ? '(SELECT count(*) FROM agents WHERE retired_at IS NULL)' : '(SELECT count(*) FROM agents)';
  const active = reservations && shape.has('file_reservations', 'expires_ts')
    ? `(SELECT count(*) FROM file_reservations f WHERE ${shape.where('file_reservations', 'released_ts', (x) => `${x} IS NULL`, 'f')} AND f.expires_ts > ${now})`
    : 'NULL';
  q.push({ name: 'totals', sql: `SELECT (SELECT max(id) FROM messages) AS last_message_id, (SELECT count(*) FROM agents) AS agents_total,
  ${retired} AS agents_live,
  (SELECT count(*) ${openFrom} AND ${urgent} AND ${unread}) AS urgent_unread_total,
  (SELECT count(*) ${openFrom} AND ${needsAck}) AS ack_pending_total,
  ${active} AS reservations_active_total` });
  return q;
}

function reservationColumns(shape: StoreShape): string {
  return [
    shape.col('f', 'file_reservations', 'project_id'), shape.col('p', 'projects', 'slug', 'project_slug'),
    shape.col('p', 'projects', 'human_key', 'project_path'), shape.col('f', 'file_reservations', 'agent_id'), 'a.name AS agent_name',
    shape.col('f', 'file_reservations', 'path_pattern'), shape.col('f', 'file_reservations', 'exclusive'),
    shape.col('f', 'file_reservations', 'reason'), shape.col('f', 'file_reservations', 'created_ts'),
    shape.col('f', 'file_reservations', 'expires_ts'),
  ].join(', ');
}

// ---------------------------------------------------------------------------------------------
// Rows to items (pure: exported for tests).

const int = (v: unknown): number | null => (typeof v === 'number' && Number.isSafeInteger(v) ? v : null);
const str = (v: unknown, max = 500): string | null => (typeof v === 'string' ? v.slice(0, max) : typeof v === 'number' ? String(v) : null);
const bool = (v: unknown): boolean | null => (v === 1 || v === true ? true : v === 0 || v === false ? false : null);

/** Upstream's importance, free-form: its four documented values, or other. */
export function importance(v: unknown): string | null {
  if (typeof v !== 'string') return null;
  const n = v.trim().toLowerCase();
  return ['low', 'normal', 'high', 'urgent'].includes(n) ? n : 'other';
}

/** The short tag of a store in keys: two stores on a machine never share a key. */
const tags = new Map<string, string>();
export function storeTag(file: string): string {
  let t = tags.get(file);
  if (t === undefined) tags.set(file, t = createHash('sha256').update(file).digest('hex').slice(0, 8));
  return t;
}

const item = (store: string, type: AgentMailItem['type'], fields: Partial<AgentMailItem>): AgentMailItem =>
  ({ ...BLANK, ...fields, type, store });

const messageFields = (r: SqliteRow): Partial<AgentMailItem> => ({
  project_id: int(r.project_id), project_slug: str(r.project_slug), project_path: str(r.project_path, 1000),
  thread_id: str(r.thread_id, 200), subject: str(r.subject), importance: importance(r.importance),
  importance_raw: str(r.importance, 40), ack_required: bool(r.ack_required), created_at: sqliteTime(r.created_ts),
  sender_id: int(r.sender_id), sender_name: str(r.sender_name, 200),
});

export function messageItem(store: string, r: SqliteRow): Item {
  const at = sqliteTime(r.created_ts);
  return {
    kind: 'event', key: `${storeTag(store)}:message:${int(r.id)}`,
    data: item(store, 'message', {
      ...messageFields(r), ts: at, message_id: int(r.id), topic: str(r.topic, 200), body_chars: int(r.body_chars),
      attachment_count: int(r.attachment_count),
    }),
  };
}

export function recipientItem(store: string, r: SqliteRow): Item {
  return {
    kind: 'event', key: `${storeTag(store)}:recipient:${int(r.message_id)}:${int(r.agent_id)}`,
    data: item(store, 'recipient', {
      message_id: int(r.message_id), agent_id: int(r.agent_id), agent_name: str(r.agent_name, 200), recipient_kind: str(r.kind, 20),
      read_at: sqliteTime(r.read_ts), ack_at: sqliteTime(r.ack_ts),
    }),
  };
}

const reservationFields = (r: SqliteRow): Partial<AgentMailItem> => ({
  reservation_id: int(r.id), project_id: int(r.project_id), project_slug: str(r.project_slug), project_path: str(r.project_path, 1000),
  agent_id: int(r.agent_id), agent_name: str(r.agent_name, 200), path_pattern: str(r.path_pattern, 1000), exclusive: bool(r.exclusive),
  reason: str(r.reason), created_at: sqliteTime(r.created_ts), expires_at: sqliteTime(r.expires_ts),
});

export function reservationItem(store: string, r: SqliteRow): Item {
  return {
    kind: 'event', key: `${storeTag(store)}:reservation:${int(r.id)}:reserved`,
    data: item(store, 'reservation', { ...reservationFields(r), ts: sqliteTime(r.created_ts), released_at: sqliteTime(r.released_ts) }),
  };
}

/** A time stream's row as its event: read, ack (message_id:agent_id) or release (reservation id). */
export function timeItem(store: string, stream: TimeStream, r: SqliteRow): Item {
  const at = sqliteTime(r.ts);
  const tag = storeTag(store);
  if (stream === 'release') {
    return { kind: 'event', key: `${tag}:reservation:${int(r.id)}:released`, data: item(store, 'release', { ts: at, reservation_id: int(r.id), released_at: at }) };
  }
  return {
    kind: 'event', key: `${tag}:${int(r.message_id)}:${int(r.agent_id)}:${stream}`,
    data: item(store, stream, { ts: at, message_id: int(r.message_id), agent_id: int(r.agent_id), [`${stream}_at`]: at }),
  };
}

export function openItem(store: string, r: SqliteRow): Item {
  return {
    data: item(store, 'open', {
      ...messageFields(r), message_id: int(r.message_id), agent_id: int(r.agent_id), agent_name: str(r.agent_name, 200),
      agent_program: str(r.agent_program, 200), agent_last_active_at: sqliteTime(r.agent_last_active_ts), recipient_kind: str(r.kind, 20),
      read_at: sqliteTime(r.read_ts), ack_at: sqliteTime(r.ack_ts),
    }),
  };
}

export function heldItem(store: string, r: SqliteRow): Item {
  return {
    data: item(store, 'held', {
      ...reservationFields(r), agent_program: str(r.agent_program, 200), agent_last_active_at: sqliteTime(r.agent_last_active_ts),
      agent_retired_at: sqliteTime(r.agent_retired_at),
    }),
  };
}

export function agentItem(store: string, r: SqliteRow): Item {
  return {
    data: item(store, 'agent', {
      agent_id: int(r.id), project_id: int(r.project_id), project_slug: str(r.project_slug), project_path: str(r.project_path, 1000),
      agent_name: str(r.name, 200), agent_program: str(r.program, 200), agent_model: str(r.model, 200), contact_policy: str(r.contact_policy, 40),
      agent_inception_at: sqliteTime(r.inception_ts), agent_last_active_at: sqliteTime(r.last_active_ts), agent_retired_at: sqliteTime(r.retired_at),
    }),
  };
}

export function storeItem(store: string, shape: StoreShape, totals: SqliteRow | undefined): Item {
  const t = totals ?? {};
  return {
    data: item(store, 'store', {
      layout: shape.layout, missing_columns: [...shape.missing].sort(), last_message_id: int(t.last_message_id),
      agents_total: int(t.agents_total), agents_live: int(t.agents_live), urgent_unread_total: int(t.urgent_unread_total),
      ack_pending_total: int(t.ack_pending_total), reservations_active_total: int(t.reservations_active_total),
    }),
  };
}

/**
 * A time stream's rows past its mark: the events not seen yet, the new mark, and whether the
 * batch was full (more to read). Rows with a time that does not parse are skipped (said once).
 */
export function advanceMark(stream: TimeStream, rows: SqliteRow[], m: TimeMark, store: string, skip: (why: string) => void, batch = BATCH) {
  const keyOf = (r: SqliteRow) => (stream === 'release' ? `${int(r.id)}` : `${int(r.message_id)}:${int(r.agent_id)}`);
  const seen = new Set(m.seen);
  const items: Item[] = [];
  const times = new Map<string, number>();
  let us = m.us;
  for (const r of rows) {
    const t = timeUs(r.ts);
    if (t === null) {
      skip(`${TIME_STREAMS[stream].table}.${TIME_STREAMS[stream].column} is not a time`);
      continue;
    }
    const k = keyOf(r);
    times.set(k, t);
    if (us === null || t > us) us = t;
    if (!seen.has(k)) items.push(timeItem(store, stream, r));
  }
  // The next read starts SLACK_US behind the new mark: the keys read in that stretch are skipped
  // then. (The seen keys of the last mark are all among these rows: they come first, by time.)
  const next: TimeMark = { us, seen: us === null ? [] : [...times].filter(([, t]) => t >= us - SLACK_US).map(([k]) => k) };
  return { items, mark: next, full: rows.length >= batch + m.seen.length, progressed: items.length > 0 };
}

// ---------------------------------------------------------------------------------------------
// The collector.

/**
 * Reads one store: batch after batch until caught up or out of time, each batch committed with
 * the cursor that covers it (`cursor` moves only once a commit is done). Returns why the store is
 * absent, or null.
 */
async function readStore(ctx: CollectContext, file: string, cursor: MailCursor, stopAt: number, skip: (why: string) => void): Promise<string | null> {
  const what = "mcp_agent_mail's store";
  const first = await readSqlite(ctx, what, file, [SCHEMA_QUERY]);
  if ('absent' in first) return first.absent;
  const shape = storeShape(first.rows.tables!, file);
  const c = structuredClone(cursor.stores[file] ?? freshStoreCursor());
  const size = ctx.config.collectors['agent-mail'].batch_rows;
  let streams = new Set(STREAMS);
  for (let batch = 1; ; batch++) {
    const queries = batchQueries(shape, c, Date.now() * 1000, batch === 1, streams, size);
    const r = await readSqlite(ctx, what, file, queries);
    if ('absent' in r) throw new Error(`${what} (${file}) went away while it was read`);
    const rows = r.rows;
    const items: Item[] = [];
    const full = new Set<Stream>();
    if (batch === 1) {
      items.push(storeItem(file, shape, rows.totals?.[0]), ...(rows.open ?? []).map((x) => openItem(file, x)),
        ...(rows.held ?? []).map((x) => heldItem(file, x)), ...(rows.agents ?? []).map((x) => agentItem(file, x)));
      if (shape.missing.size) ctx.warn(`${file} lacks ${[...shape.missing].sort().join(', ')} (an older server): read as unknown`);
    }
    const messages = rows.messages ?? [];
    const lastId = messages.reduce((a, m) => Math.max(a, int(m.id) ?? 0), c.message_id);
    items.push(...messages.map((m) => messageItem(file, m)));
    items.push(...(rows.recipients ?? []).filter((x) => (int(x.message_id) ?? Infinity) <= lastId).map((x) => recipientItem(file, x)));
    if (messages.length >= size) full.add('messages');
    c.message_id = lastId;
    const reservations = rows.reservations ?? [];
    items.push(...reservations.map((x) => reservationItem(file, x)));
    c.reservation_id = reservations.reduce((a, x) => Math.max(a, int(x.id) ?? 0), c.reservation_id);
    if (reservations.length >= size) full.add('reservations');
    for (const stream of Object.keys(TIME_STREAMS) as TimeStream[]) {
      if (!rows[stream]) continue;
      const adv = advanceMark(stream, rows[stream], c[stream], file, skip, size);
      items.push(...adv.items);
      c[stream] = adv.mark;
      // A full batch that brought nothing new (times that do not parse) would come back as it is.
      if (adv.full && adv.progressed) full.add(stream);
    }
    const next = structuredClone({ ...cursor, stores: { ...cursor.stores, [file]: c } });
    await ctx.commit(items, next);
    cursor.stores = next.stores;
    if (!full.size) return null;
    streams = full;
    if (ctx.timeLeftMs() < stopAt) {
      ctx.warn(`${file}: caught up partly (${batch} batches this run): the next run reads on from here`);
      return null;
    }
  }
}

/** The usual store locations that exist on the machine (one round trip). */
async function usualStores(ctx: CollectContext): Promise<string[]> {
  const script = USUAL_STORES.map((f, i) => `[ -f ${shPath(f)} ] && echo ${i}`).join('\n');
  const r = await ctx.run('look for mcp_agent_mail\'s store', `${script}\nexit 0\n`);
  const found = new Set(r.stdout.split('\n').map((l) => l.trim()));
  return USUAL_STORES.filter((_, i) => found.has(String(i)));
}

export const agentMailCollector: CollectorDef = {
  name: 'agent-mail',
  version: '1.0.0',
  schemaVersion: 1,
  schema: agentMailSchema,
  async collect(ctx): Promise<CollectOutput> {
    const configured = ctx.config.collectors['agent-mail'].stores;
    const stores = configured.length ? configured : await usualStores(ctx);
    if (!stores.length) {
      return { items: [], absent: `no mcp_agent_mail store here: none configured ([collectors.agent-mail] stores) and none at ${USUAL_STORES.join(' or ')}` };
    }
    if (!configured.length) ctx.warn(`read the mcp_agent_mail store found at ${stores.join(', ')} (none configured)`);
    const cursor = cursorFrom(ctx.cursor, ctx.warn);
    const skipped = new Map<string, number>();
    const skip = (why: string) => skipped.set(why, (skipped.get(why) ?? 0) + 1);
    const stopAt = ctx.timeLeftMs() * (1 - CATCH_UP_SHARE);
    const absent: string[] = [];
    const errors: string[] = [];
    try {
      for (const file of stores) {
        try {
          const why = await readStore(ctx, file, cursor, stopAt, skip);
          if (why) absent.push(why);
        } catch (err) {
          // One broken store does not keep the others from being read; the run still fails.
          errors.push(err instanceof Error ? err.message : String(err));
        }
      }
    } finally {
      for (const [why, n] of skipped) ctx.warn(`skipped ${n} row${n === 1 ? '' : 's'}: ${why}`);
    }
    if (errors.length) throw new Error(errors.join('; '));
    if (absent.length === stores.length) return { items: [], absent: absent.join('; ') };
    for (const a of absent) ctx.warn(a);
    return { items: [] };
  },
};
