// The SQL definitions (sql/, then views/<version>/) as a DuckDB database file, built once per
// version of the SQL and of the pricing table and opened read-only by every vc command. Creating
// a view binds its whole query, and vc's views bind deep macro chains: loading them all took more
// than a second per command. A view read from a file is bound only when a query uses it.
//
// Nothing in the file depends on the data dir: file lists, the time, the machines and the recent
// window are session variables (set per command, lib/duck.ts), and the recent tables are empty
// there, shadowed in each session by temp tables of the same names.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { DuckDBInstance, version as duckdbVersion, type DuckDBConnection } from './duckdb.ts';
import { SOURCES, sqlName } from './catalog.ts';
import { privateRuntimeDir, repoRoot } from './paths.ts';

/** The derived-view version the default search path resolves to. */
export const VIEWS_VERSION = 'v1';
export const EMPTY_FILE = path.join(repoRoot, 'sql', 'empty.ndjson');
/** What the SQL reads when a source has no compacted segments: read_parquet refuses an empty list. */
export const EMPTY_PARQUET = path.join(repoRoot, 'sql', 'empty.parquet');
/** Bumped when the way the file is built changes (not the SQL: its text is in the key). */
const FORMAT = 1;
/** Other versions' files are removed once this old (a running command may still read one). */
const STALE_MS = 3600_000;

export interface PricingInForce { file: string; bundled: boolean }

export function sqlFilesIn(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir).filter((f) => f.endsWith('.sql')).sort().map((f) => path.join(dir, f));
}

const sqlDir = () => path.join(repoRoot, 'sql');
const viewsDir = () => path.join(repoRoot, 'views', VIEWS_VERSION);
/** sql/session/: statements every session runs once the definitions are there (variables derived from them). */
export const sessionFiles = () => sqlFilesIn(path.join(sqlDir(), 'session'));

export async function runFile(conn: DuckDBConnection, file: string): Promise<void> {
  try {
    const t0 = performance.now();
    await conn.run(fs.readFileSync(file, 'utf8'));
    if (process.env.VC_PROFILE) process.stderr.write(`${path.relative(repoRoot, file)} ${(performance.now() - t0).toFixed(0)} ms\n`);
  } catch (err) {
    throw new Error(`loading ${path.relative(repoRoot, file)}: ${(err as Error).message}`);
  }
}

/**
 * Creates every definition in `conn`. `variables` must give every session variable the SQL reads,
 * with the types a session gives them: a view stored with one type and bound with another fails.
 */
export async function define(conn: DuckDBConnection, variables: string[]): Promise<void> {
  await conn.run([...variables, `CREATE SCHEMA ${VIEWS_VERSION}`, `SET search_path = 'main,${VIEWS_VERSION}'`].join(';\n'));
  for (const file of sqlFilesIn(sqlDir())) await runFile(conn, file);
  for (const file of sessionFiles()) await runFile(conn, file);
  // The recent tables the views read: empty here; each session's temp tables shadow them.
  await conn.run(SOURCES.map((s) => `CREATE TABLE ${sqlName(s)}_recent AS FROM vc_${sqlName(s)}_recent();\n`
    + `COMMENT ON TABLE ${sqlName(s)}_recent IS 'Source ${s} over the recent window (the last hours, plus each machine''s newest day): what derived views read'`).join(';\n'));
  for (const file of sqlFilesIn(viewsDir())) await runFile(conn, file);
}

/** What the built file depends on: DuckDB's version, the SQL's text, the pricing table. */
function definitionsKey(pricing: PricingInForce): string {
  const h = crypto.createHash('sha256').update(`${FORMAT}\n${duckdbVersion()}\n${SOURCES.join(',')}\n`);
  for (const f of [...sqlFilesIn(sqlDir()), ...sessionFiles(), ...sqlFilesIn(viewsDir())]) h.update(`${path.relative(repoRoot, f)}\n`).update(fs.readFileSync(f)).update('\n');
  h.update(`${pricing.bundled}\n`).update(fs.readFileSync(pricing.file));
  return h.digest('hex').slice(0, 32);
}

/**
 * The definitions file for this SQL and pricing table, built now if missing (into a temp name,
 * then renamed: concurrent builders each finish their own and the last rename wins); null where
 * none can be kept (no private directory, a read-only disk): then each session defines in memory.
 */
export async function definitionsFile(pricing: PricingInForce, variables: string[]): Promise<string | null> {
  const where = definitionsPath(pricing);
  if (!where) return null;
  const { dir, file } = where;
  if (fs.existsSync(file)) return file;
  const tmp = `${file}.${process.pid}.${crypto.randomBytes(4).toString('hex')}.tmp`;
  let instance: DuckDBInstance | undefined;
  try {
    instance = await DuckDBInstance.create(tmp);
    const conn = await instance.connect();
    await define(conn, variables);
    await conn.run('CHECKPOINT');
    conn.closeSync();
    instance.closeSync();
    instance = undefined;
    fs.renameSync(tmp, file);
  } catch (err) {
    instance?.closeSync();
    for (const f of [tmp, `${tmp}.wal`]) fs.rmSync(f, { force: true });
    // A definition that does not load is vc's own bug: say so, as loading it in memory would.
    if (/^loading /.test((err as Error).message)) throw err;
    return null;
  }
  removeStale(dir, file);
  return file;
}

/** Where the definitions file for this SQL and pricing table is kept; null where none can be. */
function definitionsPath(pricing: PricingInForce): { dir: string; file: string } | null {
  try {
    const dir = privateRuntimeDir('vc-sql', 'keep built SQL definitions');
    return { dir, file: path.join(dir, `definitions-${definitionsKey(pricing)}.duckdb`) };
  } catch {
    return null;
  }
}

/** The definitions file if it is built already (no await before it: see lib/duck.ts openDefinitions). */
export function builtDefinitionsFile(pricing: PricingInForce): string | null {
  const file = definitionsPath(pricing)?.file;
  return file && fs.existsSync(file) ? file : null;
}

function removeStale(dir: string, keep: string): void {
  const now = Date.now();
  for (const name of fs.readdirSync(dir)) {
    const f = path.join(dir, name);
    if (f === keep || !name.startsWith('definitions-')) continue;
    try {
      if (now - fs.statSync(f).mtimeMs > STALE_MS) fs.rmSync(f, { force: true });
    } catch { /* gone meanwhile */ }
  }
}
