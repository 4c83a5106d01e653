// agent-mail: mcp_agent_mail's SQLite store (fixtures/agent-mail, after ../shared/upstream/mcp_agent_mail.md)
// made for real with its documented DDL, read by the collector in-process (fast) and through vc and
// a real sshd, with live updates between runs; then the views over what was stored: given rows,
// expected rows.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import {
  advanceMark, agentMailCollector, agentMailSchema, BATCH, cursorFrom, importance, messageItem, recipientItem, reservationItem,
  SLACK_US, sqlTime, storeShape, storeTag, timeUs, USUAL_STORES,
} from '../lib/sources/agent-mail.ts';
import { agentsSchema } from '../lib/sources/agents.ts';
import { runCollector } from '../lib/collector.ts';
import { configSchema } from '../lib/config.ts';
import { openSession } from '../lib/duck.ts';
import { appendEnvelopes, loadCursor } from '../lib/store.ts';
import { storable, type Envelope } from '../lib/envelope.ts';
import { readRaw, tmpDir, vc, withNulls } from './helpers.ts';
import { sshdAvailable, startSshd, type Sshd } from './sshd.ts';

const FIXTURES = path.join(import.meta.dirname, '..', 'fixtures', 'agent-mail');
const fixture = (name: string) => fs.readFileSync(path.join(FIXTURES, name), 'utf8');
const sqlite = (db: string, sql: string) => execFileSync('sqlite3', ['-bail', db], { input: sql, encoding: 'utf8' });

/** A store made with the documented DDL: the Python server's, or the Rust port's (its migration run after the seed). */
function makeStore(dir: string, name: string, layout: 'python' | 'rust' = 'python', seed = true): string {
  const db = path.join(dir, name);
  sqlite(db, fixture(layout === 'python' ? 'schema.sql' : 'schema-rust.sql'));
  if (seed) sqlite(db, fixture('seed.sql'));
  if (layout === 'rust') sqlite(db, fixture('migrate-rust.sql'));
  return db;
}

/** A timestamp in the store's TEXT format, `minutes` from now. */
const textAt = (minutes: number) => `strftime('%Y-%m-%d %H:%M:%f', 'now', '${minutes} minutes') || '000'`;

/** Runs the collector in this process for the local machine (as vc collect does, without its start-up). */
async function collect(dataDir: string, stores: string[], batchRows?: number) {
  const config = configSchema.parse({ collectors: { 'agent-mail': { stores, ...(batchRows ? { batch_rows: batchRows } : {}) } } });
  return runCollector(agentMailCollector, { config, dataDir, machine: config.machines[0]! });
}

const rowsOf = (dataDir: string, machine = 'local') => readRaw(dataDir, 'agent-mail', machine);
const runRows = (dataDir: string, runId: string) => rowsOf(dataDir).filter((r) => r.run_id === runId);
const byType = (rows: Array<Record<string, any>>) => {
  const n: Record<string, number> = {};
  for (const r of rows) n[r.data.type] = (n[r.data.type] ?? 0) + 1;
  return n;
};
/** Event keys without the store's tag. */
const eventKeys = (rows: Array<Record<string, any>>) => rows.filter((r) => r.kind === 'event').map((r) => r.key.replace(/^[0-9a-f]{8}:/, '')).sort();

