// The query path (design.md): an in-process DuckDB per command that loads sql/ then views/,
// reads the stored files in place, and is locked down before any query runs.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DuckDBInstance, type DuckDBConnection, type DuckDBType } from './duckdb.ts';
import { alertDeliveriesFile, alertsFile, incidentsFile, rawDir, repoRoot, snapshotsFile } from './paths.ts';
import { SOURCES, sqlName } from './catalog.ts';
import { cutLastRuns, cutWindow, DAY_END_DAYS, DAY_END_SOURCES, sessionTempDir, type WindowFile } from './recent.ts';
import { activePricingFile } from './pricing.ts';
import { define, definitionsFile, EMPTY_FILE, runFile, sessionFiles, VIEWS_VERSION, type PricingInForce } from './definitions.ts';

export { VIEWS_VERSION };

export type Row = Record<string, unknown>;

/**
 * The window every derived view works in (latest state, activity, failure rates). Its lines, cut
 * from the day files (lib/recent.ts), plus each machine's last lines, are parsed once per session
 * into the *_recent tables: NDJSON costs a full parse per scan, and each view would scan again.
 */
export const RECENT_HOURS = 6;

export interface SessionOptions {
  dataDir: string;
  /** The moment the views answer for; defaults to now. */
  now?: Date;
  /** Configured machines, so "never collected" is visible; `collectable` false for a demo's. */
  machines?: ReadonlyArray<{
    id: string; ssh: string; tags: readonly string[]; collectable: boolean;
    /** The collectors that run there, and how often. */
    collectors: ReadonlyArray<{ source: string; interval_s: number }>;
  }>;
  /** Expected collection interval per source, in seconds. */
  intervals?: Readonly<Record<string, number>>;
  /**
   * The sources whose recent window is parsed into its *_recent table (default: all); the others'
   * stay empty. `vc views` needs none; a report names what it reads (ReportDef.recent).
   */
  recent?: readonly string[];
}

/** Positional parameters ($1, $2, ...) for a query. */
export type Params = Array<string | number | boolean | null>;

export interface Session {
  /** Problems met while opening (e.g. malformed stored lines that were skipped). */
  warnings: string[];
  query(sql: string, params?: Params): Promise<Row[]>;
  /** Column names and DuckDB types of a query's result, in order. */
  queryWithColumns(sql: string, params?: Params): Promise<{ columns: Array<{ name: string; type: string }>; rows: Row[] }>;
  /** The columns a query would return and their types, without running it. */
  resultColumns(sql: string): Promise<Array<{ name: string; type: DuckDBType }>>;
  /** Stops the running query (it then fails with an "interrupted" error). */
  interrupt(): void;
  close(): void;
}

export const sqlString = (s: string) => `'${s.replace(/'/g, "''")}'`;
const sqlList = (items: readonly string[]) => `[${items.map(sqlString).join(', ')}]`;

interface SourceFiles { all: string[]; recent: WindowFile[]; newest: Set<string>; dayEnds: string[] }

/**
 * Lists raw/<source>/machine=<id>/date=<day>.ndjson. "recent" keeps the days that overlap the last
 * RECENT_HOURS plus each machine's newest day, so derived views never scan history yet still see a
 * machine that went silent long ago; "dayEnds" the DAY_END_DAYS days before today. Days after
 * `now` are left out (as-of queries).
 */
export function listSourceFiles(dataDir: string, source: string, now: Date): SourceFiles {
  const today = now.toISOString().slice(0, 10);
  const since = new Date(now.getTime() - RECENT_HOURS * 3600_000).toISOString().slice(0, 10);
  const daysSince = new Date(now.getTime() - DAY_END_DAYS * 86400_000).toISOString().slice(0, 10);
  const all: string[] = [];
  const dayEnds: string[] = [];
  const recent: WindowFile[] = [];
  const newest = new Set<string>();
  const dir = rawDir(dataDir, source);
  let machines: string[] = [];
  try {
    machines = fs.readdirSync(dir).filter((m) => m.startsWith('machine=')).sort();
  } catch {
    return { all, recent, newest, dayEnds };
  }
  for (const m of machines) {
    const days = fs.readdirSync(path.join(dir, m))
      .map((f) => /^date=(\d{4}-\d{2}-\d{2})\.ndjson$/.exec(f)?.[1])
      .filter((d): d is string => d !== undefined && d <= today)
      .sort();
    days.forEach((d, i) => {
      const file = path.join(dir, m, `date=${d}.ndjson`);
      all.push(file);
      const isNewest = i === days.length - 1;
      if (isNewest) newest.add(file);
      if (d >= since || isNewest) recent.push({ file, newest: isNewest });
      if (d >= daysSince && d < today) dayEnds.push(file);
    });
  }
  return { all, recent, newest, dayEnds };
}

