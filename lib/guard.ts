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

/** Throws UsageError (exit 2) with a clear reason unless `sql` is one read-only SELECT over vc's views. */
export async function assertReadOnly(session: Session, sql: string): Promise<void> {
  if (sql.trim() === '') throw new UsageError('the query is empty');
  const [row] = await session.query('SELECT json_serialize_sql($1::VARCHAR) AS tree', [sql]);
  // A JSON column: the session hands it over already parsed.
  const tree = row?.tree as { error: boolean; error_type?: string; error_message?: string; statements?: unknown[] };
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
