// Rollups of sys (lib/rollups.ts, lib/rollups-write.ts, views/v1/26_rollups.sql) and the
// hour-of-day baselines of the anomalies (views/v1/27_anomalies.sql): given rows -> expected rows,
// and the same answer whether or not a day was rolled up (against the same lines never compacted).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { openSession, type Row } from '../lib/duck.ts';
import { compactStore, type CompactResult } from '../lib/compact.ts';
import { storable, type Envelope } from '../lib/envelope.ts';
import { rawFile } from '../lib/paths.ts';
import { parquetDayDir, readManifest } from '../lib/compacted.ts';
import { rollupDayDir } from '../lib/rollups.ts';
import { sysSchema, type SysData } from '../lib/sources/sys.ts';
import { appendEnvelopes } from '../lib/store.ts';
import { applyRetention, setPolicy } from '../lib/retention.ts';
import { writeFleet } from '../fixtures/fleet.ts';
import { tmpDir, vc } from './helpers.ts';

const GiB = 1024 ** 3;
const MIN = 60_000;

/** A healthy sample of 4 cores; pass only what the case is about. */
function sample(over: Partial<SysData> = {}): SysData {
  return sysSchema.parse({
    load1: 0.5, load5: 0.5, load15: 0.5, cpu_count: 4, cpu_util: 0.1, uptime_s: 86_400, boot_time: '2026-02-01T00:00:00.000Z',
    mem_total_bytes: 16 * GiB, mem_available_bytes: 8 * GiB, swap_total_bytes: 4 * GiB, swap_free_bytes: 3 * GiB, oom_kills: 0,
    inotify_max_user_watches: 65_536, inotify_max_user_instances: 128, inotify_watches_used: 1000, inotify_instances_used: 10,
    process_count: 200, filesystems: [fsAt('/', 40)], top_cpu: [], top_mem: [], ...over,
  });
}

/** A filesystem `pct` % full as df counts it (used / (used + avail)). */
function fsAt(mount: string, pct: number): SysData['filesystems'][number] {
  const used = pct * 10 * GiB;
  const avail = (100 - pct) * 10 * GiB;
  return { mount, device: `/dev/${mount.length}`, fstype: 'ext4', size_bytes: used + avail, used_bytes: used, avail_bytes: avail, inodes: 1000, inodes_used: 10 };
}

let runs = 0;
function sysLine(machine: string, at: string, data: SysData): Envelope {
  return {
    v: 1, source: 'sys', machine_id: machine, collected_at: at, run_id: `run-${++runs}`, collector_version: '1.0.0', schema_version: 1,
    kind: 'snapshot', data: storable(data),
  };
}

async function compact(dataDir: string, now: Date): Promise<CompactResult> {
  const s = await openSession({ dataDir, recent: [] });
  try {
    return await compactStore(dataDir, s, { now, sources: ['sys'] });
  } finally {
    s.close();
  }
}

async function query(dataDir: string, at: Date, sql: string): Promise<Row[]> {
  const s = await openSession({ dataDir, now: at, recent: [] });
  try {
    return await s.query(sql);
  } finally {
    s.close();
  }
}

// ---------------------------------------------------------------------------------------------
// sys_hourly and sys_daily

/** Compaction and queries at noon of 03-05: 03-02 to 03-04 are closed, 03-05 is open. */
const NOW = new Date('2026-03-05T12:00:00Z');
const HOURLY = `SELECT machine_id, strftime(hour, '%m-%d %H') AS hour, samples, min, avg, max, p95 FROM sys_hourly WHERE metric = 'load5_per_core' ORDER BY ALL`;
const DAILY = `SELECT machine_id, strftime(day, '%m-%d') AS day, samples, min, avg, max, p95 FROM sys_daily WHERE metric = 'load5_per_core' ORDER BY ALL`;
/** Everything both views hold, to compare stores. */
const ALL_HOURLY = 'SELECT * FROM sys_hourly ORDER BY ALL';
const ALL_DAILY = 'SELECT * FROM sys_daily ORDER BY ALL';