describe('timestamps, importance and rows (doc §2-§4)', () => {
  test('text and integer-µs timestamps are the same instant, to the µs; cursors go back in the store\'s own format', () => {
    // §4: "The same message row in a database the Rust port has migrated: created_ts 1777416067512044".
    assert.equal(timeUs('2026-04-28 22:41:07.512044'), 1777416067512044);
    assert.equal(timeUs(1777416067512044), 1777416067512044);
    assert.equal(timeUs('2026-04-28 22:43:00'), Date.parse('2026-04-28T22:43:00Z') * 1000);
    assert.equal(sqlTime(1777416067512044, 'text'), "'2026-04-28 22:41:07.512044'");
    assert.equal(sqlTime(1777416180000000, 'text'), "'2026-04-28 22:43:00.000000'");
    assert.equal(sqlTime(1777416067512044, 'integer'), '1777416067512044');
    for (const bad of ['yesterday', '', null, -1, 1.5, '2026-04-28']) assert.equal(timeUs(bad), null, String(bad));
  });

  test('importance: the documented four, any case; anything else is other', () => {
    assert.deepEqual(['high', 'URGENT', ' Low ', 'normal', 'critical!', 7].map(importance), ['high', 'urgent', 'low', 'normal', 'other', null]);
  });

  test('§4\'s example rows become items: lengths and counts, never bodies; times as ISO UTC', () => {
    const store = '/data/projects/mcp_agent_mail/storage.sqlite3';
    const tag = storeTag(store);
    const m = messageItem(store, { id: 1843, project_id: 3, project_slug: 'data-projects-backend', project_path: '/data/projects/backend', sender_id: 21,
      sender_name: 'BlueLake', thread_id: null, topic: 'standup', subject: 'Broadcast: pausing for rebase', body_chars: 88, importance: 'URGENT',
      ack_required: 0, created_ts: '2026-04-28 22:43:00.000000', attachment_count: 2 });
    assert.equal(m.key, `${tag}:message:1843`);
    assert.deepEqual(m.data, withNulls(agentMailSchema, {
      type: 'message', store, ts: '2026-04-28T22:43:00.000Z', created_at: '2026-04-28T22:43:00.000Z', project_id: 3,
      project_slug: 'data-projects-backend', project_path: '/data/projects/backend', message_id: 1843, topic: 'standup',
      subject: 'Broadcast: pausing for rebase', body_chars: 88, importance: 'urgent', importance_raw: 'URGENT', ack_required: false,
      attachment_count: 2, sender_id: 21, sender_name: 'BlueLake',
    }));
    const r = recipientItem(store, { message_id: 1842, agent_id: 21, agent_name: 'BlueLake', kind: 'to', read_ts: '2026-04-28 22:45:19.004120', ack_ts: null });
    assert.equal(r.key, `${tag}:recipient:1842:21`);
    assert.equal((r.data as any).read_at, '2026-04-28T22:45:19.004Z');
    const f = reservationItem(store, { id: 311, project_id: 3, agent_id: 17, agent_name: 'GreenCastle', path_pattern: 'src/auth/**', exclusive: 1,
      reason: 'bd-7f3a', created_ts: 1777416051330912, expires_ts: '2026-04-29 00:40:51.330912', released_ts: null });
    assert.equal(f.key, `${tag}:reservation:311:reserved`);
    assert.equal((f.data as any).exclusive, true);
    assert.equal((f.data as any).created_at, '2026-04-28T22:40:51.330Z', 'an integer-µs time reads as the same instant');
    assert.equal((f.data as any).expires_at, '2026-04-29T00:40:51.330Z');
    for (const i of [m, r, f]) agentMailSchema.parse(i.data);
  });

  test('a time stream skips what it read within the slack, catches a late commit, and stops on times it cannot read', () => {
    const t0 = 1777416067512044;
    const row = (mid: number, ts: number | string) => ({ message_id: mid, agent_id: 1, ts });
    const skipped: string[] = [];
    const skip = (w: string) => skipped.push(w);
    const a = advanceMark('read', [row(1, t0), row(2, t0 + 10), row(3, t0 + SLACK_US + 5)], { us: null, seen: [] }, 's', skip);
    assert.equal(a.items.length, 3);
    assert.deepEqual(a.mark, { us: t0 + SLACK_US + 5, seen: ['2:1', '3:1'] }, 'only keys within the slack behind the mark are kept');
    assert.equal(a.full, false);
    // Re-read from mark - slack: 2 and 3 again (skipped), and 4 committed late with an earlier time.
    const b = advanceMark('read', [row(2, t0 + 10), row(4, t0 + 20), row(3, t0 + SLACK_US + 5)], a.mark, 's', skip);
    assert.deepEqual(b.items.map((i) => i.key), [`${storeTag('s')}:4:1:read`]);
    assert.equal(b.mark.us, t0 + SLACK_US + 5);
    const c = advanceMark('read', Array.from({ length: BATCH }, () => row(9, 'garbage')), { us: null, seen: [] }, 's', skip);
    assert.deepEqual([c.full, c.progressed, c.items.length], [true, false, 0], 'a full batch of unreadable times is no progress');
    assert.equal(skipped.length, BATCH);
    assert.equal(skipped[0], 'message_recipients.read_ts is not a time');
  });

  test('a store that is not mcp_agent_mail\'s, and a cursor that is not vc\'s, are said so', () => {
    assert.throws(() => storeShape([{ tbl: 'notes', col: 'id' }], '/x.db'), /\/x\.db is not an mcp_agent_mail store: it has no messages table/);
    assert.throws(() => storeShape([{ tbl: 'messages', col: 'id' }], '/x.db'), /messages has no project_id, sender_id, created_ts/);
    const warned: string[] = [];
    assert.deepEqual(cursorFrom({ offset: 3 }, (m) => warned.push(m)), { v: 1, stores: {} });
    assert.match(warned[0]!, /not understood: the stores are read from the start/);
  });
});

