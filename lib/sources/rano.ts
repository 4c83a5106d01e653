// rano: the network connections of coding agents its monitor saw (connect and close rows), read
// from its SQLite store (../shared/upstream/rano.md §2.2) through lib/sources/sqlite.ts. Not through
// `rano export`: its --since is inclusive at one-second granularity and events.id is not
// exportable, while the store's id is the natural cursor (AUTOINCREMENT, never reused). The store
// has no default vc can find (rano's observer.sqlite is relative to the directory it was started
// in), so it is read only where [collectors.rano] store says where it is.
//
// Per row, also what the store knows of the remote host: when this machine's store first saw it
// (the domain, or the remote IP when unresolved), so the views can tell a new host from a usual one
// without reading the whole history. The full command line is not kept (it can hold a prompt):
// only its first two words.
import { createHash } from 'node:crypto';
import { z } from 'zod';
import type { CollectContext, CollectorDef, Item } from '../collector.ts';
import { readSqlite, sqlInt, sqliteTime, type SqliteRow } from './sqlite.ts';

const text = z.string().nullable();
const int = z.number().int().nullable();

export const ranoSchema = z.strictObject({
  /** The store's row id. */
  id: z.number().int().nonnegative(),
  /** When the monitor saw the connect or close (second precision, the monitor host's clock). */
  ts: z.iso.datetime(),
  /** rano's run_id: the monitor session ("<pid>-<epoch ms>"); NULL in stores from before 2026-01-21. */
  monitor_run_id: text,
  /** connect | close. */
  event: z.string().min(1).max(20),
  /** anthropic | openai | google | unknown: from the process, not the remote host. */
  provider: text,
  pid: int,
  comm: text,
  /** The first two words of the process's command line (program and first argument). */
  cmdline_head: text,
  proto: text,
  local_ip: text,
  local_port: int,
  remote_ip: text,
  remote_port: int,
  /** The resolved host; rano writes "unknown" when it could not resolve it. */
  domain: text,
  /** "comm:pid,..." from the root to the process; "" when the monitor did not record it. */
  ancestry_path: text,
  remote_is_private: z.boolean().nullable(),
  ip_version: int,
  /** close rows: the connection's lifetime in milliseconds. */
  duration_ms: int,
  /** The row would trigger one of the monitor's configured alerts. */
  alert: z.boolean().nullable(),
  /** close rows, when rano's retry detector fired: connections in its window. */
  retry_count: int,
  /** When the store first saw this remote host: its domain, or its IP when unresolved. */
  host_first_seen_at: z.iso.datetime().nullable(),
});

export type RanoItem = z.infer<typeof ranoSchema>;

/** The events columns vc reads, as the DDL has them; stores from early builds lack some (§5.8). */
const COLUMNS = ['id', 'ts', 'run_id', 'event', 'provider', 'pid', 'comm', 'cmdline', 'proto', 'local_ip', 'local_port',
  'remote_ip', 'remote_port', 'domain', 'ancestry_path', 'remote_is_private', 'ip_version', 'duration_ms', 'alert', 'retry_count'] as const;
/** In every version of the DDL, and the query needs them: without them it is not a rano store. */
const REQUIRED = ['id', 'ts', 'event', 'remote_ip', 'domain'];

/** Characters kept of the free-text columns (what ranoFact keeps, or a little more). */
const TEXT_CAPS: Record<string, number> = { cmdline: 400, comm: 200, domain: 300, ancestry_path: 2000, run_id: 80, provider: 40 };
/** What one row may take in sqlite3's JSON, at most (the caps above, escaped): batches are sized by it. */
const ROW_BYTES = 8192;

/** Share of the run's timeout a catch-up may use before it leaves the rest to the next run. */
const CATCH_UP_SHARE = 0.6;

/**
 * The query for the rows after `lastId` (at most `limit`), with the first time the store saw each
 * row's host. Missing columns are NULL. The first row of a domain (or of an unresolved IP) is found
 * through rano's index on that column: min(id) there, then that row's time.
 */