const h = (machine_id: string, hour: string, samples: number, min: number, avg: number, max: number, p95: number) => ({ machine_id, hour, samples, min, avg, max, p95 });
const d = (machine_id: string, day: string, samples: number, min: number, avg: number, max: number, p95: number) => ({ machine_id, day, samples, min, avg, max, p95 });

/**
 * a (4 cores): three samples on 03-02, one on 03-04, one on the open day; on 03-03 only a
 * malformed line (a day compaction sees, with no rows). gap (2 cores, no swap, a /data 90% full):
 * 03-02 at 10:15 and 13:15 (hours 11 and 12 missing), nothing on 03-03, one sample on 03-04.
 */
async function rollupStores(): Promise<{ plain: string; comp: string }> {
  const plain = tmpDir('vc-rollups-plain-');
  await appendEnvelopes(plain, [
    sysLine('a', '2026-03-02T10:00:00.000Z', sample({ load5: 2 })),
    sysLine('a', '2026-03-02T10:30:00.000Z', sample({ load5: 4 })),
    sysLine('a', '2026-03-02T11:00:00.000Z', sample({ load5: 1 })),
    sysLine('a', '2026-03-04T09:00:00.000Z', sample({ load5: 8 })),
    sysLine('a', '2026-03-05T08:00:00.000Z', sample({ load5: 2 })),
    ...[['2026-03-02T10:15:00.000Z', 1], ['2026-03-02T13:15:00.000Z', 2], ['2026-03-04T09:10:00.000Z', 1]].map(([at, load5]) =>
      sysLine('gap', at as string, sample({ load5: load5 as number, cpu_count: 2, swap_total_bytes: 0, swap_free_bytes: 0, filesystems: [fsAt('/', 40), fsAt('/data', 90)] }))),
  ]);
  const malformed = rawFile(plain, 'sys', 'a', '2026-03-03');
  fs.writeFileSync(malformed, '{"v":1,"source":"sys","machine_id":"a","collected_at":\n');
  const comp = tmpDir('vc-rollups-');
  fs.cpSync(path.join(plain, 'raw'), path.join(comp, 'raw'), { recursive: true });
  return { plain, comp };
}

/** Both views over both stores: the compacted one must answer as the one never compacted. */
async function assertSameViews(plain: string, comp: string, what: string, at = NOW): Promise<void> {
  for (const sql of [ALL_HOURLY, ALL_DAILY]) {
    const [a, b] = [await query(plain, at, sql), await query(comp, at, sql)];
    assert.ok(a.length > 0);
    assert.deepEqual(b, a, `${what}: ${sql}`);
  }
}

const rolledDays = async (dataDir: string, at = NOW) =>
  ((await query(dataDir, at, `SELECT strftime(unnest(getvariable('vc_rollup_days_sys')), '%m-%d') AS day`)).map((r) => r.day));

const segmentOf = (dataDir: string, day: string) => readManifest(dataDir, 'sys', day)!.segments.map((s) => s.file);
const rollupFiles = (dataDir: string, day: string) => {
  const dir = rollupDayDir(dataDir, 'sys', day);
  return fs.existsSync(dir) ? fs.readdirSync(dir).sort() : [];
};