describe('reading a store (in-process, as vc collect runs it)', () => {
  test('Python store: every event once, the open state, nothing secret; a live update adds only what changed', async () => {
    const dir = tmpDir('vc-mail-');
    const db = makeStore(dir, 'storage.sqlite3');
    const data = path.join(dir, 'data');
    const r1 = await collect(data, [db]);
    assert.equal(r1.status, 'ok', r1.error ?? '');
    assert.deepEqual(r1.warnings, []);
    const first = runRows(data, r1.run_id);
    assert.deepEqual(byType(first), { store: 1, open: 4, held: 5, agent: 5, message: 5, recipient: 8, read: 3, reservation: 7, release: 1 });
    const raw = fs.readFileSync(path.join(data, 'raw', 'agent-mail', 'machine=local', fs.readdirSync(path.join(data, 'raw', 'agent-mail', 'machine=local'))[0]!), 'utf8');
    assert.ok(!raw.includes('SECRET'), 'no body and no registration token is stored');
    const keys = first.filter((r) => r.kind === 'event').map((r) => r.key);
    assert.equal(new Set(keys).size, keys.length);

    const d = (type: string, pred: (x: any) => boolean = () => true) => first.map((r) => r.data).filter((x) => x.type === type && pred(x));
    const [store] = d('store');
    assert.deepEqual(withNulls(agentMailSchema, store), withNulls(agentMailSchema, {
      type: 'store', store: db, layout: 'text', missing_columns: [], last_message_id: 1846, agents_total: 5, agents_live: 4,
      urgent_unread_total: 2, ack_pending_total: 3, reservations_active_total: 4,
    }));
    const m1843 = d('message', (x) => x.message_id === 1843)[0];
    assert.deepEqual([m1843.importance, m1843.importance_raw, m1843.topic, m1843.thread_id, m1843.attachment_count, m1843.body_chars, m1843.ack_required],
      ['urgent', 'URGENT', 'standup', undefined, 2, 88, false]);
    assert.equal(d('message', (x) => x.message_id === 1846)[0].importance, 'other');
    const created = sqlite(db, 'SELECT created_ts FROM messages WHERE id = 1842').trim();
    assert.equal(d('message', (x) => x.message_id === 1842)[0].ts, new Date(`${created.replace(' ', 'T').slice(0, 23)}Z`).toISOString());
    assert.deepEqual(d('open').map((x) => `${x.message_id}->${x.agent_name}`), ['1844->BlueLake', '1843->RedStone', '1842->BlueLake', '1842->RedStone']);
    assert.deepEqual(d('held').map((x) => x.reservation_id), [316, 311, 312, 313, 314]);
    assert.deepEqual(d('held', (x) => x.reservation_id === 313).map((x) => [x.agent_name, x.agent_program, x.exclusive, typeof x.agent_retired_at]),
      [['OldFox', 'gemini-cli', false, 'string']]);
    assert.deepEqual(eventKeys(first.filter((r) => ['read', 'release'].includes(r.data.type))),
      ['1842:21:read', '1843:17:read', '1845:40:read', 'reservation:315:released']);

    // Live: an ack on an old message (which also reads it), a late-committed read two minutes behind
    // the newest one, a release, a renewal and a new urgent message.
    sqlite(db, `UPDATE message_recipients SET read_ts = ${textAt(0)}, ack_ts = ${textAt(0)} WHERE message_id = 1842 AND agent_id = 25;
UPDATE message_recipients SET read_ts = ${textAt(-11)} WHERE message_id = 1846 AND agent_id = 21;
UPDATE file_reservations SET released_ts = ${textAt(0)} WHERE id = 312;
UPDATE file_reservations SET expires_ts = ${textAt(180)} WHERE id = 311;
INSERT INTO messages (id, project_id, sender_id, thread_id, topic, subject, body_md, importance, ack_required, created_ts, attachments)
  VALUES (1847, 3, 21, NULL, NULL, 'tests are red', 'SECRET-BODY', 'urgent', 0, ${textAt(0)}, '[]');
INSERT INTO message_recipients (message_id, agent_id, kind, read_ts, ack_ts) VALUES (1847, 17, 'to', NULL, NULL);`);
    const r2 = await collect(data, [db]);
    assert.equal(r2.status, 'ok', r2.error ?? '');
    const second = runRows(data, r2.run_id);
    assert.deepEqual(eventKeys(second), ['1842:25:ack', '1842:25:read', '1846:21:read', 'message:1847', 'recipient:1847:17', 'reservation:312:released']);
    const open2 = second.filter((r) => r.data.type === 'open').map((r) => `${r.data.message_id}->${r.data.agent_name}`);
    assert.deepEqual(open2, ['1847->GreenCastle', '1844->BlueLake', '1843->RedStone', '1842->BlueLake']);
    const held2 = second.filter((r) => r.data.type === 'held');
    assert.deepEqual(held2.map((r) => r.data.reservation_id), [311, 316, 313, 314], 'released 312 is gone; renewed 311 now expires last');

    const r3 = await collect(data, [db]);
    assert.deepEqual(eventKeys(runRows(data, r3.run_id)), [], 'nothing new: no event is stored again');
    assert.equal(byType(runRows(data, r3.run_id)).store, 1);
  });

  test('Rust layout (integer µs, migrations table): the same events at the same times; a live integer ack is caught', async () => {
    const dir = tmpDir('vc-mail-');
    const py = makeStore(dir, 'py.sqlite3');
    const rust = makeStore(dir, 'rust.sqlite3', 'rust');
    assert.equal(sqlite(rust, 'SELECT typeof(created_ts) FROM messages LIMIT 1').trim(), 'integer');
    const data = path.join(dir, 'data');
    const r = await collect(data, [py, rust]);
    assert.equal(r.status, 'ok', r.error ?? '');
    const rows = runRows(data, r.run_id);
    const of = (store: string) => rows.filter((x) => x.data.store === store);
    assert.deepEqual(eventKeys(of(rust)), eventKeys(of(py)));
    assert.deepEqual(byType(of(rust)), byType(of(py)));
    assert.deepEqual(of(rust).filter((x) => x.data.type === 'store').map((x) => [x.data.layout, x.data.urgent_unread_total, x.data.reservations_active_total]),
      [['integer', 2, 4]]);
    // The two stores were seeded moments apart: each event's time matches within that.
    const times = (store: string) => new Map(of(store).filter((x) => x.data.ts).map((x) => [x.key.slice(9), Date.parse(x.data.ts)]));
    const pyTimes = times(py);
    for (const [k, t] of times(rust)) assert.ok(Math.abs(t - pyTimes.get(k)!) < 10_000, `${k}: ${t} vs ${pyTimes.get(k)}`);

    sqlite(rust, `UPDATE message_recipients SET ack_ts = CAST(strftime('%s', 'now') AS INTEGER) * 1000000 + 123456 WHERE message_id = 1842 AND agent_id = 21;`);
    const r2 = await collect(data, [rust]);
    assert.deepEqual(eventKeys(runRows(data, r2.run_id)), ['1842:21:ack']);
    const ack = runRows(data, r2.run_id).find((x) => x.data.type === 'ack')!;
    assert.match(ack.data.ack_at, /\.123Z$/);
  });

  test('an older store: missing columns are unknown (and said), no file_reservations table means no reservations', async () => {
    const dir = tmpDir('vc-mail-');
    const db = makeStore(dir, 'old.sqlite3');
    sqlite(db, `ALTER TABLE messages DROP COLUMN topic; ALTER TABLE agents DROP COLUMN registration_token; ALTER TABLE agents DROP COLUMN retired_at;
ALTER TABLE projects DROP COLUMN archived_at; ALTER TABLE file_reservations RENAME TO claims;`);
    const data = path.join(dir, 'data');
    const r = await collect(data, [db]);
    assert.equal(r.status, 'ok', r.error ?? '');
    assert.deepEqual(r.warnings, [`${db} lacks agents.retired_at, file_reservations, messages.topic, projects.archived_at (an older server): read as unknown`]);
    const rows = runRows(data, r.run_id);
    assert.deepEqual(byType(rows), { store: 1, open: 5, agent: 5, message: 5, recipient: 8, read: 3 });
    assert.deepEqual(rows.find((x) => x.data.type === 'store')!.data.missing_columns, ['agents.retired_at', 'file_reservations', 'messages.topic', 'projects.archived_at']);
    assert.ok(rows.some((x) => x.data.type === 'open' && x.data.agent_name === 'OldFox'), 'retirement unknown: OldFox\'s urgent unread counts');
  });

  test('a garbage store or one of another shape is a recorded error; another store of the machine is still read', async () => {
    const dir = tmpDir('vc-mail-');
    const good = makeStore(dir, 'good.sqlite3');
    const junk = path.join(dir, 'junk.sqlite3');
    fs.copyFileSync(path.join(FIXTURES, 'garbage.sqlite3'), junk);
    const data = path.join(dir, 'data');
    const r = await collect(data, [junk, good]);
    assert.equal(r.status, 'error');
    assert.match(r.error!, new RegExp(`reading mcp_agent_mail's store \\(${junk.replace(/[.]/g, '\\.')}\\) failed at query tables: ".*(not a database|file is not)`));
    assert.deepEqual(byType(runRows(data, r.run_id)).store, 1, 'the good store was read');

    const other = path.join(dir, 'other.sqlite3');
    sqlite(other, 'CREATE TABLE messages (id INTEGER PRIMARY KEY, text TEXT); INSERT INTO messages VALUES (1, \'hi\');');
    const data2 = path.join(dir, 'data2');
    const r2 = await collect(data2, [other]);
    assert.equal(r2.status, 'error');
    assert.match(r2.error!, /other\.sqlite3 is not an mcp_agent_mail store vc can read: messages has no project_id, sender_id, created_ts/);
    assert.deepEqual(rowsOf(data2), []);
  });

  test('an empty store: its store row with zero totals, no events', async () => {
    const dir = tmpDir('vc-mail-');
    const db = makeStore(dir, 'empty.sqlite3', 'python', false);
    const data = path.join(dir, 'data');
    const r = await collect(data, [db]);
    assert.equal(r.status, 'ok', r.error ?? '');
    assert.deepEqual(rowsOf(data).map((x) => [x.data.type, x.data.last_message_id ?? null, x.data.agents_total, x.data.urgent_unread_total, x.data.reservations_active_total]),
      [['store', null, 0, 0, 0]]);
  });

  test('a store a writer keeps locked: the run is stopped at its timeout and recorded, nothing stored', async () => {
    const dir = tmpDir('vc-mail-');
    const db = makeStore(dir, 'locked.sqlite3');
    // Out of WAL mode, an exclusive transaction keeps readers out for as long as it lasts.
    sqlite(db, 'PRAGMA journal_mode=DELETE;');
    const writer = spawn('sqlite3', [db], { stdio: ['pipe', 'ignore', 'ignore'] });
    writer.stdin.write('BEGIN EXCLUSIVE; UPDATE messages SET subject = subject;\n');
    await new Promise((res) => setTimeout(res, 300));
    try {
      const config = configSchema.parse({ collectors: { 'agent-mail': { stores: [db], timeout_seconds: 2 } } });
      const data = path.join(dir, 'data');
      const r = await runCollector(agentMailCollector, { config, dataDir: data, machine: config.machines[0]! });
      assert.equal(r.status, 'timeout');
      assert.match(r.error!, /agent-mail timed out after 2s/);
      assert.deepEqual(rowsOf(data), []);
    } finally {
      writer.stdin.end('ROLLBACK;\n');
    }
  });

  test('a configured store that is not there is absent', async () => {
    const dir = tmpDir('vc-mail-');
    const r = await collect(path.join(dir, 'data'), [path.join(dir, 'nope.sqlite3')]);
    assert.equal(r.status, 'absent');
    assert.equal(r.warnings[0], `mcp_agent_mail's store is not here (no file ${path.join(dir, 'nope.sqlite3')})`);
  });

  test('a long history is read in batches, each row once, also when thousands of reads share one time', async () => {
    const dir = tmpDir('vc-mail-');
    const db = makeStore(dir, 'big.sqlite3', 'python', false);
    // Small batches (batch_rows) so that a few hundred rows take several.
    const batch = 100;
    const n = 2 * batch + 50;
    sqlite(db, `INSERT INTO projects VALUES (1, 'p', '/p', ${textAt(-60)}, NULL);
INSERT INTO agents (id, project_id, name, program, model, task_description, inception_ts, last_active_ts, attachments_policy, contact_policy)
  VALUES (1, 1, 'A', 'claude-code', 'm', '', ${textAt(-60)}, ${textAt(-1)}, 'auto', 'auto');
WITH RECURSIVE k(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM k WHERE i < ${n})
INSERT INTO messages (id, project_id, sender_id, subject, body_md, importance, ack_required, created_ts)
  SELECT i, 1, 1, 'm' || i, 'x', 'normal', 0, ${textAt(-30)} FROM k;
INSERT INTO message_recipients (message_id, agent_id, kind, read_ts) SELECT id, 1, 'to', ${textAt(-5)} FROM messages;`);
    const data = path.join(dir, 'data');
    const r = await collect(data, [db], batch);
    assert.equal(r.status, 'ok', r.error ?? '');
    const t = byType(rowsOf(data));
    assert.deepEqual([t.message, t.recipient, t.read], [n, n, n]);
    // The saved cursor: past every message; the reads' mark at their one time, every key there seen.
    const saved = loadCursor(data, 'local', 'agent-mail') as any;
    assert.deepEqual(saved, { v: 1, stores: { [db]: { message_id: n, reservation_id: 0,
      read: { us: timeUs(sqlite(db, 'SELECT read_ts FROM message_recipients LIMIT 1').trim()), seen: Array.from({ length: n }, (_, i) => `${i + 1}:1`) },
      ack: { us: null, seen: [] }, release: { us: null, seen: [] } } } });
    const r2 = await collect(data, [db], batch);
    assert.deepEqual(eventKeys(runRows(data, r2.run_id)), []);
  });
});

