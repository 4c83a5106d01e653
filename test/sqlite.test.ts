// The SQLite reader the tool collectors share: a real store made with the sqlite3 CLI, read
// through the script the collectors send (here run by a local sh), in WAL mode while a writer holds it.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import type { CollectContext } from '../lib/collector.ts';
import { parseRows, readSqlite, sqlInt, sqliteTime, sqlText } from '../lib/sources/sqlite.ts';
import { tmpDir } from './helpers.ts';

/** Enough of a collector's context to run a script with the local sh. */
const localCtx = (env: NodeJS.ProcessEnv = process.env) => ({
  run: async (_what: string, script: string) => ({ stdout: execFileSync('sh', ['-s'], { input: script, env, encoding: 'utf8' }) }),
}) as unknown as CollectContext;

const makeStore = (dir: string) => {
  const db = path.join(dir, 'store.sqlite3');
  execFileSync('sqlite3', [db], {
    input: `PRAGMA journal_mode=WAL;
CREATE TABLE messages (id INTEGER NOT NULL, subject VARCHAR NOT NULL, created_ts DATETIME NOT NULL, PRIMARY KEY (id));
INSERT INTO messages VALUES (1, 'it''s "quoted"', '2026-04-28 22:41:07.512044'), (2, 'second', '2026-04-28 22:43:00.000000'), (3, 'later', 1777416067512044);`,
  });
  return db;
};

describe('readSqlite', () => {
  test('reads rows as JSON, after a cursor, with every column type kept', async () => {
    const db = makeStore(tmpDir('vc-sqlite-'));
    const r = await readSqlite(localCtx(), 'the test store', db, [
      { name: 'new_rows', sql: `SELECT id, subject, created_ts, typeof(created_ts) AS t FROM messages WHERE id > ${sqlInt(1)} ORDER BY id` },
      { name: 'none', sql: `SELECT id FROM messages WHERE subject = ${sqlText("nobody's")}` },
    ]);
    assert.ok('rows' in r);
    assert.deepEqual(r.rows.new_rows, [
      { id: 2, subject: 'second', created_ts: '2026-04-28 22:43:00.000000', t: 'text' },
      { id: 3, subject: 'later', created_ts: 1777416067512044, t: 'integer' },
    ]);
    assert.deepEqual(r.rows.none, []);
    assert.deepEqual(r.rows.new_rows!.map((x) => sqliteTime(x.created_ts)), ['2026-04-28T22:43:00.000Z', '2026-04-28T22:41:07.512Z']);
  });

  test('a store under ~/ is the machine\'s home; a missing store is absent', async () => {
    const home = tmpDir('vc-sqlite-home-');
    fs.mkdirSync(path.join(home, 'mail'));
    fs.renameSync(makeStore(home), path.join(home, 'mail', 'st ore.sqlite3'));
    const r = await readSqlite(localCtx({ ...process.env, HOME: home }), 'the test store', '~/mail/st ore.sqlite3', [{ name: 'n', sql: 'SELECT count(*) AS n FROM messages' }]);
    assert.deepEqual(r, { rows: { n: [{ n: 3 }] } });
    assert.deepEqual(await readSqlite(localCtx(), 'the test store', path.join(home, 'nope.sqlite3'), [{ name: 'n', sql: 'SELECT 1' }]),
      { absent: `the test store is not here (no file ${path.join(home, 'nope.sqlite3')})` });
  });

  test('a query the schema refuses names the store, the query and sqlite3\'s message; nothing is written', async () => {
    const db = makeStore(tmpDir('vc-sqlite-'));
    await assert.rejects(readSqlite(localCtx(), 'the test store', db, [{ name: 'gone', sql: 'SELECT x FROM claims' }]),
      /reading the test store \(.*store\.sqlite3\) failed at query gone: ".*no such table: claims/);
    await assert.rejects(readSqlite(localCtx(), 'the test store', db, [{ name: 'write', sql: "INSERT INTO messages VALUES (9, 'x', 'y')" }]),
      /failed at query write: ".*readonly database/);
    assert.equal(execFileSync('sqlite3', [db, 'SELECT count(*) FROM messages'], { encoding: 'utf8' }).trim(), '3');
  });

  test('not a SQLite file: a clear error', async () => {
    const dir = tmpDir('vc-sqlite-');
    const db = path.join(dir, 'junk.sqlite3');
    fs.writeFileSync(db, 'this is not a database\n'.repeat(100));
    await assert.rejects(readSqlite(localCtx(), 'the test store', db, [{ name: 'n', sql: 'SELECT count(*) FROM sqlite_master' }]), /failed at query n: ".*(not a database|file is not)/);
  });

  test('reads the committed rows while a writer holds a write transaction open (WAL)', async () => {
    const db = makeStore(tmpDir('vc-sqlite-'));
    // A writer inside a transaction, for as long as the read takes.
    const writer = spawn('sqlite3', [db], { stdio: ['pipe', 'ignore', 'ignore'] });
    writer.stdin.write("BEGIN IMMEDIATE; INSERT INTO messages VALUES (4, 'uncommitted', '2026-04-29 00:00:00.000000');\n");
    await new Promise((r) => setTimeout(r, 300));
    try {
      const r = await readSqlite(localCtx(), 'the test store', db, [{ name: 'ids', sql: 'SELECT id FROM messages ORDER BY id' }]);
      assert.deepEqual(r, { rows: { ids: [{ id: 1 }, { id: 2 }, { id: 3 }] } });
    } finally {
      writer.stdin.end('ROLLBACK;\n');
    }
  });

  test('what is not sqlite3 JSON is refused; cursors from files must be integers', () => {
    assert.throws(() => parseRows('Error: nope', 'q'), /q: sqlite3 did not print JSON rows: "Error: nope"/);
    assert.throws(() => parseRows('{"a":1}', 'q'), /not a list of rows/);
    assert.throws(() => sqlInt('1; DROP TABLE x'), /not an integer for SQL/);
    assert.throws(() => sqlInt(1.5), /not an integer/);
    assert.equal(sqliteTime(-5), null);
    assert.equal(sqliteTime('yesterday'), null);
  });
});
