// Reading an upstream tool's SQLite store (mcp_agent_mail, rano, cloud_benchmarker, ...) on the
// collector's machine, local or over SSH: the sqlite3 CLI there opens the file read-only and
// prints each query's rows as JSON. The tools write in WAL mode while we read, so the store is
// never copied (a copy without its -wal misses the newest rows) and every query waits out a
// writer's lock (busy timeout) instead of failing. A missing store makes the run `absent`; a store
// that is there but cannot be read (no sqlite3, no permission, a query the schema refuses) is an
// error naming the file and the query.
import type { CollectContext } from '../collector.ts';
import { sectionScript } from '../sections.ts';
import { shPath } from '../shell.ts';
import { excerpt, isoTime } from './toolrun.ts';

export interface SqliteQuery {
  /** A word: the query's name in errors and in the result. */
  name: string;
  /** One SQL statement. Values spliced in go through sqlInt/sqlText. */
  sql: string;
}

export type SqliteRow = Record<string, unknown>;

export type SqliteRead =
  | { absent: string }
  | { rows: Record<string, SqliteRow[]> };

const WORD = /^[a-z][a-z0-9_]*$/;
/** Ends each query's here-document; a query holding it is refused. */
const SQL_END = 'VC_SQL_END_7f3e';
/** How long a query waits for a writer's lock before it fails (sqlite3 .timeout). */
const BUSY_TIMEOUT_MS = 5000;
const STDERR_BYTES = 4096;

/** An integer for a query: a safe integer, else an error (a cursor from a file is untrusted). */
export function sqlInt(n: unknown): string {
  if (typeof n !== 'number' || !Number.isSafeInteger(n)) throw new Error(`not an integer for SQL: ${JSON.stringify(n)}`);
  return String(n);
}

/** A string literal for a query. */
export const sqlText = (s: string): string => `'${s.replaceAll("'", "''")}'`;

/** The script that runs the queries against `file` (exported for tests). */
export function sqliteScript(file: string, queries: readonly SqliteQuery[]) {
  const prelude = [
    `VC_DB=${shPath(file)}`,
    'VC_TMP=$(mktemp -d 2>/dev/null) || { VC_TMP=/tmp/vc-sqlite.$$; mkdir -m 700 "$VC_TMP" || exit 1; }',
    `trap 'rm -rf "$VC_TMP"' EXIT`,
  ].join('\n');
  const parts: Array<[string, string]> = [
    // What is there: the store (3: no such file), then the reader (4: no sqlite3).
    // (Statuses through `(exit N)`: a section is a { } group, where exit would end the script.)
    ['probe', 'if [ ! -f "$VC_DB" ]; then (exit 3); elif ! command -v sqlite3 >/dev/null 2>&1; then (exit 4); else sqlite3 -version; fi'],
  ];
  for (const q of queries) {
    if (!WORD.test(q.name)) throw new Error(`not a query name: ${JSON.stringify(q.name)}`);
    if (q.sql.includes(SQL_END)) throw new Error(`query ${q.name} holds the here-document end marker`);
    // -readonly: never a write, even by mistake; -init /dev/null: no ~/.sqliterc; -bail: the
    // first error ends it with a non-zero status.
    parts.push([q.name, [
      `if [ -f "$VC_DB" ] && command -v sqlite3 >/dev/null 2>&1; then`,
      `sqlite3 -readonly -bail -json -init /dev/null -cmd '.timeout ${BUSY_TIMEOUT_MS}' "$VC_DB" 2>"$VC_TMP/${q.name}.err" <<'${SQL_END}'`,
      q.sql.trim().replace(/;?\s*$/, ';'),
      SQL_END,
      'else (exit 3); fi',
    ].join('\n')]);
    parts.push([`${q.name}.err`, `tail -c ${STDERR_BYTES} "$VC_TMP/${q.name}.err" 2>/dev/null`]);
  }
  return sectionScript(parts, prelude);
}

/**
 * Runs `queries` in order against the SQLite file at `file` (absolute, or ~/ on the machine) and
 * returns each one's rows. `what` names the store in errors ("mcp_agent_mail's store").
 */
export async function readSqlite(ctx: CollectContext, what: string, file: string, queries: readonly SqliteQuery[]): Promise<SqliteRead> {
  const script = sqliteScript(file, queries);
  const r = await ctx.run(`read ${what}`, script.script);
  const sections = script.parse(r.stdout);
  const probe = sections.get('probe');
  if (probe?.rc === 3) return { absent: `${what} is not here (no file ${file})` };
  if (probe?.rc === 4) throw new Error(`${what} (${file}) is here but sqlite3 is not installed on this machine: vc reads the store through it`);
  if (probe?.rc !== 0) throw new Error(`could not look for ${what} (${file}): the script stopped before it`);
  const rows: Record<string, SqliteRow[]> = {};
  for (const q of queries) {
    const out = sections.get(q.name);
    const err = sections.get(`${q.name}.err`)?.text.trim() ?? '';
    if (out?.rc !== 0) {
      const why = out === undefined || out.rc === null ? 'it did not finish' : err ? excerpt(err, 300) : `sqlite3 exited ${out.rc}`;
      throw new Error(`reading ${what} (${file}) failed at query ${q.name}: ${why}`);
    }
    rows[q.name] = parseRows(out.text, `${what}, query ${q.name}`);
  }
  return { rows };
}

/** sqlite3 -json prints nothing for no rows, else one JSON array of objects. */
export function parseRows(text: string, what: string): SqliteRow[] {
  const t = text.trim();
  if (!t) return [];
  let v: unknown;
  try {
    v = JSON.parse(t);
  } catch {
    throw new Error(`${what}: sqlite3 did not print JSON rows: ${excerpt(t)}`);
  }
  if (!Array.isArray(v) || !v.every((r) => r !== null && typeof r === 'object' && !Array.isArray(r))) {
    throw new Error(`${what}: sqlite3 printed JSON that is not a list of rows: ${excerpt(t)}`);
  }
  return v as SqliteRow[];
}

/**
 * A timestamp column as ISO UTC: SQLAlchemy's naive UTC text ('YYYY-MM-DD HH:MM:SS.ffffff'),
 * ISO 8601 text, or an integer count of microseconds since the epoch (stores migrated by Rust
 * ports); null for anything else.
 */
export function sqliteTime(v: unknown): string | null {
  if (typeof v === 'number') {
    if (!Number.isSafeInteger(v) || v <= 0) return null;
    const d = new Date(Math.floor(v / 1000));
    return Number.isFinite(d.getTime()) ? d.toISOString() : null;
  }
  return isoTime(v);
}
