// The query path (design.md): an in-process DuckDB per command that loads sql/ then views/,
// reads the stored files in place, and is locked down before any query runs.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DuckDBInstance, type DuckDBConnection, type DuckDBType } from './duckdb.ts';
import { alertDeliveriesFile, alertsFile, incidentsFile, snapshotsFile } from './paths.ts';
import { SOURCES, sqlName } from './catalog.ts';
import { cutLastRuns, cutWindow, DAY_END_DAYS, DAY_END_SOURCES, sessionTempDir } from './recent.ts';
import { copyUncovered, listSourceFiles, wholeLinesOnly } from './store-files.ts';
import { listRollups, NO_ROLLUPS, ROLLUP_SOURCE, type RollupFiles } from './rollups.ts';
import { activePricingFile } from './pricing.ts';
import { builtDefinitionsFile, define, definitionsFile, EMPTY_FILE, EMPTY_PARQUET, runFile, sessionFiles, VIEWS_VERSION, type PricingInForce } from './definitions.ts';

export { VIEWS_VERSION };

export type Row = Record<string, unknown>;

/**
 * The window every derived view works in (latest state, activity, failure rates). Its lines, cut
 * from the day files (lib/recent.ts), plus each machine's last lines, are the *_recent relations
 * (loadRecent): their NDJSON parsed once per session, their segments read in place.
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
  /**
   * The sources whose whole history (the views named after them, and what reads those) the session
   * may read (default: all); the others list only what their recent window needs, and reading
   * their history fails. A report names what it reads (ReportDef.history).
   */
  history?: readonly string[];
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
  /** Per source: the stored files (all history: NDJSON and Parquet) and the recent window's. */
  files: Record<string, SessionFiles>;
  /** The stored rollups of sys the session reads, and the days they cover (lib/rollups.ts). */
  rollups: RollupFiles;
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
    const files = v.files[source] ?? NO_FILES;
    const name = sqlName(source);
    settings.push(`SET VARIABLE vc_files_${name} = ${sqlList(files.all.length ? files.all : [EMPTY_FILE])}`);
    settings.push(`SET VARIABLE vc_parquet_${name} = ${sqlList(files.parquet.length ? files.parquet : [EMPTY_PARQUET])}`);
    settings.push(`SET VARIABLE vc_recent_${name} = ${sqlList([files.recent])}`);
    settings.push(`SET VARIABLE vc_recent_parquet_${name} = ${sqlList(files.recentParquet.length ? files.recentParquet : [EMPTY_PARQUET])}`);
    if (DAY_END_SOURCES.includes(source)) settings.push(`SET VARIABLE vc_day_ends_${name} = ${sqlList([files.dayEnds])}`);
    settings.push(`SET VARIABLE vc_recent_tail_${name} = MAP {${[...files.tail].map(([m, t]) => `${sqlString(m)}: TIMESTAMP ${sqlString(t.replace('T', ' ').replace('Z', ''))}`).join(', ')}}::MAP(VARCHAR, TIMESTAMP)`);
  }
  settings.push(`SET VARIABLE vc_rollup_days_sys = [${v.rollups.days.map((d) => `DATE ${sqlString(d)}`).join(', ')}]::DATE[]`);
  // sys's files of the days the rollups do not stand for (raw names and segment dirs carry the day).
  const rolled = new Set(v.rollups.days);
  const unrolled = (files: string[]) => files.filter((f) => !rolled.has(/date=(\d{4}-\d{2}-\d{2})/.exec(f)?.[1] ?? ''));
  const sys = v.files[ROLLUP_SOURCE] ?? NO_FILES;
  const [sysFiles, sysParquet] = [unrolled(sys.all), unrolled(sys.parquet)];
  settings.push(`SET VARIABLE vc_files_sys_unrolled = ${sqlList(sysFiles.length ? sysFiles : [EMPTY_FILE])}`);
  settings.push(`SET VARIABLE vc_parquet_sys_unrolled = ${sqlList(sysParquet.length ? sysParquet : [EMPTY_PARQUET])}`);
  for (const grain of ['hourly', 'daily'] as const) {
    settings.push(`SET VARIABLE vc_rollups_sys_${grain} = ${sqlList(v.rollups[grain].length ? v.rollups[grain] : [EMPTY_PARQUET])}`);
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

interface SessionFiles { all: string[]; parquet: string[]; recent: string; recentParquet: string[]; tail: ReadonlyMap<string, string>; dayEnds: string }
const NO_FILES: SessionFiles = { all: [], parquet: [], recent: EMPTY_FILE, recentParquet: [], tail: new Map(), dayEnds: EMPTY_FILE };

/**
 * The store's files for a session: per source, all history (the segments, and the NDJSON they do
 * not cover: whole files, or what follows the compacted prefix, copied) and the recent window.
 */
function storeFiles(opts: SessionOptions, now: Date, tempDir: string, warnings: string[]): Pick<SessionValues, 'files' | 'rollups'> {
  const files: SessionValues['files'] = {};
  let rollups = NO_ROLLUPS;
  const sinceMs = now.getTime() - RECENT_HOURS * 3600_000;
  for (const source of SOURCES) {
    // sys is listed whole: which days the stored rollups may stand for depends on every raw file.
    const history = source === ROLLUP_SOURCE || historyOf(opts).includes(source);
    const listed = listSourceFiles(opts.dataDir, source, now, RECENT_HOURS, history);
    warnings.push(...listed.problems);
    if (source === ROLLUP_SOURCE) rollups = listRollups(opts.dataDir, source, listed, now);
    const wanted = recentOf(opts).includes(source);
    const windowFile = path.join(tempDir, `${source}.ndjson`);
    const bytes = wanted ? cutWindow(listed.recent, sinceMs, now.getTime(), windowFile) : 0;
    const newest = new Set(listed.recent.filter((f) => f.newest).map((f) => f.file));
    // Filters on the file name (the `day` column) skip files unread: copies keep the name.
    const all = listed.raw.flatMap((f) => {
      if (f.from === 0) return [newest.has(f.file) ? wholeLinesOnly(f.file, path.join(tempDir, 'whole', source)) : f.file];
      const copy = path.join(tempDir, 'uncovered', source, `machine=${f.machine}`, path.basename(f.file));
      return copyUncovered(f.file, f.from, copy) ? [copy] : [];
    });
    // Of the last closed days, each file's last run (read from the raw file, which holds every
    // line whether compacted or not; a day whose raw files were retired has none).
    const dayEndsFile = path.join(tempDir, `${source}.day-ends.ndjson`);
    const dayEndBytes = wanted && DAY_END_SOURCES.includes(source) ? cutLastRuns(listed.dayEnds, now.getTime(), dayEndsFile) : 0;
    // A history not listed reads as a file that is not there: a view needing it fails, loudly.
    const unlisted = path.join(tempDir, `history-of-${source}-not-listed-by-this-command`);
    files[source] = {
      all: history ? all : [`${unlisted}.ndjson`], parquet: history ? listed.segments.map((s) => s.file) : [`${unlisted}.parquet`],
      recent: bytes > 0 ? windowFile : EMPTY_FILE,
      recentParquet: wanted ? listed.recentSegments : [], tail: wanted ? listed.tail : new Map(),
      dayEnds: dayEndBytes > 0 ? dayEndsFile : EMPTY_FILE,
    };
  }
  return { files, rollups };
}

/**
 * Sources whose recent rows are computed whole once: collector_runs counts a run recorded twice
 * once, over NDJSON and segments together (sql/13_collector_runs.sql).
 */
const RECENT_COMPUTED_WHOLE: readonly string[] = ['collector_runs'];

/**
 * The recent window, shadowing the definitions' empty tables. A source whose window is all NDJSON
 * is parsed once into a temp table (NDJSON costs a full parse per scan). One with compacted
 * segments in the window has its NDJSON parsed into <source>_recent_ndjson and a temp view
 * <source>_recent adding the segments' rows, read in place by each query that uses them: Parquet
 * gives a query only the columns it names, where a table holds every column of every row (rch's
 * 95 columns were a third of triage's time and memory on the tool-suite fleet).
 */
async function loadRecent(conn: DuckDBConnection, sources: readonly string[], files: SessionValues['files'], tolerant: boolean): Promise<void> {
  await conn.run([`SET VARIABLE vc_tolerant = ${tolerant}`, ...sources.map((source) => {
    const n = sqlName(source);
    if (RECENT_COMPUTED_WHOLE.includes(source) || !files[source]?.recentParquet.length) {
      return `CREATE OR REPLACE TEMP TABLE ${n}_recent AS FROM vc_${n}_recent()`;
    }
    return `CREATE OR REPLACE TEMP TABLE ${n}_recent_ndjson AS FROM vc_read_ndjson(getvariable('vc_recent_${n}'), ${tolerant}, vc_${n}_columns());
      CREATE OR REPLACE TEMP VIEW ${n}_recent AS
        FROM ${n}_recent_ndjson UNION ALL BY NAME FROM vc_read_segments(getvariable('vc_recent_parquet_${n}'), getvariable('vc_recent_tail_${n}'))`;
  })].join(';\n'));
}

const recentOf = (opts: SessionOptions): readonly string[] => opts.recent ?? SOURCES;
const historyOf = (opts: SessionOptions): readonly string[] => opts.history ?? SOURCES;

/**
 * An in-process DuckDB with the definitions: the built file, read-only (lib/definitions.ts), or
 * where none can be kept, defined here in memory. A built file starts opening before this returns
 * (no await comes first), so DuckDB opens it on its own threads while the caller goes on.
 */
function openDefinitions(pricing: PricingInForce, tempDir: string): Promise<DuckDBInstance> {
  const built = builtDefinitionsFile(pricing);
  if (!built) return buildDefinitions(pricing, tempDir);
  return DuckDBInstance.create(built, { access_mode: 'READ_ONLY', temp_directory: tempDir }).catch(() => {
    fs.rmSync(built, { force: true }); // damaged or not ours: build it again
    return buildDefinitions(pricing, tempDir);
  });
}

async function buildDefinitions(pricing: PricingInForce, tempDir: string): Promise<DuckDBInstance> {
  const empty = variableStatements({
    now: new Date(0), files: {}, rollups: NO_ROLLUPS, machines: [], intervals: {}, pricing, tolerant: false, stateFiles: stateFiles(null),
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
  let opening: Promise<DuckDBInstance> | undefined;
  let conn: DuckDBConnection;
  try {
    const pricing = activePricingFile(opts.dataDir);
    if (pricing.problem) warnings.push(pricing.problem);
    // DuckDB opens the definitions on its own threads while this one lists the store.
    opening = openDefinitions(pricing, temp.dir);
    const values: SessionValues = {
      now, ...storeFiles(opts, now, temp.dir, warnings), machines: opts.machines ?? [], intervals: opts.intervals ?? {}, pricing, tolerant: false,
      stateFiles: stateFiles(opts.dataDir),
    };
    instance = await opening;
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
        await loadRecent(conn, recent, values.files, false);
        profile('recent tables', t0);
      } catch (err) {
        // The store never keeps a partial line, but a damaged file must not make vc unusable:
        // read again, skipping what does not parse, and say so.
        if (!/Malformed JSON|JSON/.test((err as Error).message)) throw err;
        await loadRecent(conn, recent, values.files, true);
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
    (instance ?? (await opening?.catch(() => undefined)))?.closeSync();
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