describe('vc collect --source agent-mail', () => {
  test('no store configured and none at the usual places: absent, exit 0', (t) => {
    if (USUAL_STORES.some((f) => f.startsWith('/') && fs.existsSync(f))) return t.skip('this machine has a store at a usual place');
    const dir = tmpDir('vc-mail-');
    const env = { VC_DATA_DIR: path.join(dir, 'data'), VC_CONFIG: path.join(dir, 'vc.toml'), HOME: dir };
    fs.writeFileSync(env.VC_CONFIG, '');
    const r = vc(['collect', '--source', 'agent-mail', '--json'], env);
    assert.equal(r.code, 0, r.stderr);
    const run = readRaw(env.VC_DATA_DIR, 'collector_runs', 'local').at(-1)!.data;
    assert.equal(run.status, 'absent');
    assert.match(run.warnings[0], /^no mcp_agent_mail store here: none configured \(\[collectors\.agent-mail\] stores\) and none at /);
  });
});

describe('agent-mail over ssh', { skip: sshdAvailable() ? false : 'needs root and /usr/sbin/sshd' }, () => {
  let sshd: Sshd;
  const dir = tmpDir('vc-mail-ssh-');
  const storeDir = path.join(dir, 'mail');
  const env = { VC_DATA_DIR: path.join(dir, 'data'), VC_CONFIG: path.join(dir, 'vc.toml'), XDG_RUNTIME_DIR: dir };
  before(async () => {
    // The remote login is another user: in WAL mode a reader needs to write the -shm file.
    fs.mkdirSync(storeDir);
    makeStore(storeDir, 'storage.sqlite3');
    fs.chmodSync(dir, 0o755);
    fs.chmodSync(storeDir, 0o777);
    for (const f of fs.readdirSync(storeDir)) fs.chmodSync(path.join(storeDir, f), 0o666);
    sshd = await startSshd([{ name: 'ok', forcedCommand: 'exec sh -s' }]);
    fs.writeFileSync(env.VC_CONFIG, [
      '[ssh]', `config_file = ${JSON.stringify(sshd.clientConfig)}`,
      '[collectors.agent-mail]', `stores = [${JSON.stringify(path.join(storeDir, 'storage.sqlite3'))}]`,
      '[[machines]]', 'id = "far"', `ssh = ${JSON.stringify(sshd.target)}`, `identity_file = ${JSON.stringify(sshd.keys.ok)}`,
    ].join('\n'));
  });
  after(() => sshd?.stop());

  test('the same rows as locally, read on the remote machine', () => {
    const r = vc(['collect', '--source', 'agent-mail', '--json'], env);
    assert.equal(r.code, 0, r.stderr + r.stdout);
    const rows = readRaw(env.VC_DATA_DIR, 'agent-mail', 'far');
    assert.deepEqual(byType(rows), { store: 1, open: 4, held: 5, agent: 5, message: 5, recipient: 8, read: 3, reservation: 7, release: 1 });
  });
});