/**
 * A machine's newest day file may end in a line still being written, or left half-written by a
 * killed writer (older days are repaired by the next day's first append, lib/store.ts). DuckDB
 * would parse a last line without its newline as a row, so such a file is read through a copy
 * cut at its last newline, under the same date= name (the `day` column comes from it).
 */
function wholeLinesOnly(file: string, copyDir: string): string {
  let fd: number;
  try {
    fd = fs.openSync(file, 'r');
  } catch {
    return file; // gone since it was listed: DuckDB will say so, if it matters
  }
  try {
    const size = fs.fstatSync(fd).size;
    const last = Buffer.alloc(1);
    if (size === 0 || (fs.readSync(fd, last, 0, 1, size - 1) === 1 && last[0] === 0x0a)) return file;
    const copy = path.join(copyDir, path.basename(path.dirname(file)), path.basename(file));
    fs.mkdirSync(path.dirname(copy), { recursive: true });
    const text = fs.readFileSync(fd);
    fs.writeFileSync(copy, text.subarray(0, text.lastIndexOf(0x0a) + 1));
    return copy;
  } finally {
    fs.closeSync(fd);
  }
}

/** Column names as rows carry them: a repeated name (`SELECT a.x, b.x`) becomes x, x_2, ... */
function uniqueNames(names: readonly string[]): string[] {
  const seen = new Map<string, number>();
  return names.map((n) => {
    const k = (seen.get(n) ?? 0) + 1;
    seen.set(n, k);
    return k === 1 ? n : `${n}_${k}`;
  });
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

/** What the SQL's session variables hold (lib/definitions.ts defines with all of them empty). */
interface SessionValues {
  now: Date;
  /** Per source: the stored files (all history), the recent window's file and the day ends' (DAY_END_SOURCES). */
  files: Record<string, { all: string[]; recent: string; dayEnds: string }>;
  machines: NonNullable<SessionOptions['machines']>;
  intervals: Readonly<Record<string, number>>;
  pricing: PricingInForce;
  tolerant: boolean;
  /** vc's own state files the views read (state/), by variable; the empty file where one is not there yet. */
  stateFiles: Record<StateVariable, string>;
}

const MACHINES_TYPE = 'STRUCT(machine_id VARCHAR, ssh VARCHAR, tags VARCHAR[], collectable BOOLEAN, collectors STRUCT(source VARCHAR, interval_s INTEGER)[])[]';

/**
 * SET VARIABLE statements for the SQL: time, window, file lists, machines, intervals, pricing. Every
 * value is typed as it is when empty: the built definitions were bound with the empty ones.
 */
function variableStatements(v: SessionValues): string[] {
  const settings: string[] = [
    `SET TimeZone = 'UTC'`,
    `SET VARIABLE vc_now = TIMESTAMP ${sqlString(v.now.toISOString().replace('T', ' ').replace('Z', ''))}`,
    `SET VARIABLE vc_recent_hours = ${RECENT_HOURS}`,
    `SET VARIABLE vc_day_end_days = ${DAY_END_DAYS}`,
    `SET VARIABLE vc_tolerant = ${v.tolerant}`,
  ];
  for (const source of SOURCES) {
    // read_json refuses an empty list; an empty file gives the same typed relation.
    const files = v.files[source] ?? { all: [], recent: EMPTY_FILE, dayEnds: EMPTY_FILE };
    settings.push(`SET VARIABLE vc_files_${sqlName(source)} = ${sqlList(files.all.length ? files.all : [EMPTY_FILE])}`);
    settings.push(`SET VARIABLE vc_recent_${sqlName(source)} = ${sqlList([files.recent])}`);
    if (DAY_END_SOURCES.includes(source)) settings.push(`SET VARIABLE vc_day_ends_${sqlName(source)} = ${sqlList([files.dayEnds])}`);
  }
  settings.push(`SET VARIABLE vc_machines = [${v.machines.map((m) => `{'machine_id': ${sqlString(m.id)}, 'ssh': ${sqlString(m.ssh)}, 'tags': ${sqlList(m.tags)}::VARCHAR[], `
    + `'collectable': ${m.collectable}, 'collectors': [${m.collectors.map((c) => `{'source': ${sqlString(c.source)}, 'interval_s': ${Math.round(c.interval_s)}}`).join(', ')}]`
    + `::STRUCT(source VARCHAR, interval_s INTEGER)[]}`).join(', ')}]::${MACHINES_TYPE}`);
  // The pricing table in force (sql/06_pricing.sql): one `vc pricing update` wrote, else the bundled one.
  settings.push(`SET VARIABLE vc_pricing_file = ${sqlString(v.pricing.file)}`);
  settings.push(`SET VARIABLE vc_pricing_bundled = ${v.pricing.bundled}`);
  const intervals = Object.entries(v.intervals);
  for (const [name, file] of Object.entries(v.stateFiles)) settings.push(`SET VARIABLE ${name} = ${sqlString(file)}`);
  settings.push(`SET VARIABLE vc_intervals = MAP {${intervals.map(([k, n]) => `${sqlString(k)}: ${Math.round(n)}`).join(', ')}}::MAP(VARCHAR, INTEGER)`);
  return settings;
}

const STATE_FILES = {
  vc_alerts_file: alertsFile, vc_alert_deliveries_file: alertDeliveriesFile, vc_snapshots_file: snapshotsFile, vc_incidents_file: incidentsFile,
} as const;
type StateVariable = keyof typeof STATE_FILES;

/** The state files of `dataDir` that exist, else the empty file (null: all empty). */
function stateFiles(dataDir: string | null): Record<StateVariable, string> {
  const existingOr = (file: string) => (fs.existsSync(file) ? file : EMPTY_FILE);
  return Object.fromEntries(Object.entries(STATE_FILES).map(([k, f]) => [k, dataDir === null ? EMPTY_FILE : existingOr(f(dataDir))])) as Record<StateVariable, string>;
}

/** The store's files for a session: all history per source, and the recent window cut out of it. */
function storeFiles(opts: SessionOptions, now: Date, tempDir: string): SessionValues['files'] {
  const files: SessionValues['files'] = {};
  const sinceMs = now.getTime() - RECENT_HOURS * 3600_000;
  for (const source of SOURCES) {
    const listed = listSourceFiles(opts.dataDir, source, now);
    const windowFile = path.join(tempDir, `${source}.ndjson`);
    const wanted = recentOf(opts).includes(source);
    const bytes = wanted ? cutWindow(listed.recent, sinceMs, now.getTime(), windowFile) : 0;
    const dayEndsFile = path.join(tempDir, `${source}.day-ends.ndjson`);
    const dayEndBytes = wanted && DAY_END_SOURCES.includes(source) ? cutLastRuns(listed.dayEnds, now.getTime(), dayEndsFile) : 0;
    // Filters on the file name (the `day` column) skip files unread.
    const all = listed.all.map((f) => listed.newest.has(f) ? wholeLinesOnly(f, path.join(tempDir, 'whole', source)) : f);
    files[source] = { all, recent: bytes > 0 ? windowFile : EMPTY_FILE, dayEnds: dayEndBytes > 0 ? dayEndsFile : EMPTY_FILE };
  }
  return files;
}

/** The recent window parsed once into temp tables, shadowing the definitions' empty ones. */
async function loadRecent(conn: DuckDBConnection, sources: readonly string[], tolerant: boolean): Promise<void> {
  await conn.run([`SET VARIABLE vc_tolerant = ${tolerant}`,
    ...sources.map((s) => `CREATE OR REPLACE TEMP TABLE ${sqlName(s)}_recent AS FROM vc_${sqlName(s)}_recent()`)].join(';\n'));
}

const recentOf = (opts: SessionOptions): readonly string[] => opts.recent ?? SOURCES;

/**
 * An in-process DuckDB with the definitions: the built file, read-only (lib/definitions.ts), or
 * where none can be kept, defined here in memory.
 */
async function openDefinitions(pricing: PricingInForce, tempDir: string): Promise<DuckDBInstance> {
  const empty = variableStatements({
    now: new Date(0), files: {}, machines: [], intervals: {}, pricing, tolerant: false, stateFiles: stateFiles(null),
  });
  const file = await definitionsFile(pricing, empty);
  if (file) {
    try {
      return await DuckDBInstance.create(file, { access_mode: 'READ_ONLY', temp_directory: tempDir });
    } catch {
      fs.rmSync(file, { force: true }); // damaged or not ours: the next command builds it again
    }
  }
  const instance = await DuckDBInstance.create(':memory:', { temp_directory: tempDir });
  const conn = await instance.connect();
  try {
    await define(conn, empty);
  } finally {
    conn.closeSync();
  }
  return instance;
}

export async function openSession(opts: SessionOptions): Promise<Session> {
  const started = performance.now();
  const now = opts.now ?? new Date();
  const temp = sessionTempDir(os.tmpdir());
  const warnings: string[] = [];
  let instance: DuckDBInstance | undefined;
  let conn: DuckDBConnection;
  try {
    const pricing = activePricingFile(opts.dataDir);
    if (pricing.problem) warnings.push(pricing.problem);
    const values: SessionValues = {
      now, files: storeFiles(opts, now, temp.dir), machines: opts.machines ?? [], intervals: opts.intervals ?? {}, pricing, tolerant: false,
      stateFiles: stateFiles(opts.dataDir),
    };
    instance = await openDefinitions(pricing, temp.dir);
    conn = await instance.connect();
    await conn.run([...variableStatements(values), `SET search_path = 'main,${VIEWS_VERSION}'`].join(';\n'));
    for (const file of sessionFiles()) await runFile(conn, file);
    const profile = (what: string, t0: number) => {
      if (process.env.VC_PROFILE) process.stderr.write(`${what} ${(performance.now() - t0).toFixed(0)} ms\n`);
    };
    profile('definitions and store files', started);
    const recent = recentOf(opts);
    if (recent.length) {
      const t0 = performance.now();
      try {
        await loadRecent(conn, recent, false);
        profile('recent tables', t0);
      } catch (err) {
        // The store never keeps a partial line, but a damaged file must not make vc unusable:
        // read again, skipping what does not parse, and say so.
        if (!/Malformed JSON|JSON/.test((err as Error).message)) throw err;
        await loadRecent(conn, recent, true);
        warnings.push(`some stored lines are malformed and were skipped: ${(err as Error).message.split('\n')[0]}`);
      }
    }
    // From here on nothing may read outside the store or change a setting (vc query runs user SQL).
    const allowed = [path.join(opts.dataDir, 'raw'), path.join(opts.dataDir, 'parquet'), path.dirname(EMPTY_FILE), temp.dir];
    await conn.run([
      `SET allowed_directories = ${sqlList(allowed.map((d) => d + path.sep))}`,
      // The alert state, file by file: the rest of state/ (cursors) is no business of a query.
      `SET allowed_paths = ${sqlList(Object.values(values.stateFiles))}`,
      `SET enable_external_access = false`,
      `SET autoinstall_known_extensions = false`,
      `SET autoload_known_extensions = false`,
      `SET lock_configuration = true`,
    ].join(';\n'));
  } catch (err) {
    instance?.closeSync();
    temp.remove();
    throw err;
  }

  const db = instance;
  async function queryWithColumns(sql: string, params?: Params) {
    const reader = await conn.runAndReadAll(sql, params);
    const types = reader.columnTypes();
    // Keep every column even when a query repeats a name (`SELECT a.x, b.x`): x, x_2, ...
    const names = uniqueNames(reader.columnNames());
    // JSON columns arrive as text: hand them on as the values they encode.
    const isJson = types.map((t) => t.alias === 'JSON');
    const isDate = types.map((t) => String(t) === 'DATE');
    const rows = reader.getRowsJS().map((values) =>
      Object.fromEntries(names.map((n, i) => {
        const v = values[i];
        if (isJson[i] && typeof v === 'string') return [n, JSON.parse(v)];
        if (isDate[i] && v instanceof Date) return [n, v.toISOString().slice(0, 10)];
        return [n, toPlain(v)];
      })) as Row);
    return { columns: names.map((name, i) => ({ name, type: types[i]!.alias ?? String(types[i]) })), rows };
  }
  return {
    warnings,
    queryWithColumns,
    async resultColumns(sql) {
      const prepared = await conn.prepare(sql);
      const names = uniqueNames(Array.from({ length: prepared.columnCount }, (_, i) => prepared.columnName(i)));
      return names.map((name, i) => ({ name, type: prepared.columnType(i) }));
    },
    query: async (sql, params) => (await queryWithColumns(sql, params)).rows,
    interrupt: () => conn.interrupt(),
    close: () => {
      conn.closeSync();
      db.closeSync();
      temp.remove();
    },
  };
}