describe('rollups', () => {
  test('hourly and daily per machine and metric: the same rows before and after a day is rolled up, with a late line, an open day, an empty day and a gap', async () => {
    const { plain, comp } = await rollupStores();
    const before = [
      h('a', '03-02 10', 2, 0.5, 0.75, 1, 0.975), h('a', '03-02 11', 1, 0.25, 0.25, 0.25, 0.25),
      h('a', '03-04 09', 1, 2, 2, 2, 2), h('a', '03-05 08', 1, 0.5, 0.5, 0.5, 0.5),
      h('gap', '03-02 10', 1, 0.5, 0.5, 0.5, 0.5), h('gap', '03-02 13', 1, 1, 1, 1, 1), h('gap', '03-04 09', 1, 0.5, 0.5, 0.5, 0.5),
    ];
    const beforeDaily = [
      d('a', '03-02', 3, 0.25, 0.583333, 1, 0.95), d('a', '03-04', 1, 2, 2, 2, 2), d('a', '03-05', 1, 0.5, 0.5, 0.5, 0.5),
      d('gap', '03-02', 2, 0.5, 0.75, 1, 0.975), d('gap', '03-04', 1, 0.5, 0.5, 0.5, 0.5),
    ];
    assert.deepEqual(await query(plain, NOW, HOURLY), before);
    assert.deepEqual(await query(plain, NOW, DAILY), beforeDaily);
    // Every metric: gap has no swap (no swap_used_pct rows); its fullest filesystem is /data.
    assert.deepEqual(await query(plain, NOW, `SELECT machine_id, metric, min, max FROM sys_daily WHERE day = DATE '2026-03-02' ORDER BY ALL`), [
      { machine_id: 'a', metric: 'cpu_util', min: 0.1, max: 0.1 },
      { machine_id: 'a', metric: 'disk_used_pct', min: 40, max: 40 },
      { machine_id: 'a', metric: 'load1_per_core', min: 0.125, max: 0.125 },
      { machine_id: 'a', metric: 'load5_per_core', min: 0.25, max: 1 },
      { machine_id: 'a', metric: 'memory_used_pct', min: 50, max: 50 },
      { machine_id: 'a', metric: 'processes', min: 200, max: 200 },
      { machine_id: 'a', metric: 'swap_used_pct', min: 25, max: 25 },
      { machine_id: 'gap', metric: 'cpu_util', min: 0.1, max: 0.1 },
      { machine_id: 'gap', metric: 'disk_used_pct', min: 90, max: 90 },
      { machine_id: 'gap', metric: 'load1_per_core', min: 0.25, max: 0.25 },
      { machine_id: 'gap', metric: 'load5_per_core', min: 0.5, max: 1 },
      { machine_id: 'gap', metric: 'memory_used_pct', min: 50, max: 50 },
      { machine_id: 'gap', metric: 'processes', min: 200, max: 200 },
    ]);

    // The closed days are rolled up (03-03, whose only line is malformed, into files of no rows);
    // the open day is not. The views read the files for those days, and answer the same.
    const first = await compact(comp, NOW);
    assert.deepEqual(first.rollups?.problems, []);
    assert.deepEqual(first.rollups!.steps.map((s) => [s.day, s.segment, s.hourly_rows, s.daily_rows]), [
      ['2026-03-02', segmentOf(comp, '2026-03-02')[0], 7 * 2 + 6 * 2, 13],
      ['2026-03-03', segmentOf(comp, '2026-03-03')[0], 0, 0],
      ['2026-03-04', segmentOf(comp, '2026-03-04')[0], 7 + 6, 13],
    ]);
    assert.deepEqual(rollupFiles(comp, '2026-03-02'), [`daily.${segmentOf(comp, '2026-03-02')[0]}`, `hourly.${segmentOf(comp, '2026-03-02')[0]}`]);
    assert.deepEqual(await rolledDays(comp), ['03-02', '03-03', '03-04']);
    assert.deepEqual(await query(comp, NOW, HOURLY), before);
    assert.deepEqual(await query(comp, NOW, DAILY), beforeDaily);
    await assertSameViews(plain, comp, 'after the rollups');
    // As of a moment inside a rolled-up day, that day is computed from its samples up to then.
    await assertSameViews(plain, comp, 'as of 03-02 10:45', new Date('2026-03-02T10:45:00Z'));
    assert.deepEqual(await rolledDays(comp, new Date('2026-03-04T01:00:00Z')), ['03-02', '03-03']);
    // Nothing new: a pass writes nothing.
    assert.deepEqual((await compact(comp, NOW)).rollups!.steps, []);

    // A late line on a closed, rolled-up day: until a pass merges it, that day is computed from sys.
    const late = [sysLine('a', '2026-03-02T11:30:00.000Z', sample({ load5: 3 }))];
    await appendEnvelopes(plain, late);
    await appendEnvelopes(comp, late);
    const withLate = [
      d('a', '03-02', 4, 0.25, 0.625, 1, 0.9625), d('a', '03-04', 1, 2, 2, 2, 2), d('a', '03-05', 1, 0.5, 0.5, 0.5, 0.5),
      d('gap', '03-02', 2, 0.5, 0.75, 1, 0.975), d('gap', '03-04', 1, 0.5, 0.5, 0.5, 0.5),
    ];
    assert.deepEqual(await query(plain, NOW, DAILY), withLate);
    assert.deepEqual(await rolledDays(comp), ['03-03', '03-04']);
    assert.deepEqual(await query(comp, NOW, DAILY), withLate);
    await assertSameViews(plain, comp, 'with a late line');

    // The pass merges it into a new segment and rolls the day up again from that; the old rollups
    // stay while their segment does (a reader may have listed them), then go with it.
    const oldSegment = segmentOf(comp, '2026-03-02')[0]!;
    const second = await compact(comp, NOW);
    const newSegment = segmentOf(comp, '2026-03-02')[0]!;
    assert.notEqual(newSegment, oldSegment);
    assert.deepEqual(second.rollups!.steps.map((s) => [s.day, s.segment]), [['2026-03-02', newSegment]]);
    assert.equal(rollupFiles(comp, '2026-03-02').length, 4);
    assert.deepEqual(await rolledDays(comp), ['03-02', '03-03', '03-04']);
    assert.deepEqual(await query(comp, NOW, HOURLY), [
      h('a', '03-02 10', 2, 0.5, 0.75, 1, 0.975), h('a', '03-02 11', 2, 0.25, 0.5, 0.75, 0.725), ...before.slice(2),
    ]);
    await assertSameViews(plain, comp, 'after the late line was rolled up');
    const later = await compact(comp, new Date(NOW.getTime() + 20 * MIN));
    assert.deepEqual(later.rollups!.steps, []);
    assert.deepEqual(later.rollups!.removed.map((f) => path.basename(f)).sort(), [`daily.${oldSegment}`, `hourly.${oldSegment}`]);
    assert.deepEqual(rollupFiles(comp, '2026-03-02'), [`daily.${newSegment}`, `hourly.${newSegment}`]);
    await assertSameViews(plain, comp, 'after the old rollups went');

    // A pass killed between its two renames leaves one grain: the day is computed until the next pass.
    fs.rmSync(path.join(rollupDayDir(comp, 'sys', '2026-03-04'), `hourly.${segmentOf(comp, '2026-03-04')[0]}`));
    assert.deepEqual(await rolledDays(comp), ['03-02', '03-03']);
    await assertSameViews(plain, comp, 'with one grain of a day missing');
    assert.deepEqual((await compact(comp, NOW)).rollups!.steps.map((s) => s.day), ['2026-03-04']);
    assert.deepEqual(await rolledDays(comp), ['03-02', '03-03', '03-04']);

    // Rollups are kept forever: with the day's segments and raw files gone (retention), they answer.
    fs.rmSync(parquetDayDir(comp, 'sys', '2026-03-02'), { recursive: true });
    for (const m of ['a', 'gap']) fs.rmSync(rawFile(comp, 'sys', m, '2026-03-02'));
    assert.deepEqual(await query(comp, NOW, `SELECT count(*) AS n FROM sys WHERE day = DATE '2026-03-02'`), [{ n: 0 }]);
    assert.deepEqual(await query(comp, NOW, DAILY), withLate);
    const untouched = (await compact(comp, NOW)).rollups!;
    assert.deepEqual([untouched.steps, untouched.removed, untouched.problems], [[], [], []]);
    assert.equal(rollupFiles(comp, '2026-03-02').length, 2);
  });

  test('retention that deletes whole days leaves their rollups, which still answer', async () => {
    const dir = tmpDir('vc-rollups-retention-');
    writeFleet(dir, { machines: 2, days: 3, seed: 5, end: new Date('2026-03-10T12:00:00Z') });
    const at = new Date('2026-03-12T12:00:00Z');
    await compact(dir, at);
    const daily = await query(dir, at, ALL_DAILY);
    const rollups = fs.readdirSync(path.join(dir, 'parquet', 'rollups'), { recursive: true }).sort();
    assert.deepEqual(await rolledDays(dir, at), ['03-07', '03-08', '03-09', '03-10']);
    // sys keeps compacted days 2 days: 03-07 to 03-09 go whole (Parquet and NDJSON).
    await setPolicy(dir, 'sys', null, 2);
    const applied = await applyRetention(dir, at);
    assert.deepEqual([...new Set(applied.deletions.map((x) => x.day))].sort(), ['2026-03-07', '2026-03-08', '2026-03-09']);
    assert.deepEqual(await query(dir, at, `SELECT DISTINCT strftime(day, '%m-%d') AS day FROM sys ORDER BY day`), [{ day: '03-10' }]);
    assert.deepEqual(fs.readdirSync(path.join(dir, 'parquet', 'rollups'), { recursive: true }).sort(), rollups);
    assert.deepEqual(await query(dir, at, ALL_DAILY), daily);
    // A pass after it neither writes nor removes rollups of the days it no longer has.
    const r = (await compact(dir, at)).rollups!;
    assert.deepEqual([r.steps, r.removed, r.problems], [[], [], []]);
    assert.deepEqual(await query(dir, at, ALL_DAILY), daily);
  });

  test('vc query over sys_daily answers the same from the rollups as from the raw lines', async () => {
    const { plain, comp } = await rollupStores();
    await compact(comp, NOW);
    assert.deepEqual(await rolledDays(comp), ['03-02', '03-03', '03-04']);
    const sql = 'SELECT day, machine_id, metric, samples, min, avg, max, p95 FROM sys_daily ORDER BY ALL';
    const run = (dataDir: string) => {
      const config = path.join(dataDir, 'vc.toml');
      fs.writeFileSync(config, '');
      const r = vc(['query', sql, '--format', 'csv', '--as-of', NOW.toISOString()], { VC_DATA_DIR: dataDir, VC_CONFIG: config });
      assert.equal(r.code, 0, r.stderr);
      return r.stdout;
    };
    const fromRaw = run(plain);
    assert.equal(fromRaw.trim().split('\n').length, 1 + 7 + 6 + 7 + 6 + 7); // a header, then the metrics of a and gap on 03-02 and 03-04, and of a on 03-05
    assert.equal(run(comp), fromRaw);
  });
});

