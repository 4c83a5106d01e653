// Snapshots and diff: given stored snapshot lines, the expected differences (SQL), and end to end:
// vc snapshot twice with the fleet changing in between, then vc diff.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { openSession } from '../lib/duck.ts';
import { alertsFile, snapshotsFile } from '../lib/paths.ts';
import { tmpDir, vc } from './helpers.ts';

const NOW = new Date('2026-11-24T12:00:00Z');
const f = (factor_id: string, severity: string, value: number, subject: string | null = null) => ({ factor_id, subject, severity, value, summary: `${factor_id} ${value}` });
const snap = (ts: string, machine_id: string, severity: string, factors: object[]) => ({ ts, machine_id, severity, score: 0.5, worst_factor: null, factors, alerts: [] });

describe('diff in SQL: given snapshots, expected changes', () => {
  test('machines that changed, appeared or left; factors that appeared, cleared or changed; the nearest snapshot before each time', async (t) => {
    const dir = tmpDir('vc-diff-sql-');
    fs.mkdirSync(path.join(dir, 'state'));
    const lines = [
      snap('2026-11-23T10:00:00Z', 'a', 'ok', []),
      snap('2026-11-23T11:00:00Z', 'a', 'warn', [f('disk_used', 'warn', 85, '/')]),
      snap('2026-11-23T11:00:00Z', 'b', 'crit', [f('memory', 'crit', 3), f('load', 'warn', 1.7)]),
      snap('2026-11-23T11:00:00Z', 'gone', 'ok', []),
      snap('2026-11-24T11:00:00Z', 'a', 'crit', [f('disk_used', 'crit', 95, '/')]),
      snap('2026-11-24T11:00:00Z', 'b', 'warn', [f('load', 'warn', 1.9), f('swap', 'warn', 40)]),
      snap('2026-11-24T11:00:00Z', 'new', 'ok', []),
      // After NOW: not yet.
      snap('2026-11-24T13:00:00Z', 'a', 'ok', []),
    ];
    fs.writeFileSync(snapshotsFile(dir), `${lines.map((l) => JSON.stringify(l)).join('\n')}\n{"ts":"2026-11-24T11:30:00Z","machine_id":"a","facto`);
    fs.writeFileSync(alertsFile(dir), `${JSON.stringify({ ts: '2026-11-23T12:00:00Z', alert_id: 'a0123456789', transition: 'open', rule_id: 'disk_full', machine_id: 'a', subject: '/' })}\n`);
    const s = await openSession({ dataDir: dir, now: NOW, recent: [] });
    t.after(() => s.close());
    const t1 = "TIMESTAMP '2026-11-23 11:30:00'";
    const t2 = "TIMESTAMP '2026-11-24 12:00:00'";
    assert.deepEqual(await s.query(`SELECT machine_id, change, severity_before, severity_after FROM vc_diff_machines(${t1}, ${t2}) ORDER BY machine_id`), [
      { machine_id: 'a', change: 'changed', severity_before: 'warn', severity_after: 'crit' },
      { machine_id: 'b', change: 'changed', severity_before: 'crit', severity_after: 'warn' },
      { machine_id: 'gone', change: 'gone', severity_before: 'ok', severity_after: null },
      { machine_id: 'new', change: 'appeared', severity_before: null, severity_after: 'ok' },
    ]);
    assert.deepEqual(await s.query(`SELECT machine_id, factor_id, subject, change, severity_before, severity_after, value_after
      FROM vc_diff_factors(${t1}, ${t2}) ORDER BY machine_id, factor_id`), [
      { machine_id: 'a', factor_id: 'disk_used', subject: '/', change: 'changed', severity_before: 'warn', severity_after: 'crit', value_after: 95 },
      { machine_id: 'b', factor_id: 'memory', subject: null, change: 'cleared', severity_before: 'crit', severity_after: null, value_after: null },
      { machine_id: 'b', factor_id: 'swap', subject: null, change: 'appeared', severity_before: null, severity_after: 'warn', value_after: 40 },
    ]);
    assert.deepEqual(await s.query(`SELECT alert_id, "transition" FROM vc_diff_alerts(${t1}, ${t2})`), [{ alert_id: 'a0123456789', transition: 'open' }]);
    // Before the first snapshot there is nothing to compare.
    assert.deepEqual(await s.query(`SELECT * FROM vc_diff_machines(TIMESTAMP '2026-11-01', ${t2})`), []);
  });
});

describe('vc snapshot and vc diff', () => {
  test('two snapshots around a change; the diff names it; --due waits for the interval', () => {
    const dir = tmpDir('vc-diff-');
    const env = { VC_DATA_DIR: dir, VC_CONFIG: path.join(dir, 'vc.toml') };
    fs.writeFileSync(env.VC_CONFIG, '');
    assert.equal(vc(['demo', '--machines', '4', '--days', '1'], env).code, 0);
    const first = vc(['snapshot', '--json'], env);
    assert.equal(first.code, 0, first.stderr);
    const lines = JSON.parse(first.stdout);
    assert.deepEqual(lines.map((l: any) => l.machine_id), ['demo-01', 'demo-02', 'demo-03', 'demo-04']);
    const disk = lines.find((l: any) => l.machine_id === 'demo-03').factors.find((x: any) => x.factor_id === 'disk_used');
    assert.equal(disk.severity, 'crit');
    assert.equal(vc(['snapshot', '--due'], env).stdout, '', 'not due again within the hour');

    // A later picture in which demo-03's disk was cleaned up, as a later vc snapshot would write it
    // (now: seconds after the first; a time ahead of now would be unseen by a vc diff that starts fast).
    const later = lines.map((l: any) => ({ ...l, ts: new Date().toISOString(),
      factors: l.machine_id === 'demo-03' ? l.factors.filter((x: any) => x.factor_id !== 'disk_used') : l.factors }));
    fs.appendFileSync(snapshotsFile(dir), later.map((l: any) => `${JSON.stringify(l)}\n`).join(''));
    const diff = vc(['diff', '--from', lines[0].ts, '--to', new Date(Date.now() + 60_000).toISOString(), '--json'], env);
    assert.equal(diff.code, 0, diff.stderr);
    const data = JSON.parse(diff.stdout).data;
    assert.deepEqual(data.factors.map((x: any) => [x.machine_id, x.factor_id, x.change]), [['demo-03', 'disk_used', 'cleared']]);
    const md = vc(['diff', '--from', lines[0].ts, '--machine', 'demo-03'], env);
    assert.match(md.stdout, /\| demo-03 \| disk_used \| \/data \| cleared \| crit \(/);
    assert.equal(vc(['diff', '--from', 'yesterday'], env).code, 2);
  });
});