export function batchQuery(present: ReadonlySet<string>, lastId: number, limit: number): string {
  // Long text is cut in the store, not here: a batch's JSON stays within the output cap (ROW_BYTES).
  const cols = COLUMNS.map((c) => (!present.has(c) ? `NULL AS ${c}` : c in TEXT_CAPS ? `substr(${c}, 1, ${TEXT_CAPS[c]}) AS ${c}` : c)).join(', ');
  const unresolved = `(domain IS NULL OR domain IN ('', 'unknown'))`;
  return `WITH b AS (SELECT ${cols} FROM events WHERE id > ${sqlInt(lastId)} ORDER BY id LIMIT ${sqlInt(limit)}),
d AS (SELECT DISTINCT domain AS host FROM b WHERE NOT ${unresolved}),
i AS (SELECT DISTINCT remote_ip AS host FROM b WHERE ${unresolved} AND remote_ip IS NOT NULL),
f AS (
  SELECT 'd' AS kind, host, (SELECT ts FROM events WHERE id = (SELECT min(id) FROM events WHERE domain = d.host)) AS first_ts FROM d
  UNION ALL
  SELECT 'i', host, (SELECT ts FROM events WHERE id = (SELECT min(id) FROM events WHERE remote_ip = i.host)) FROM i
)
SELECT b.*, f.first_ts AS host_first_ts FROM b
LEFT JOIN f ON (f.kind = 'd' AND f.host = b.domain) OR (f.kind = 'i' AND ${unresolved.replaceAll('domain', 'b.domain')} AND f.host = b.remote_ip)
ORDER BY b.id`;
}

const str = (v: unknown, max: number): string | null => (typeof v === 'string' ? v.slice(0, max) : null);
const num = (v: unknown): number | null => (typeof v === 'number' && Number.isSafeInteger(v) ? v : null);
const bool = (v: unknown): boolean | null => (v === 0 || v === 1 ? v === 1 : null);
/** The program and its first argument: enough to tell `node .../claude` from `codex exec`, never a prompt. */
const cmdlineHead = (v: unknown): string | null => (typeof v === 'string' ? v.trim().split(/\s+/).slice(0, 2).join(' ').slice(0, 300) || null : null);

/** The item of a row, or why it has none. */
export function ranoFact(row: SqliteRow): RanoItem | string {
  const id = num(row.id);
  if (id === null || id < 0) return 'a row without an integer id';
  const ts = sqliteTime(row.ts);
  if (!ts) return 'a row whose ts is not a time';
  if (typeof row.event !== 'string' || !row.event) return 'a row without an event';
  return {
    id, ts, monitor_run_id: str(row.run_id, 80), event: row.event.slice(0, 20), provider: str(row.provider, 40), pid: num(row.pid),
    comm: str(row.comm, 200), cmdline_head: cmdlineHead(row.cmdline), proto: str(row.proto, 10),
    local_ip: str(row.local_ip, 64), local_port: num(row.local_port), remote_ip: str(row.remote_ip, 64), remote_port: num(row.remote_port),
    domain: str(row.domain, 300), ancestry_path: str(row.ancestry_path, 2000),
    remote_is_private: bool(row.remote_is_private), ip_version: num(row.ip_version), duration_ms: num(row.duration_ms),
    alert: bool(row.alert), retry_count: num(row.retry_count), host_first_seen_at: sqliteTime(row.host_first_ts),
  };
}

/**
 * The natural key: the store's id plus the fields the doc dedupes on (§5.1), so a store that was
 * replaced (ids start again at 1) never collides with what was read from the old one.
 */
export function ranoKey(f: RanoItem): string {
  const identity = [f.monitor_run_id, f.ts, f.event, f.pid, f.local_ip, f.local_port, f.remote_ip, f.remote_port].map((v) => v ?? '').join('|');
  return `${f.id}:${createHash('sha256').update(identity).digest('hex').slice(0, 16)}`;
}