describe('mail views: given rows, expected rows', () => {
  const NOW = new Date('2026-11-24T12:00:00Z');
  const at = (minutes: number) => new Date(NOW.getTime() + minutes * 60_000).toISOString();
  const STORE = '/srv/mail/storage.sqlite3';
  let dataDir: string;
  let seq = 0;
  const envOf = (source: string, machine: string, collected: string, run: string, data: unknown, kind: 'snapshot' | 'event', key?: string): Envelope => ({
    v: 1, source, machine_id: machine, collected_at: collected, run_id: run, collector_version: '1.0.0', schema_version: 1, kind,
    ...(key ? { key } : {}), data: storable(data) as Record<string, unknown>,
  });
  const runRecord = (source: string, machine: string, collected: string, run: string, rows: number) => envOf('collector_runs', machine, collected, run,
    { source, started_at: collected, ended_at: collected, duration_ms: 1, bytes: 1, rows, status: 'ok', error: null, warnings: [] }, 'event', run);
  /** One agent-mail run: snapshot rows and events (events given as [key, data]). */
  const mailRun = async (machine: string, collected: string, snaps: Array<Record<string, unknown>>, events: Array<[string, Record<string, unknown>]> = []) => {
    const run = `mail-${++seq}`;
    const parse = (d: Record<string, unknown>) => agentMailSchema.parse(withNulls(agentMailSchema, { store: STORE, ...d }));
    await appendEnvelopes(dataDir, [
      ...snaps.map((d) => envOf('agent-mail', machine, collected, run, parse(d), 'snapshot')),
      ...events.map(([k, d]) => envOf('agent-mail', machine, collected, run, parse(d), 'event', k)),
      runRecord('agent-mail', machine, collected, run, snaps.length + events.length),
    ]);
  };
  const open = (message: number, agent: string, over: Record<string, unknown>) => ({
    type: 'open', message_id: message, agent_id: agent.length, agent_name: agent, project_slug: 'p-api', project_path: '/p/api',
    subject: `subject ${message}`, sender_name: 'Boss', importance: 'normal', ack_required: false, ...over,
  });
  const held = (id: number, agent: string, over: Record<string, unknown>) => ({
    type: 'held', reservation_id: id, agent_id: agent.length, agent_name: agent, project_id: 1, project_slug: 'p-api', project_path: '/p/api',
    path_pattern: `src/${id}/**`, exclusive: true, created_at: at(-60), agent_last_active_at: at(-2), ...over,
  });

  before(async () => {
    dataDir = tmpDir('vc-mail-views-');
    const message12: [string, Record<string, unknown>] = ['t:message:12',
      { type: 'message', message_id: 12, ts: at(-120), project_slug: 'p-api', importance: 'normal', ack_required: true, sender_id: 1 }];
    // An older run whose open items are gone since: not shown. It read message 12 first.
    await mailRun('m1', at(-60), [{ type: 'store', layout: 'text' }, open(1, 'Gone', { importance: 'urgent', created_at: at(-120) })], [message12]);
    await mailRun('m1', at(-5), [
      { type: 'store', layout: 'text', urgent_unread_total: 2, ack_pending_total: 3, reservations_active_total: 4, last_message_id: 14 },
      open(10, 'Ann', { importance: 'urgent', created_at: at(-30) }),
      open(11, 'Ann', { importance: 'high', created_at: at(-5) }),
      open(12, 'Bob', { ack_required: true, created_at: at(-120) }),
      open(13, 'Bob', { ack_required: true, created_at: at(-30), read_at: at(-20) }),
      open(14, 'Cy', { ack_required: true, importance: 'urgent', created_at: at(-90), read_at: at(-80) }),
      held(1, 'Ann', { expires_at: at(50) }),
      held(2, 'Bob', { expires_at: at(10), agent_last_active_at: at(-180) }),
      held(3, 'Cy', { expires_at: at(40), agent_retired_at: at(-60) }),
      held(4, 'Ann', { expires_at: at(-30) }),
      held(5, 'Dee', { expires_at: at(90), project_id: 2, project_slug: 'p-web', project_path: '/p/web/' }),
      { type: 'agent', agent_id: 3, agent_name: 'Ann', agent_last_active_at: at(-2) },
    ], [
      message12, // read again by this run: the same key, counted once
      ['t:message:10', { type: 'message', message_id: 10, ts: at(-30), project_slug: 'p-api', importance: 'urgent', ack_required: false, sender_id: 2 }],
      ['t:12:3:read', { type: 'read', message_id: 12, agent_id: 3, ts: at(-100), read_at: at(-100) }],
      ['t:12:3:ack', { type: 'ack', message_id: 12, agent_id: 3, ts: at(-60), ack_at: at(-60) }],
      ['t:reservation:1:reserved', { type: 'reservation', reservation_id: 1, ts: at(-60), agent_name: 'Ann' }],
    ]);
    // The machine's agents: one in the api project (below its root), none in web.
    const blank = Object.fromEntries(Object.keys(agentsSchema.options[0].shape).filter((k) => k !== 'type').map((k) => [k, null]));
    const proc = agentsSchema.parse({ ...blank, type: 'process', pid: 4242, agent: 'claude', comm: 'claude', cwd: '/p/api/sub', state: 'S',
      cpu_seconds: 1, started_at: at(-100) });
    await appendEnvelopes(dataDir, [envOf('agents', 'm1', at(-2), 'agents-1', proc, 'snapshot'), runRecord('agents', 'm1', at(-2), 'agents-1', 1)]);
  });

  const session = async () => openSession({ dataDir, now: NOW });

  test('staging: the last run\'s snapshots only; events once each', async (t) => {
    const s = await session();
    t.after(() => s.close());
    assert.deepEqual(await s.query('SELECT store, layout, urgent_unread_total, ack_pending_total, reservations_active_total, last_message_id FROM v1.mail_stores'),
      [{ store: STORE, layout: 'text', urgent_unread_total: 2, ack_pending_total: 3, reservations_active_total: 4, last_message_id: 14 }]);
    assert.deepEqual((await s.query('SELECT message_id FROM v1.mail_open_items ORDER BY message_id')).map((r) => r.message_id), [10, 11, 12, 13, 14]);
    assert.deepEqual(await s.query('SELECT message_id, urgent, age_s FROM v1.mail_open_items WHERE agent_name = \'Ann\' ORDER BY message_id'),
      [{ message_id: 10, urgent: true, age_s: 1800 }, { message_id: 11, urgent: true, age_s: 300 }]);
    assert.deepEqual((await s.query('SELECT reservation_id FROM v1.mail_held ORDER BY 1')).map((r) => r.reservation_id), [1, 2, 3, 4, 5]);
    assert.deepEqual(await s.query('SELECT agent_name, idle_s FROM v1.mail_agents'), [{ agent_name: 'Ann', idle_s: 120 }]);
    assert.deepEqual(await s.query('SELECT message_id, created_at, importance FROM v1.mail_messages ORDER BY message_id'), [
      { message_id: 10, created_at: at(-30), importance: 'urgent' }, { message_id: 12, created_at: at(-120), importance: 'normal' },
    ]);
    assert.deepEqual(await s.query('SELECT receipt, message_id, agent_id, ts FROM v1.mail_receipts ORDER BY ts'), [
      { receipt: 'read', message_id: 12, agent_id: 3, ts: at(-100) }, { receipt: 'ack', message_id: 12, agent_id: 3, ts: at(-60) },
    ]);
    assert.deepEqual(await s.query('SELECT event, reservation_id FROM v1.mail_reservation_events'), [{ event: 'reserved', reservation_id: 1 }]);
  });

  test('domain: urgent unread, acks overdue, reservations with their holder\'s state, traffic', async (t) => {
    const s = await session();
    t.after(() => s.close());
    assert.deepEqual(await s.query('SELECT message_id, agent_name, age_s, past_grace FROM v1.mail_urgent_unread ORDER BY message_id'), [
      { message_id: 10, agent_name: 'Ann', age_s: 1800, past_grace: true }, { message_id: 11, agent_name: 'Ann', age_s: 300, past_grace: false },
    ]);
    assert.deepEqual(await s.query('SELECT message_id, agent_name, overdue_s, read_at FROM v1.mail_ack_overdue ORDER BY message_id'), [
      { message_id: 12, agent_name: 'Bob', overdue_s: 3600, read_at: null }, { message_id: 14, agent_name: 'Cy', overdue_s: 1800, read_at: at(-80) },
    ]);
    assert.deepEqual(await s.query(`SELECT reservation_id, state, expires_in_s, expiring_soon, holder_retired, holder_inactive, holder_dead, holder_state, stale
      FROM v1.mail_reservations ORDER BY reservation_id`), [
      { reservation_id: 1, state: 'active', expires_in_s: 3000, expiring_soon: false, holder_retired: false, holder_inactive: false, holder_dead: false, holder_state: 'active', stale: false },
      { reservation_id: 2, state: 'active', expires_in_s: 600, expiring_soon: true, holder_retired: false, holder_inactive: true, holder_dead: false, holder_state: 'inactive', stale: true },
      { reservation_id: 3, state: 'active', expires_in_s: 2400, expiring_soon: false, holder_retired: true, holder_inactive: false, holder_dead: false, holder_state: 'retired', stale: true },
      { reservation_id: 4, state: 'expired', expires_in_s: -1800, expiring_soon: false, holder_retired: false, holder_inactive: false, holder_dead: false, holder_state: 'active', stale: false },
      { reservation_id: 5, state: 'active', expires_in_s: 5400, expiring_soon: false, holder_retired: false, holder_inactive: false, holder_dead: true, holder_state: 'dead', stale: true },
    ]);
    assert.deepEqual(await s.query('SELECT project_slug, messages, urgent, ack_required, reads, acks, median_ack_s FROM v1.mail_activity'), [
      { project_slug: 'p-api', messages: 2, urgent: 1, ack_required: 1, reads: 1, acks: 1, median_ack_s: 3600 },
    ]);
  });

  test('factors: per recipient and per project, graded in health, titled in triage with commands that name ids only', async (t) => {
    const s = await session();
    t.after(() => s.close());
    assert.deepEqual(await s.query('SELECT factor_id, subject, value, summary FROM v1.mail_factors ORDER BY factor_id, subject'), [
      { factor_id: 'mail_ack_overdue', subject: 'Bob in p-api', value: 1, summary: 'Bob owes 1 acknowledgement (1 not read yet); the oldest, "subject 12" from Boss, is 60m overdue' },
      { factor_id: 'mail_ack_overdue', subject: 'Cy in p-api', value: 1, summary: 'Cy owes 1 acknowledgement; the oldest, "subject 14" from Boss, is 30m overdue' },
      { factor_id: 'mail_stale_reservations', subject: 'p-api', value: 2,
        summary: '2 active reservations in /p/api held by agents that are inactive, retired: src/2/** (Bob, inactive, expires in 10m); src/3/** (Cy, retired, expires in 40m)' },
      { factor_id: 'mail_stale_reservations', subject: 'p-web', value: 1,
        summary: '1 active reservation in /p/web/ held by agents that are dead: src/5/** (Dee, dead, expires in 1h30m)' },
      { factor_id: 'mail_urgent_unread', subject: 'Ann in p-api', value: 1, summary: 'Ann has 1 urgent message unread for over 15 min; the oldest, "subject 10" from Boss, for 30m' },
    ]);
    await s.query('CREATE TEMP TABLE health_factors AS FROM v1.health_factors');
    assert.deepEqual(await s.query(`SELECT factor_id, subject, severity, unit FROM health_factors WHERE factor_id LIKE 'mail%' ORDER BY factor_id, subject`), [
      { factor_id: 'mail_ack_overdue', subject: 'Bob in p-api', severity: 'warn', unit: 'messages' },
      { factor_id: 'mail_ack_overdue', subject: 'Cy in p-api', severity: 'warn', unit: 'messages' },
      { factor_id: 'mail_stale_reservations', subject: 'p-api', severity: 'warn', unit: 'reservations' },
      { factor_id: 'mail_stale_reservations', subject: 'p-web', severity: 'warn', unit: 'reservations' },
      { factor_id: 'mail_urgent_unread', subject: 'Ann in p-api', severity: 'warn', unit: 'messages' },
    ]);
    const [item] = await s.query(`SELECT title, next FROM v1.triage_items WHERE factor_id = 'mail_urgent_unread'`);
    assert.deepEqual(item, { title: 'm1: Ann has 1 urgent unread message', next: ['vc report mail --md',
      `vc query "SELECT agent_name, message_id, subject, sender_name, age_s FROM mail_urgent_unread WHERE machine_id = 'm1' AND agent_id = 3 ORDER BY age_s DESC"`,
      'vc report machines --md'] });
    // Every query triage suggests for mail runs and finds the rows it is about (vc query runs the
    // same SQL with the same search path).
    const next = (await s.query(`SELECT DISTINCT unnest(next) AS cmd FROM v1.triage_items WHERE factor_id LIKE 'mail%'`)).map((r) => String(r.cmd));
    const queries = next.filter((c) => c.startsWith('vc query "')).map((c) => c.slice('vc query "'.length, -1));
    assert.equal(queries.length, 5);
    for (const q of queries) assert.ok((await s.query(q)).length > 0, q);
    assert.deepEqual(next.filter((c) => !c.startsWith('vc query')).sort(), ['vc report machines --md', 'vc report mail --md']);
  });

  test('vc report mail: the robot envelope and the Markdown', async () => {
    const report = (await import('../reports/mail.ts')).default;
    const env = { VC_DATA_DIR: dataDir, VC_CONFIG: path.join(dataDir, 'vc.toml') };
    fs.writeFileSync(env.VC_CONFIG, '[[machines]]\nid = "m1"\nssh = "local"\n');
    const r = vc(['report', 'mail', '--json', '--as-of', NOW.toISOString()], env);
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout);
    assert.equal(out.schema_version, 'vc.mail.v1');
    assert.deepEqual(Object.keys(out.data), ['stores', 'factors', 'urgent_unread', 'ack_overdue', 'reservations', 'activity']);
    assert.deepEqual(out.data.factors.map((f: any) => [f.factor_id, f.subject, f.severity]), [
      ['mail_stale_reservations', 'p-api', 'warn'], ['mail_ack_overdue', 'Bob in p-api', 'warn'], ['mail_ack_overdue', 'Cy in p-api', 'warn'],
      ['mail_stale_reservations', 'p-web', 'warn'], ['mail_urgent_unread', 'Ann in p-api', 'warn'],
    ]);
    assert.deepEqual(out.data.urgent_unread.map((u: any) => [u.message_id, u.past_grace]), [[10, true], [11, false]]);
    assert.deepEqual(out.data.ack_overdue.map((u: any) => u.message_id), [12, 14]);
    assert.deepEqual(out.data.reservations.map((u: any) => u.reservation_id), [2, 3, 5, 1, 4], 'stale first, then expiring, active, expired');
    assert.equal(out.staleness['agent-mail'], 300);
    // The Markdown of the same data (rendered here: one vc start-up is enough).
    const md = report.render(out.data, { at: NOW, staleness: out.staleness, warnings: out.warnings, options: {} });
    assert.match(md, /^# vc mail · 2026-11-24 12:00 UTC\n/);
    assert.match(md, /\| m1 \| \/srv\/mail\/storage\.sqlite3 \| text \| 5m ago \| \? \(\?\) \| 2 \| 3 \| 4 \| {2}\|/);
    assert.match(md, /- \*\*warn\*\* m1: 2 stale file reservations in p-api: /);
    assert.match(md, /\| m1 \| p-web \| src\/5\/\*\* \| Dee \| dead \| active \(stale\) \| in 1h30m \| yes \|/);
    assert.match(md, /\| m1 \| p-api \| 2 \| 1 \| 1 \| 1 \| 1 \| 60m \|/);
  });
});