// ---------------------------------------------------------------------------------------------
// Hour-of-day baselines

/** 02:30 on 03-20: the 14 days before are 03-06 to 03-19, all closed and rolled up by a pass now. */
const BASE_NOW = new Date('2026-03-20T02:30:00Z');

/**
 * Every 5 minutes from `fromDay` to BASE_NOW: 4 cores at 0.2 per core, and 3 per core (cpu 0.75)
 * during the hour `busyHour` each day; today busy from 02:00, the last 30 minutes.
 */
function rhythm(machine: string, fromDay: string, busyHour: number): Envelope[] {
  const out: Envelope[] = [];
  for (let t = Date.parse(`${fromDay}T00:00:00Z`); t <= BASE_NOW.getTime(); t += 5 * MIN) {
    const at = new Date(t);
    const today = t >= Date.parse('2026-03-20T02:00:00Z');
    const busy = today || at.getUTCHours() === busyHour;
    out.push(sysLine(machine, at.toISOString(), sample({ load5: busy ? 12 : 0.8, load1: busy ? 12 : 0.8, cpu_util: busy ? 0.75 : 0.05 })));
  }
  return out;
}

describe('hour-of-day baselines', () => {
  test('a daily rhythm at its usual hour is not an anomaly; the same load at another hour is; with too few days the recent baseline stays', async () => {
    const dir = tmpDir('vc-baselines-');
    // nightly: busy 02:00-03:00 every day, two days more than the 14 the baseline reads.
    // odd: busy 14:00-15:00 every day, so 02:00 is unusual. young: nightly, but only 5 days of it.
    await appendEnvelopes(dir, [...rhythm('nightly', '2026-03-04', 2), ...rhythm('odd', '2026-03-04', 14), ...rhythm('young', '2026-03-15', 2)]);
    const ANOMALIES = `SELECT machine_id, metric, value, baseline, mad, z, baseline_kind, baseline_hour, baseline_days
      FROM anomalies WHERE metric IN ('load_per_core', 'cpu_util') ORDER BY machine_id, metric`;
    const anomalies = async () => {
      const s = await openSession({ dataDir: dir, now: BASE_NOW, recent: ['sys'] });
      try {
        return { rows: await s.query(ANOMALIES), factors: await s.query(`SELECT machine_id, subject, value, summary FROM anomaly_factors WHERE value >= 6 ORDER BY ALL`) };
      } finally {
        s.close();
      }
    };
    const recent = (machine_id: string, metric: string, value: number, baseline: number, z: number) =>
      ({ machine_id, metric, value, baseline, mad: 0, z, baseline_kind: 'recent', baseline_hour: null, baseline_days: null });

    // Never compacted: no rollups, so every machine is scored against its recent window, and the
    // nightly build looks like an anomaly.
    const everyRecent = [
      recent('nightly', 'cpu_util', 0.75, 0.05, 7), recent('nightly', 'load_per_core', 3, 0.2, 11.2),
      recent('odd', 'cpu_util', 0.75, 0.05, 7), recent('odd', 'load_per_core', 3, 0.2, 11.2),
      recent('young', 'cpu_util', 0.75, 0.05, 7), recent('young', 'load_per_core', 3, 0.2, 11.2),
    ];
    assert.deepEqual((await anomalies()).rows, everyRecent);

    const r = await compact(dir, BASE_NOW);
    assert.equal(r.rollups!.steps.length, 16); // 03-04 to 03-19
    assert.deepEqual(await query(dir, BASE_NOW, `SELECT machine_id, metric, hour_of_day, days, samples, baseline, mad FROM hourly_baselines
      WHERE metric = 'load5_per_core' AND hour_of_day IN (2, 14) ORDER BY ALL`), [
      { machine_id: 'nightly', metric: 'load5_per_core', hour_of_day: 2, days: 14, samples: 14 * 12, baseline: 3, mad: 0 },
      { machine_id: 'nightly', metric: 'load5_per_core', hour_of_day: 14, days: 14, samples: 14 * 12, baseline: 0.2, mad: 0 },
      { machine_id: 'odd', metric: 'load5_per_core', hour_of_day: 2, days: 14, samples: 14 * 12, baseline: 0.2, mad: 0 },
      { machine_id: 'odd', metric: 'load5_per_core', hour_of_day: 14, days: 14, samples: 14 * 12, baseline: 3, mad: 0 },
      { machine_id: 'young', metric: 'load5_per_core', hour_of_day: 2, days: 5, samples: 5 * 12, baseline: 3, mad: 0 },
      { machine_id: 'young', metric: 'load5_per_core', hour_of_day: 14, days: 5, samples: 5 * 12, baseline: 0.2, mad: 0 },
    ]);

    // nightly: its usual 02:00 level (hour 2); odd: all three hours around 02:00 are quiet, so
    // 3 per core is as unusual as before (the first of the equally usual hours is named);
    // young: 5 of 14 days is too few, the recent window stays its baseline.
    const hod = (machine_id: string, metric: string, value: number, baseline: number, z: number, hour: number) =>
      ({ machine_id, metric, value, baseline, mad: 0, z, baseline_kind: 'hour_of_day', baseline_hour: hour, baseline_days: 14 });
    const after = await anomalies();
    assert.deepEqual(after.rows, [
      hod('nightly', 'cpu_util', 0.75, 0.75, 0, 2), hod('nightly', 'load_per_core', 3, 3, 0, 2),
      hod('odd', 'cpu_util', 0.75, 0.05, 7, 1), hod('odd', 'load_per_core', 3, 0.2, 11.2, 1),
      recent('young', 'cpu_util', 0.75, 0.05, 7), recent('young', 'load_per_core', 3, 0.2, 11.2),
    ]);
    assert.deepEqual(after.factors, [
      { machine_id: 'odd', subject: 'cpu_util', value: 7, summary: 'cpu_util is 0.75 against its usual 0.05 at 01:00 UTC (robust z 7.0, over 14 days)' },
      { machine_id: 'odd', subject: 'load_per_core', value: 11.2, summary: 'load_per_core is 3.0 against its usual 0.2 at 01:00 UTC (robust z 11.2, over 14 days)' },
      { machine_id: 'young', subject: 'cpu_util', value: 7, summary: 'cpu_util is 0.75 against its usual 0.05 (robust z 7.0, over 71 samples)' },
      { machine_id: 'young', subject: 'load_per_core', value: 11.2, summary: 'load_per_core is 3.0 against its usual 0.2 (robust z 11.2, over 71 samples)' },
    ]);
  });
});
