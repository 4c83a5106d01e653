// cloud-bench: real cloud_benchmarker stores (made with the sqlite3 CLI from the documented DDL,
// fixtures/cloud-bench) read incrementally through the collectors' SQLite reader, locally and on a
// real sshd in another time zone, and the views over what was stored: the scores per benchmarked
// host and the bench drift against each host's own baseline.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import type { CollectContext } from '../lib/collector.ts';
import { benchRead, cloudBenchQueries, cloudBenchSchema, localMinusDays, type CloudBenchCursor } from '../lib/sources/cloud-bench.ts';
import { readSqlite } from '../lib/sources/sqlite.ts';
import { openSession } from '../lib/duck.ts';
import { appendEnvelopes } from '../lib/store.ts';
import { storable, type Envelope } from '../lib/envelope.ts';
import { readRaw, tmpDir, vc, withNulls } from './helpers.ts';
import { sshdAvailable, startSshd, type Sshd } from './sshd.ts';

const FIXTURES = path.join(import.meta.dirname, '..', 'fixtures', 'cloud-bench');
const sql = (name: string) => fs.readFileSync(path.join(FIXTURES, name), 'utf8');

/** A store made with the documented DDL, plus the fixture's rows unless `rows` is false. */
function makeStore(dir: string, rows = true): string {
  const db = path.join(dir, 'cloud_benchmarker.sqlite');
  execFileSync('sqlite3', [db], { input: sql('schema.sql') + (rows ? sql('rows.sql') : '') });
  return db;
}
const exec = (db: string, statements: string) => execFileSync('sqlite3', [db], { input: statements });

/** Enough of a collector's context to run the reader's script with the local sh, in time zone `tz`. */
const localCtx = (tz = 'UTC') => ({
  run: async (_what: string, script: string) => ({ stdout: execFileSync('sh', ['-s'], { input: script, env: { ...process.env, TZ: tz }, encoding: 'utf8' }) }),
}) as unknown as CollectContext;

/** One collector run's read, as the collector does it (queries, then benchRead). */
async function readOnce(db: string, prev: CloudBenchCursor | null, tz = 'UTC', windowDays = 1, maxRows = 5000) {
  const r = await readSqlite(localCtx(tz), "cloud_benchmarker's store", db, cloudBenchQueries(prev, windowDays, maxRows));
  if ('absent' in r) throw new Error(r.absent);
  const skipped: string[] = [];
  const out = benchRead({ new_rows: r.rows.new_rows!, window_rows: r.rows.window_rows }, prev, windowDays, (why) => skipped.push(why));
  for (const i of out.items) cloudBenchSchema.parse(i.data);
  return { ...out, skipped, data: out.items.map((i) => withNulls(cloudBenchSchema, i.data as Record<string, unknown>)) };
}

