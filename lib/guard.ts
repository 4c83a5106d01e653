// `vc query` runs user SQL read-only. DuckDB parses the SQL itself (json_serialize_sql, which only
// accepts SELECT statements), and the syntax tree is checked: every table named must be one of
// vc's views, every table function must be on a short list of pure ones, and no function may read
// the environment. The session is also locked down (lib/duck.ts): this is the first wall, not the only one.
import { UsageError } from './errors.ts';
import type { Session } from './duck.ts';

/** Table functions that compute rows and touch nothing outside the query. */
const PURE_TABLE_FUNCTIONS = new Set([
  'range', 'generate_series', 'unnest', 'json_each', 'json_tree',
  'duckdb_views', 'duckdb_columns', 'duckdb_functions', 'duckdb_types', 'duckdb_schemas', 'duckdb_tables', 'duckdb_keywords',
]);
/** Scalar functions that reach outside the query. */
const DENIED_FUNCTIONS = new Set(['getenv']);

interface Refs { tables: Array<{ schema: string; name: string }>; tableFunctions: string[]; functions: string[]; ctes: Set<string> }

function walk(node: unknown, refs: Refs): void {
  if (Array.isArray(node)) {
    for (const n of node) walk(n, refs);
    return;
  }
  if (node === null || typeof node !== 'object') return;
  const o = node as Record<string, unknown>;
  if (o.type === 'BASE_TABLE' && typeof o.table_name === 'string') {
    refs.tables.push({ schema: String(o.schema_name ?? ''), name: o.table_name });
  }
  if (o.type === 'TABLE_FUNCTION' && o.function && typeof o.function === 'object') {
    refs.tableFunctions.push(String((o.function as Record<string, unknown>).function_name).toLowerCase());
  }
  if (o.class === 'FUNCTION' && typeof o.function_name === 'string') refs.functions.push(o.function_name.toLowerCase());
  const cteMap = (o.cte_map as { map?: Array<{ key: string }> } | undefined)?.map;
  if (Array.isArray(cteMap)) for (const c of cteMap) refs.ctes.add(c.key.toLowerCase());
  for (const v of Object.values(o)) walk(v, refs);
}

interface Tree { error: boolean; error_type?: string; error_message?: string; statements?: unknown[] }

/** DuckDB's syntax tree of `sql` (parsing needs no catalog, so any session will do). */
async function parseTree(query: Session['query'], sql: string): Promise<Tree> {
  const [row] = await query('SELECT json_serialize_sql($1::VARCHAR) AS tree', [sql]);
  return row?.tree as Tree; // a JSON column: the session hands it over already parsed
}

/** Relations a query over these alone needs: all history is read in place, no window is cut. */
const IN_PLACE = new Set([
  'sys', 'repos', 'agents', 'collector_runs', 'tools', 'claude_logs', 'codex_logs', 'gemini_logs', 'configured_machines', 'source_intervals',
  'pricing', 'pricing_source',
  // Usage over all history (views/v1/25_usage.sql; not the usage_recent_* ones).
  'usage_claude', 'usage_codex', 'usage_gemini', 'usage_entries', 'usage_blocks', 'usage_current_windows', 'usage_rate_limits',
  // Rollups over all history (views/v1/26_rollups.sql): stored files plus the days computed from sys.
  'sys_hourly', 'sys_daily', 'sys_unrolled',
]);

/**
 * Whether `sql` reads anything derived from the recent window (the *_recent tables and every v1
 * view). If not, the session can skip cutting and parsing the window. Unparsable SQL says yes:
 * the guard will explain what is wrong with it.
 */
export async function needsRecentWindow(sql: string): Promise<boolean> {
  const { DuckDBInstance } = await import('@duckdb/node-api');
  const instance = await DuckDBInstance.create(':memory:');
  try {
    const conn = await instance.connect();
    const tree = await parseTree(async (q, params) => (await conn.runAndReadAll(q, params)).getRowObjectsJS().map((r) =>
      ({ tree: JSON.parse(String(r.tree)) })), sql);
    if (tree.error) return true;
    const refs: Refs = { tables: [], tableFunctions: [], functions: [], ctes: new Set() };
    walk(tree.statements, refs);
    return refs.tables.some((t) => !(t.schema === '' && (IN_PLACE.has(t.name.toLowerCase()) || refs.ctes.has(t.name.toLowerCase()))));
  } finally {
    instance.closeSync();
  }
}

/** Throws UsageError (exit 2) with a clear reason unless `sql` is one read-only SELECT over vc's views. */
export async function assertReadOnly(session: Session, sql: string): Promise<void> {
  if (sql.trim() === '') throw new UsageError('the query is empty');
  const tree = await parseTree(session.query, sql);
  if (tree.error) {
    if (tree.error_type === 'parser') throw new UsageError(`the query does not parse: ${tree.error_message}`);
    const keyword = sql.trim().split(/\s+/)[0]!.toUpperCase();
    throw new UsageError(`vc query is read-only: only SELECT queries are allowed, not ${keyword} (no writes, ATTACH, INSTALL/LOAD, COPY, SET or PRAGMA)`);
  }
  if ((tree.statements ?? []).length !== 1) throw new UsageError('vc query runs exactly one statement at a time');

  const refs: Refs = { tables: [], tableFunctions: [], functions: [], ctes: new Set() };
  walk(tree.statements, refs);
  for (const fn of refs.tableFunctions) {
    if (!PURE_TABLE_FUNCTIONS.has(fn)) {
      throw new UsageError(`vc query is read-only: the table function ${fn}() is not allowed; query vc's views instead (list them with: vc views)`);
    }
  }
  for (const fn of refs.functions) {
    if (DENIED_FUNCTIONS.has(fn)) throw new UsageError(`vc query is read-only: the function ${fn}() is not allowed`);
  }
  const known = new Set((await session.query(
    `SELECT lower(schema_name) AS s, lower(view_name) AS n FROM duckdb_views() UNION ALL SELECT lower(schema_name), lower(table_name) FROM duckdb_tables()`,
  )).flatMap((r) => [String(r.n), `${r.s}.${r.n}`]));
  for (const t of refs.tables) {
    const name = t.name.toLowerCase();
    const qualified = t.schema ? `${t.schema.toLowerCase()}.${name}` : name;
    if (!(t.schema === '' && refs.ctes.has(name)) && !known.has(qualified)) {
      throw new UsageError(`unknown table or view "${t.schema ? `${t.schema}.` : ''}${t.name}": vc query reads only vc's views (list them with: vc views)`);
    }
  }
}
