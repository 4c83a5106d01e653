// The query path (design.md): an in-process DuckDB per command that loads sql/ then views/,
// reads the stored files in place, and is locked down before any query runs.
import fs from 'node:fs';
import path from 'node:path';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { rawDir, repoRoot } from './paths.ts';
import { SOURCES } from './catalog.ts';

export type Row = Record<string, unknown>;

/** The derived-view version the default search path resolves to. */
export const VIEWS_VERSION = 'v1';
const EMPTY_FILE = path.join(repoRoot, 'sql', 'empty.ndjson');
/** Files newer than this many days back are "recent": enough for every latest-state view. */
const RECENT_DAYS = 1;

export interface SessionOptions {
  dataDir: string;
  /** The moment the views answer for; defaults to now. */
  now?: Date;
  /** Configured machines, so "never collected" is visible. */
  machines?: ReadonlyArray<{ id: string; ssh: string; tags: readonly string[] }>;
  /** Expected collection interval per source, in seconds. */
  intervals?: Readonly<Record<string, number>>;
}

/** Positional parameters ($1, $2, ...) for a query. */
export type Params = Array<string | number | boolean | null>;

export interface Session {
  query(sql: string, params?: Params): Promise<Row[]>;
  /** Column names and DuckDB types of a query's result, in order. */
  queryWithColumns(sql: string, params?: Params): Promise<{ columns: Array<{ name: string; type: string }>; rows: Row[] }>;
  /** Stops the running query (it then fails with an "interrupted" error). */
  interrupt(): void;
  close(): void;
}

export const sqlString = (s: string) => `'${s.replace(/'/g, "''")}'`;
const sqlList = (items: readonly string[]) => `[${items.map(sqlString).join(', ')}]`;

interface SourceFiles { all: string[]; recent: string[] }

/**
 * Lists raw/<source>/machine=<id>/date=<day>.ndjson. "recent" keeps the last RECENT_DAYS days plus
 * each machine's newest day, so latest-state views never scan history yet still see a machine
 * that went silent long ago. Days after `now` are left out (as-of queries).
 */
export function listSourceFiles(dataDir: string, source: string, now: Date): SourceFiles {
  const today = now.toISOString().slice(0, 10);
  const since = new Date(now.getTime() - RECENT_DAYS * 86400_000).toISOString().slice(0, 10);
  const all: string[] = [];
  const recent: string[] = [];
  const dir = rawDir(dataDir, source);
  let machines: string[] = [];
  try {
    machines = fs.readdirSync(dir).filter((m) => m.startsWith('machine=')).sort();
  } catch {
    return { all, recent };
  }
  for (const m of machines) {
    const days = fs.readdirSync(path.join(dir, m))
      .map((f) => /^date=(\d{4}-\d{2}-\d{2})\.ndjson$/.exec(f)?.[1])
      .filter((d): d is string => d !== undefined && d <= today)
      .sort();
    days.forEach((d, i) => {
      const file = path.join(dir, m, `date=${d}.ndjson`);
      all.push(file);
      if (d >= since || i === days.length - 1) recent.push(file);
    });
  }
  return { all, recent };
}

/** DuckDB values to plain JSON-able values: safe bigints become numbers, timestamps ISO strings. */
export function toPlain(value: unknown): unknown {
  if (value === null || value === undefined) return null;
  if (typeof value === 'bigint') {
    return value <= BigInt(Number.MAX_SAFE_INTEGER) && value >= BigInt(Number.MIN_SAFE_INTEGER) ? Number(value) : value.toString();
  }
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? null : value.toISOString();
  if (Array.isArray(value)) return value.map(toPlain);
  if (typeof value === 'number') return Number.isFinite(value) ? value : null;
  if (typeof value === 'object') {
    const o = value as Record<string, unknown>;
    // INTERVAL comes as {months, days, micros}: report it as seconds.
    if ('micros' in o && 'days' in o && 'months' in o && Object.keys(o).length === 3) {
      return Number(o.months) * 30 * 86400 + Number(o.days) * 86400 + Number(o.micros) / 1e6;
    }
    return Object.fromEntries(Object.entries(o).map(([k, v]) => [k, toPlain(v)]));
  }
  return value;
}

function sqlFilesIn(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir).filter((f) => f.endsWith('.sql')).sort().map((f) => path.join(dir, f));
}