/** Items from a batch's rows; rows without what an event needs are skipped with a reason. */
export function ranoItems(rows: readonly SqliteRow[], skip: (reason: string) => void): Item[] {
  const items: Item[] = [];
  for (const row of rows) {
    const f = ranoFact(row);
    if (typeof f === 'string') skip(f);
    else items.push({ kind: 'event', key: ranoKey(f), data: f });
  }
  return items;
}

const lastIdFrom = (cursor: unknown): number | null => {
  const v = (cursor as { last_id?: unknown } | null)?.last_id;
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0 ? v : null;
};

async function readEvents(ctx: CollectContext, store: string, skip: (reason: string) => void) {
  const what = 'rano\'s store';
  const cfg = ctx.config.collectors.rano;
  const first = await readSqlite(ctx, what, store, [
    { name: 'columns', sql: `SELECT name FROM pragma_table_info('events')` },
  ]);
  if ('absent' in first) return { items: [], absent: first.absent };
  const present = new Set(first.rows.columns!.map((r) => String(r.name)));
  if (present.size === 0) throw new Error(`${what} (${store}) has no events table: it is not a rano store`);
  const missing = REQUIRED.filter((c) => !present.has(c));
  if (missing.length) throw new Error(`${what} (${store}) has an events table without ${missing.join(', ')}: not rano's schema`);

  let lastId = lastIdFrom(ctx.cursor) ?? 0;
  if (ctx.cursor !== null && lastIdFrom(ctx.cursor) === null) ctx.warn('the saved rano cursor is not {last_id}: the store is read from its start (stored rows are not stored twice)');
  const stopAt = ctx.timeLeftMs() * (1 - CATCH_UP_SHARE);
  const limit = Math.max(1, Math.min(cfg.batch_rows, Math.floor(ctx.limits.maxBytes / ROW_BYTES)));
  for (let batch = 1; ; batch++) {
    const r = await readSqlite(ctx, what, store, [
      { name: 'max_id', sql: 'SELECT coalesce(max(id), 0) AS max_id FROM events' },
      { name: 'rows', sql: batchQuery(present, lastId, limit) },
    ]);
    if ('absent' in r) return { items: [], absent: r.absent };
    const maxId = num(r.rows.max_id![0]?.max_id) ?? 0;
    if (batch === 1 && maxId < lastId) {
      // Ids only grow: a smaller one means another store (rano's was deleted or replaced).
      ctx.warn(`${what} ends at id ${maxId}, before the cursor's ${lastId}: it was replaced, and is read from its start`);
      lastId = 0;
      continue;
    }
    const rows = r.rows.rows!;
    const ids = rows.map((row) => num(row.id)).filter((n): n is number => n !== null);
    const next = ids.length ? Math.max(lastId, ...ids) : lastId;
    await ctx.commit(ranoItems(rows, skip), { last_id: next });
    lastId = next;
    if (rows.length < limit) return { items: [] };
    if (ctx.timeLeftMs() < stopAt) {
      ctx.warn(`caught up partly (${batch} batches this run): the next run reads on from id ${lastId}`);
      return { items: [] };
    }
  }
}

export const ranoCollector: CollectorDef = {
  name: 'rano',
  version: '1.0.0',
  schemaVersion: 1,
  schema: ranoSchema,
  async collect(ctx) {
    const store = ctx.config.collectors.rano.store;
    if (!store) {
      return { items: [], absent: 'rano\'s store is not configured here ([collectors.rano] store: rano\'s default observer.sqlite is relative to the directory it was started in)' };
    }
    const skipped = new Map<string, number>();
    try {
      return await readEvents(ctx, store, (reason) => skipped.set(reason, (skipped.get(reason) ?? 0) + 1));
    } finally {
      for (const [reason, n] of skipped) ctx.warn(`skipped ${n} row${n === 1 ? '' : 's'}: ${reason}`);
    }
  },
};
