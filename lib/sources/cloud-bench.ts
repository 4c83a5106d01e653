// cloud-bench: cloud_benchmarker's benchmark scores, read from its SQLite store (read-only, through
// lib/sources/sqlite.ts; see ../shared/upstream/cloud_benchmarker.md): per benchmarked host and
// run, the sysbench subscores (raw) and the host's overall score in its batch (0-100).
//
// Its HTTP API answers 500 for the whole endpoint once one row has a NULL, and has no incremental
// filter, so the store is read directly. Its path is relative to uvicorn's working directory on
// the machine that serves it: there is no default, the run is absent until it is configured.
//
// Rows: a cursor on the raw table's id gives the new ones; the ingest upserts (same id, new
// values), so the trailing `window_days` before the newest run are read again, and a row is stored
// again only when its values changed (the cursor keeps a hash per row of the window). Each stored
// row is an event keyed by (hostname, datetime), its time the benchmark's.
//
// Time: the store's `datetime` is the server's naive local time. sqlite3 converts it to UTC on
// that machine ('utc' modifier: its own time zone, daylight saving time included) in the same
// script that reads it; the local text and its UTC offset are kept too.
import { createHash } from 'node:crypto';
import { z } from 'zod';
import type { CollectorDef, Item } from '../collector.ts';
import { readSqlite, sqlInt, sqlText, type SqliteRow } from './sqlite.ts';
import { isoTime, validate } from './toolrun.ts';

const num = z.number().finite().nullable();

export const cloudBenchSchema = z.strictObject({
  /** The benchmark's time (the results file's mtime at ingest), UTC. */
  ts: z.iso.datetime(),
  /** The store's own value: naive local time of the server, as written. */
  datetime_local: z.string(),
  /** Local time minus UTC at that moment, on the store's machine. */
  utc_offset_minutes: z.number().int().nullable(),
  /** The raw table's row id. */
  row_id: z.number().int(),
  /** The benchmarked host (Ansible inventory name) and its address (NULL where the store says UNKNOWN). */
  hostname: z.string().nullable(),
  ip_address: z.string().nullable(),
  /** sysbench cpu, events per second (higher is better). */
  cpu_events_per_s: num,
  /** sysbench fileio rndrw, reads per second (higher is better). */
  fileio_reads_per_s: num,
  /** sysbench memory, MiB transferred in its run (a volume, capped at 102400; higher is better). */
  memory_mib_transferred: num,
  /** sysbench mutex and threads, average latency in ms (lower is better). */
  mutex_avg_latency_ms: num,
  threads_avg_latency_ms: num,
  /** 0-100, min-max normalised across the hosts of one benchmark batch: relative, not absolute. */
  overall_score: num,
});

export type CloudBenchItem = z.infer<typeof cloudBenchSchema>;

const rowSchema = z.looseObject({
  id: z.number().int(),
  datetime_local: z.string().nullable(),
  ts: z.string().nullable(),
  utc_offset_minutes: z.number().nullable(),
  hostname: z.string().nullable(),
  ip_address: z.string().nullable(),
  cpu: z.number().nullable(), fileio: z.number().nullable(), memory: z.number().nullable(),
  mutex: z.number().nullable(), threads: z.number().nullable(), overall: z.number().nullable(),
});

const cursorSchema = z.object({
  /** The highest raw row id read. */
  id: z.number().int().nonnegative(),
  /** The newest `datetime` read (the store's local text): the trailing window ends there. */
  newest: z.string().nullable(),
  /** Per row of the trailing window (key), a hash of its values as stored. */
  seen: z.record(z.string(), z.string()),
});
export type CloudBenchCursor = z.infer<typeof cursorSchema>;

/** The SELECT both queries share: raw scores with the overall score of the same (datetime, hostname). */
const SELECT = `SELECT r.id, r.datetime AS datetime_local,
  strftime('%Y-%m-%dT%H:%M:%fZ', r.datetime, 'utc') AS ts,
  CAST(round((julianday(r.datetime) - julianday(r.datetime, 'utc')) * 1440) AS INTEGER) AS utc_offset_minutes,
  r.hostname, r."IP_address" AS ip_address,
  r.cpu_speed_test__events_per_second AS cpu, r.fileio_test__reads_per_second AS fileio,
  r."memory_speed_test__MiB_transferred" AS memory, r.mutex_test__avg_latency AS mutex,
  r.threads_test__avg_latency AS threads, o.overall_score AS overall
FROM raw_benchmark_subscores r
LEFT JOIN overall_normalized_score o ON o.datetime = r.datetime AND o.hostname = r.hostname`;

/** The queries for a run: rows after the cursor's id (at most `maxRows`), and the trailing window again. */
export function cloudBenchQueries(cursor: CloudBenchCursor | null, windowDays: number, maxRows: number) {
  const id = cursor?.id ?? 0;
  const queries = [{ name: 'new_rows', sql: `${SELECT}\nWHERE r.id > ${sqlInt(id)} ORDER BY r.id LIMIT ${sqlInt(maxRows)}` }];
  if (cursor?.newest) {
    queries.push({
      name: 'window_rows',
      sql: `${SELECT}\nWHERE r.id <= ${sqlInt(id)} AND r.datetime >= datetime(${sqlText(cursor.newest)}, ${sqlText(`-${windowDays} days`)}) ORDER BY r.id`,
    });
  }
  return queries;
}