async function runFile(conn: DuckDBConnection, file: string): Promise<void> {
  try {
    await conn.run(fs.readFileSync(file, 'utf8'));
  } catch (err) {
    throw new Error(`loading ${path.relative(repoRoot, file)}: ${(err as Error).message}`);
  }
}

export async function openSession(opts: SessionOptions): Promise<Session> {
  const now = opts.now ?? new Date();
  const instance = await DuckDBInstance.create(':memory:');
  const conn = await instance.connect();

  const settings: string[] = [
    `SET TimeZone = 'UTC'`,
    `SET VARIABLE vc_now = TIMESTAMP ${sqlString(now.toISOString().replace('T', ' ').replace('Z', ''))}`,
  ];
  for (const source of SOURCES) {
    const files = listSourceFiles(opts.dataDir, source, now);
    // read_json refuses an empty list; an empty file gives the same typed, empty relation.
    settings.push(`SET VARIABLE vc_files_${source} = ${sqlList(files.all.length ? files.all : [EMPTY_FILE])}`);
    settings.push(`SET VARIABLE vc_recent_${source} = ${sqlList(files.recent.length ? files.recent : [EMPTY_FILE])}`);
  }
  const machines = opts.machines ?? [];
  settings.push(`SET VARIABLE vc_machines = ${machines.length
    ? `[${machines.map((m) => `{'machine_id': ${sqlString(m.id)}, 'ssh': ${sqlString(m.ssh)}, 'tags': ${sqlList(m.tags)}::VARCHAR[]}`).join(', ')}]`
    : `[]::STRUCT(machine_id VARCHAR, ssh VARCHAR, tags VARCHAR[])[]`}`);
  const intervals = Object.entries(opts.intervals ?? {});
  settings.push(`SET VARIABLE vc_intervals = ${intervals.length
    ? `MAP {${intervals.map(([k, v]) => `${sqlString(k)}: ${Math.round(v)}`).join(', ')}}`
    : 'MAP {}::MAP(VARCHAR, INTEGER)'}`);
  await conn.run(settings.join(';\n'));

  await conn.run(`CREATE SCHEMA ${VIEWS_VERSION}; SET search_path = 'main,${VIEWS_VERSION}'`);
  for (const file of sqlFilesIn(path.join(repoRoot, 'sql'))) await runFile(conn, file);
  for (const file of sqlFilesIn(path.join(repoRoot, 'views', VIEWS_VERSION))) await runFile(conn, file);

  // From here on nothing may read outside the store or change a setting (vc query runs user SQL).
  const allowed = [path.join(opts.dataDir, 'raw'), path.join(opts.dataDir, 'parquet'), path.dirname(EMPTY_FILE)];
  await conn.run([
    `SET allowed_directories = ${sqlList(allowed.map((d) => d + path.sep))}`,
    `SET enable_external_access = false`,
    `SET autoinstall_known_extensions = false`,
    `SET autoload_known_extensions = false`,
    `SET lock_configuration = true`,
  ].join(';\n'));

  async function queryWithColumns(sql: string, params?: Params) {
    const reader = await conn.runAndReadAll(sql, params);
    const types = reader.columnTypes();
    // Keep every column even when a query repeats a name (`SELECT a.x, b.x`): x, x_2, ...
    const seen = new Map<string, number>();
    const names = reader.columnNames().map((n) => {
      const k = (seen.get(n) ?? 0) + 1;
      seen.set(n, k);
      return k === 1 ? n : `${n}_${k}`;
    });
    // JSON columns arrive as text: hand them on as the values they encode.
    const isJson = types.map((t) => t.alias === 'JSON');
    const rows = reader.getRowsJS().map((values) =>
      Object.fromEntries(names.map((n, i) => {
        const v = values[i];
        return [n, isJson[i] && typeof v === 'string' ? JSON.parse(v) : toPlain(v)];
      })) as Row);
    return { columns: names.map((name, i) => ({ name, type: types[i]!.alias ?? String(types[i]) })), rows };
  }
  return {
    queryWithColumns,
    query: async (sql, params) => (await queryWithColumns(sql, params)).rows,
    interrupt: () => conn.interrupt(),
    close: () => {
      conn.closeSync();
      instance.closeSync();
    },
  };
}