describe("cloud_benchmarker's store, read", () => {
  test('every row once, naive local times made UTC by the store machine\'s zone (DST included); NULLs kept; keyed by host and time', async () => {
    const db = makeStore(tmpDir('vc-bench-'));
    const r = await readOnce(db, null, 'America/New_York');
    assert.deepEqual(r.items.map((i) => [i.kind, i.key]), [
      ['event', 'bench-a|2026-05-01 14:03:27.512044'], ['event', 'bench-b|2026-05-01 20:00:00.000000'],
      ['event', 'bench-a|2026-05-02 02:00:00.250000'], ['event', 'bench-c|2026-05-02 08:00:00.000000'],
    ]);
    assert.deepEqual(r.data[0], withNulls(cloudBenchSchema, {
      ts: '2026-05-01T18:03:27.512Z', datetime_local: '2026-05-01 14:03:27.512044', utc_offset_minutes: -240, row_id: 1,
      hostname: 'bench-a', ip_address: '10.0.0.5', cpu_events_per_s: 4321.5, fileio_reads_per_s: 1800.2, memory_mib_transferred: 102400,
      mutex_avg_latency_ms: 1.2, threads_avg_latency_ms: 0.85, overall_score: 87.5,
    }));
    assert.deepEqual([r.data[1]!.ip_address, r.data[1]!.overall_score, r.data[1]!.ts], [null, 100, '2026-05-02T00:00:00.000Z'], 'UNKNOWN is no address');
    assert.equal(r.data[2]!.fileio_reads_per_s, null, 'a metric that did not parse stays NULL');
    assert.equal(r.data[3]!.overall_score, null, 'no overall score yet');
    assert.deepEqual(r.cursor.id, 4);
    assert.equal(r.cursor.newest, '2026-05-02 08:00:00.000000');
    // The window (one day before the newest) holds all four.
    assert.deepEqual(Object.keys(r.cursor.seen).sort(), r.items.map((i) => i.key).sort());
    // January is EST (-5h): the offset is the one at that time, not today's.
    exec(db, "INSERT INTO raw_benchmark_subscores VALUES (9, '2026-01-15 09:00:00.000000', 'bench-d', '10.0.0.9', 1, 1, 1, 1, 1);");
    const winter = await readOnce(db, r.cursor, 'America/New_York');
    assert.deepEqual(winter.data.map((d) => [d.hostname, d.ts, d.utc_offset_minutes]), [['bench-d', '2026-01-15T14:00:00.000Z', -300]]);
  });

  test('the next run stores only new rows and rows the ingest changed in place; the window moves with the newest run', async () => {
    const db = makeStore(tmpDir('vc-bench-'));
    const first = await readOnce(db, null);
    assert.deepEqual((await readOnce(db, first.cursor)).items, [], 'nothing new: nothing stored');
    // The ingest upserts: bench-c gets its overall score (same raw id); a new batch arrives.
    exec(db, `INSERT INTO overall_normalized_score VALUES (4, '2026-05-02 08:00:00.000000', 'bench-c', '10.0.0.7', 64.0);
      INSERT INTO raw_benchmark_subscores VALUES (5, '2026-05-03 02:00:00.000000', 'bench-a', '10.0.0.5', 4400, 1850, 102400, 1.2, 0.8);`);
    const second = await readOnce(db, first.cursor);
    assert.deepEqual(second.data.map((d) => [d.row_id, d.hostname, d.overall_score]), [[4, 'bench-c', 64], [5, 'bench-a', null]]);
    assert.equal(second.cursor.id, 5);
    // Rows more than a day before the newest leave the window (and the cursor).
    assert.deepEqual(Object.keys(second.cursor.seen).sort(), ['bench-a|2026-05-02 02:00:00.250000', 'bench-a|2026-05-03 02:00:00.000000', 'bench-c|2026-05-02 08:00:00.000000']);
    // An update outside the window is not seen again (the doc's cursor: id plus a trailing window).
    exec(db, "UPDATE overall_normalized_score SET overall_score = 1 WHERE id = 1;");
    assert.deepEqual((await readOnce(db, second.cursor)).items, []);
  });

  test('a long history is read max_rows at a time; an empty store gives nothing; a row without a usable time is skipped', async () => {
    const db = makeStore(tmpDir('vc-bench-'));
    const a = await readOnce(db, null, 'UTC', 1, 3);
    assert.deepEqual([a.items.length, a.cursor.id], [3, 3]);
    const b = await readOnce(db, a.cursor, 'UTC', 1, 3);
    assert.deepEqual(b.data.map((d) => d.row_id), [4]);
    const empty = await readOnce(makeStore(tmpDir('vc-bench-'), false), null);
    assert.deepEqual([empty.items, empty.cursor], [[], { id: 0, newest: null, seen: {} }]);
    exec(db, "INSERT INTO raw_benchmark_subscores VALUES (6, 'last tuesday', 'bench-z', NULL, 1, 1, 1, 1, 1), (7, NULL, 'bench-y', NULL, 1, 1, 1, 1, 1);");
    const bad = await readOnce(db, b.cursor);
    assert.deepEqual([bad.items, bad.skipped, bad.cursor.id], [[], ['a row whose datetime is not a date-time', 'a row without a datetime'], 7]);
  });

  test('not this store, or not a database: a clear error naming the store and the query', async () => {
    const dir = tmpDir('vc-bench-');
    const other = path.join(dir, 'other.sqlite');
    exec(other, 'CREATE TABLE t (x INTEGER);');
    await assert.rejects(readOnce(other, null), /reading cloud_benchmarker's store \(.*other\.sqlite\) failed at query new_rows: ".*no such table: raw_benchmark_subscores/);
    const junk = path.join(dir, 'junk.sqlite');
    fs.writeFileSync(junk, 'not a database\n'.repeat(200));
    await assert.rejects(readOnce(junk, null), /failed at query new_rows: ".*(not a database|file is not)/);
    assert.equal(localMinusDays('2026-03-01 00:30:00.000000', 1), '2026-02-28 00:30:00');
    assert.equal(localMinusDays('garbage', 1), null);
  });
});

/** A temp setup for vc collect --source cloud-bench reading `store`. */
function setup(store: string | null) {
  const dir = tmpDir('vc-bench-collect-');
  const conf = path.join(dir, 'vc.toml');
  fs.writeFileSync(conf, store ? `[collectors.cloud-bench]\nstore = ${JSON.stringify(store)}\n` : '');
  const env = { VC_DATA_DIR: path.join(dir, 'data'), VC_CONFIG: conf, TZ: 'Europe/Berlin' };
  const collect = () => vc(['collect', '--source', 'cloud-bench', '--json'], env);
  const lastRun = () => readRaw(env.VC_DATA_DIR, 'collector_runs', 'local').at(-1)!.data;
  return { dir, conf, env, collect, lastRun, rows: () => readRaw(env.VC_DATA_DIR, 'cloud-bench', 'local') };
}

describe('vc collect --source cloud-bench', () => {
  test('stores each new or changed row once as an event, in UTC; the cursor is saved with the rows', () => {
    const db = makeStore(tmpDir('vc-bench-'));
    const s = setup(db);
    assert.equal(s.collect().code, 0);
    assert.equal(s.lastRun().status, 'ok');
    assert.deepEqual(s.rows().map((l) => [l.kind, l.key, l.data.ts]), [
      ['event', 'bench-a|2026-05-01 14:03:27.512044', '2026-05-01T12:03:27.512Z'], ['event', 'bench-b|2026-05-01 20:00:00.000000', '2026-05-01T18:00:00.000Z'],
      ['event', 'bench-a|2026-05-02 02:00:00.250000', '2026-05-02T00:00:00.250Z'], ['event', 'bench-c|2026-05-02 08:00:00.000000', '2026-05-02T06:00:00.000Z'],
    ]);
    assert.equal(s.lastRun().cursor.id, 4);
    exec(db, "UPDATE raw_benchmark_subscores SET cpu_speed_test__events_per_second = 4000 WHERE id = 4;");
    assert.equal(s.collect().code, 0);
    assert.deepEqual(s.rows().slice(4).map((l) => [l.key, l.data.cpu_events_per_s]), [['bench-c|2026-05-02 08:00:00.000000', 4000]]);
  });

  test('no store configured, or none at that path: absent; a file that is not a database: a recorded error', () => {
    const none = setup(null);
    assert.equal(none.collect().code, 0);
    assert.equal(none.lastRun().status, 'absent');
    assert.match(none.lastRun().warnings[0], /store is not configured/);
    const dir = tmpDir('vc-bench-');
    const junk = path.join(dir, 'cloud_benchmarker.sqlite');
    const s = setup(junk);
    assert.equal(s.collect().code, 0);
    assert.equal(s.lastRun().status, 'absent');
    assert.match(s.lastRun().warnings[0], /cloud_benchmarker's store is not here \(no file/);
    fs.writeFileSync(junk, 'not a database\n'.repeat(200));
    assert.equal(s.collect().code, 1);
    assert.equal(s.lastRun().status, 'error');
    assert.match(s.lastRun().error, /reading cloud_benchmarker's store .* failed at query new_rows/);
    assert.deepEqual(s.rows(), []);
  });
});

describe('cloud-bench over ssh', { skip: sshdAvailable() ? false : 'needs root and /usr/sbin/sshd' }, () => {
  let sshd: Sshd;
  const dir = tmpDir('vc-bench-ssh-');
  const s = setup(null);
  before(async () => {
    fs.chmodSync(dir, 0o755);
    makeStore(dir);
    fs.chmodSync(path.join(dir, 'cloud_benchmarker.sqlite'), 0o644);
    // The remote machine keeps its clocks in Tokyo time: its zone converts, not the collector's.
    sshd = await startSshd([{ name: 'ok', forcedCommand: 'TZ=Asia/Tokyo exec sh -s' }]);
    fs.writeFileSync(s.conf, [
      '[ssh]', `config_file = ${JSON.stringify(sshd.clientConfig)}`,
      '[collectors.cloud-bench]', `store = ${JSON.stringify(path.join(dir, 'cloud_benchmarker.sqlite'))}`,
      '[[machines]]', 'id = "far"', `ssh = ${JSON.stringify(sshd.target)}`, `identity_file = ${JSON.stringify(sshd.keys.ok)}`,
    ].join('\n'));
  });
  after(() => sshd?.stop());

  test('the store on the remote machine, read there, times converted with its zone', () => {
    const r = vc(['collect', '--source', 'cloud-bench', '--json'], { ...s.env, XDG_RUNTIME_DIR: s.dir });
    assert.equal(r.code, 0, r.stderr + r.stdout);
    const rows = readRaw(s.env.VC_DATA_DIR, 'cloud-bench', 'far');
    assert.deepEqual(rows.map((l) => [l.data.hostname, l.data.ts, l.data.utc_offset_minutes]).slice(0, 2),
      [['bench-a', '2026-05-01T05:03:27.512Z', 540], ['bench-b', '2026-05-01T11:00:00.000Z', 540]]);
  });
});

describe('cloud-bench views: given rows, expected rows', () => {
  const NOW = new Date('2026-11-24T12:00:00Z');
  const day = (d: number, h = 0) => new Date(NOW.getTime() - d * 86_400_000 - h * 3_600_000).toISOString();
  let seq = 0;
  const bench = (hostname: string, ts: string, overall: number | null, over: Record<string, unknown> = {}) => ({
    ts, datetime_local: ts.replace('T', ' ').replace('Z', '000'), utc_offset_minutes: 0, row_id: ++seq, hostname, ip_address: null,
    cpu_events_per_s: 4000, fileio_reads_per_s: 1800, memory_mib_transferred: 102400, mutex_avg_latency_ms: 1, threads_avg_latency_ms: 0.8,
    overall_score: overall, ...over,
  });
  /** Stores rows as the collector does: events keyed by host and time, collected at `at` on `machine`. */
  const store = async (dir: string, machine: string, at: string, rows: Array<ReturnType<typeof bench>>, source = 'cloud-bench') => {
    const run = `r-${++seq}`;
    await appendEnvelopes(dir, rows.map((d): Envelope => ({
      v: 1, source, machine_id: machine, collected_at: at, run_id: run, collector_version: '1.0.0', schema_version: 1,
      kind: 'event', key: `${d.hostname}|${d.datetime_local}`, data: storable(cloudBenchSchema.parse(d)) as Record<string, unknown>,
    })).concat([{
      v: 1, source: 'collector_runs', machine_id: machine, collected_at: at, run_id: run, collector_version: '1.0.0', schema_version: 1,
      kind: 'event', key: run, data: { source, started_at: at, ended_at: at, duration_ms: 1, bytes: 1, rows: rows.length, status: 'ok', error: null, warnings: [] },
    }]));
  };

  test('scores: the latest stored copy of each row; hosts mapped to vc machines by id or probed host name', async (t) => {
    const dir = tmpDir('vc-bench-views-');
    const a = bench('worker-1', day(3), 80);
    await store(dir, 'ctl', day(3), [a, bench('bench-b', day(3), 100), bench('lab-9', day(3), 50)]);
    await store(dir, 'ctl', day(2), [{ ...a, overall_score: 82 }]); // the ingest updated it in place
    await appendEnvelopes(dir, [{ v: 1, source: 'tools', machine_id: 'gpu-box', collected_at: day(0, 1), run_id: 'tools-1', collector_version: '1.0.0',
      schema_version: 1, kind: 'snapshot', data: { hostname: 'Bench-B.example.org', kernel: 'Linux', arch: 'x86_64', tools: [] } }]);
    const s = await openSession({ dataDir: dir, now: NOW, machines: [{ id: 'worker-1', ssh: 'local', tags: [], collectable: true, collectors: [] }] });
    t.after(() => s.close());
    assert.deepEqual(await s.query('SELECT machine_id, store_machine_id, hostname, ts, overall_score FROM v1.cloud_bench_scores ORDER BY hostname'), [
      { machine_id: 'gpu-box', store_machine_id: 'ctl', hostname: 'bench-b', ts: day(3), overall_score: 100 },
      { machine_id: 'ctl', store_machine_id: 'ctl', hostname: 'lab-9', ts: day(3), overall_score: 50 },
      { machine_id: 'worker-1', store_machine_id: 'ctl', hostname: 'worker-1', ts: day(3), overall_score: 82 },
    ]);
  });

  test('bench drift against the median of the earlier 30 days; a factor from 3 earlier runs, crit past 30 points', async (t) => {
    const dir = tmpDir('vc-bench-views-');
    await store(dir, 'ctl', day(0, 1), [
      // dropped: 90, 86, 88, 84 then 50 (its cpu down too); a run 40 days ago at 10 is outside the baseline
      bench('dropped', day(40), 10), bench('dropped', day(20), 90), bench('dropped', day(15), 86), bench('dropped', day(10), 88), bench('dropped', day(5), 84),
      bench('dropped', day(0, 2), 50, { cpu_events_per_s: 2500 }),
      // dipped: 80, 82, 78 then 66: 14 points, under the warning
      bench('dipped', day(9), 80), bench('dipped', day(6), 82), bench('dipped', day(3), 78), bench('dipped', day(0, 2), 66),
      // sagging: 75, 75, 75 then 55: a warning
      bench('sagging', day(9), 75), bench('sagging', day(6), 75), bench('sagging', day(3), 75), bench('sagging', day(0, 2), 55),
      // better, and new (two earlier runs: no baseline yet), and a latest run without its overall score
      bench('better', day(9), 40), bench('better', day(6), 50), bench('better', day(3), 45), bench('better', day(0, 2), 95),
      bench('new', day(6), 70), bench('new', day(3), 72), bench('new', day(0, 2), 10),
      bench('dipped', day(0, 1), null),
    ]);
    const s = await openSession({ dataDir: dir, now: NOW });
    t.after(() => s.close());
    assert.deepEqual(await s.query(`SELECT hostname, latest_score, baseline_score, baseline_runs, drop_points, cpu_events_per_s, baseline_cpu_events_per_s
      FROM v1.bench_drift ORDER BY hostname`), [
      { hostname: 'better', latest_score: 95, baseline_score: 45, baseline_runs: 3, drop_points: -50, cpu_events_per_s: 4000, baseline_cpu_events_per_s: 4000 },
      { hostname: 'dipped', latest_score: 66, baseline_score: 80, baseline_runs: 3, drop_points: 14, cpu_events_per_s: 4000, baseline_cpu_events_per_s: 4000 },
      { hostname: 'dropped', latest_score: 50, baseline_score: 87, baseline_runs: 4, drop_points: 37, cpu_events_per_s: 2500, baseline_cpu_events_per_s: 4000 },
      { hostname: 'new', latest_score: 10, baseline_score: 71, baseline_runs: 2, drop_points: 61, cpu_events_per_s: 4000, baseline_cpu_events_per_s: 4000 },
      { hostname: 'sagging', latest_score: 55, baseline_score: 75, baseline_runs: 3, drop_points: 20, cpu_events_per_s: 4000, baseline_cpu_events_per_s: 4000 },
    ]);
    assert.deepEqual(await s.query(`SELECT machine_id, subject, value, severity FROM v1.health_factors WHERE factor_id = 'bench_drift' ORDER BY subject`), [
      { machine_id: 'ctl', subject: 'better', value: -50, severity: 'ok' },
      { machine_id: 'ctl', subject: 'dipped', value: 14, severity: 'ok' },
      { machine_id: 'ctl', subject: 'dropped', value: 37, severity: 'crit' },
      { machine_id: 'ctl', subject: 'sagging', value: 20, severity: 'warn' },
    ]);
    const [f] = await s.query(`SELECT summary, evidence FROM v1.health_factors WHERE factor_id = 'bench_drift' AND subject = 'dropped'`);
    assert.equal(f!.summary, `dropped scored 50.0 in its benchmark of ${day(0, 2).slice(0, 16).replace('T', ' ')} UTC, 37.0 points under the median 87.0 of its 4 earlier runs; cpu 2500.0 events/s (median 4000.0), memory 102400.0 MiB (median 102400.0), fileio 1800.0 reads/s (median 1800.0)`);
    assert.deepEqual((f!.evidence as { raw: Record<string, unknown> }).raw.cpu_events_per_s, [2500, 4000]);
    const items = await s.query(`SELECT severity, title, next FROM v1.triage_items WHERE factor_id = 'bench_drift' ORDER BY rank`);
    assert.deepEqual(items.map((i) => [i.severity, i.title]), [
      ['crit', 'ctl: benchmark score of dropped 37.0 points under its baseline'], ['warn', 'ctl: benchmark score of sagging 20.0 points under its baseline'],
    ]);
    const query = /^vc query "(.*)"$/.exec((items[0]!.next as string[])[0]!)![1]!;
    assert.ok((await s.query(query)).length >= 6, query);
    assert.deepEqual(await s.query(`SELECT worst_factor FROM v1.machine_health WHERE machine_id = 'ctl'`), [{ worst_factor: 'bench_drift' }]);
  });
});