/** A store's local 'YYYY-MM-DD HH:MM:SS[.ffffff]' minus `days`, in the same text form (naive: no zone). */
export function localMinusDays(local: string, days: number): string | null {
  const m = /^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2}):(\d{2})/.exec(local);
  if (!m) return null;
  const t = Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!) - days * 86_400_000;
  return new Date(t).toISOString().slice(0, 19).replace('T', ' ');
}

const nullIfUnknown = (s: string | null) => (s === null || s === 'UNKNOWN' ? null : s.slice(0, 200));
const finite = (v: number | null) => (v !== null && Number.isFinite(v) ? v : null);

/** A store row as an item, or the reason it cannot be one. */
export function benchItem(row: SqliteRow, what: string): Item | string {
  const r = validate(rowSchema, row, what);
  if (r.datetime_local === null) return 'a row without a datetime';
  const ts = isoTime(r.ts);
  if (ts === null) return 'a row whose datetime is not a date-time';
  const data: CloudBenchItem = {
    ts, datetime_local: r.datetime_local.slice(0, 40),
    utc_offset_minutes: r.utc_offset_minutes === null ? null : Math.round(r.utc_offset_minutes), row_id: r.id,
    hostname: r.hostname?.slice(0, 200) ?? null, ip_address: nullIfUnknown(r.ip_address),
    cpu_events_per_s: finite(r.cpu), fileio_reads_per_s: finite(r.fileio), memory_mib_transferred: finite(r.memory),
    mutex_avg_latency_ms: finite(r.mutex), threads_avg_latency_ms: finite(r.threads), overall_score: finite(r.overall),
  };
  return { kind: 'event', key: `${data.hostname ?? ''}|${data.datetime_local}`, data };
}

const hashOf = (data: unknown) => createHash('sha256').update(JSON.stringify(data)).digest('hex').slice(0, 16);

/**
 * Items and the next cursor from one run's rows: new rows, and rows of the window whose values
 * changed since they were stored. `skip` hears why a row was left out.
 */
export function benchRead(rows: { new_rows: SqliteRow[]; window_rows?: SqliteRow[] }, prev: CloudBenchCursor | null, windowDays: number,
  skip: (reason: string) => void): { items: Item[]; cursor: CloudBenchCursor } {
  const items: Item[] = [];
  const read: Array<{ key: string; local: string; hash: string }> = [];
  let id = prev?.id ?? 0;
  let newest = prev?.newest ?? null;
  for (const row of [...(rows.window_rows ?? []), ...rows.new_rows]) {
    if (typeof row.id === 'number' && row.id > id) id = row.id;
    const item = benchItem(row, "cloud_benchmarker's store");
    if (typeof item === 'string') {
      skip(item);
      continue;
    }
    const d = item.data as CloudBenchItem;
    const hash = hashOf(d);
    read.push({ key: item.key!, local: d.datetime_local, hash });
    if (newest === null || d.datetime_local > newest) newest = d.datetime_local;
    if (prev?.seen[item.key!] !== hash) items.push(item);
  }
  const from = newest === null ? null : localMinusDays(newest, windowDays);
  const seen = Object.fromEntries(read.filter((r) => from !== null && r.local >= from).map((r) => [r.key, r.hash]));
  return { items, cursor: { id, newest, seen } };
}

export const cloudBenchCollector: CollectorDef = {
  name: 'cloud-bench',
  version: '1.0.0',
  schemaVersion: 1,
  schema: cloudBenchSchema,
  async collect(ctx) {
    const cfg = ctx.config.collectors['cloud-bench'];
    if (!cfg.store) {
      return { items: [], absent: "cloud_benchmarker's store is not configured ([collectors.cloud-bench] store: its cloud_benchmarker.sqlite, in uvicorn's working directory)" };
    }
    const saved = ctx.cursor === null || ctx.cursor === undefined ? null : cursorSchema.safeParse(ctx.cursor);
    if (saved && !saved.success) ctx.warn('the saved cursor is malformed: the store is read from its start (stored rows are not counted twice)');
    const prev = saved?.success ? saved.data : null;
    const r = await readSqlite(ctx, "cloud_benchmarker's store", cfg.store, cloudBenchQueries(prev, cfg.window_days, cfg.max_rows));
    if ('absent' in r) return { items: [], absent: r.absent };
    const skipped = new Map<string, number>();
    const { items, cursor } = benchRead({ new_rows: r.rows.new_rows!, window_rows: r.rows.window_rows }, prev, cfg.window_days,
      (why) => skipped.set(why, (skipped.get(why) ?? 0) + 1));
    for (const [why, k] of skipped) ctx.warn(`skipped ${k} row${k === 1 ? '' : 's'}: ${why}`);
    if (r.rows.new_rows!.length >= cfg.max_rows) ctx.warn(`read ${cfg.max_rows} new rows (max_rows): the next run reads on from row ${cursor.id}`);
    return { items, cursor };
  },
};
