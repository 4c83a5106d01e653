// vc watch: what changed between two reads (given items -> expected events), and end to end: a
// condition that appears in the data shows up in the stream within one interval.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { appendEnvelopes } from '../lib/store.ts';
import { runEnvelope } from '../lib/collector.ts';
import { storable } from '../lib/envelope.ts';
import { sysSchema } from '../lib/sources/sys.ts';
import { watchEvents, type WatchItem } from '../lib/watch.ts';
import { startScript, tmpDir } from './helpers.ts';

const item = (type: WatchItem['type'], key: string, over: Partial<WatchItem> = {}): WatchItem => ({
  type, key, machine_id: 'm1', severity: 'warn', title: `${type} ${key}`, summary: null, evidence: null, next: null, detail: {}, ...over,
});

describe('watch events: given two reads, expected events', () => {
  test('first read with --changes-only: everything is new; then opens, updates, resolves and health changes', () => {
    const first = watchEvents(null, [item('alert', 'a1'), item('health', 'm1', { severity: 'ok' }), item('prediction', 'p1', { detail: { hours_left: 20 } })], 'T1', true);
    assert.deepEqual(first.events.map((e) => [e.type, e.event, e.key, 'from' in e ? e.from : undefined]), [
      ['alert', 'open', 'a1', undefined], ['health_change', 'change', 'm1', null], ['prediction', 'new', 'p1', undefined],
    ]);
    const second = watchEvents(first.state, [
      item('alert', 'a1', { severity: 'crit' }), item('alert', 'a2'), item('health', 'm1', { severity: 'crit' }),
      // 20 h -> 12 h left: the same power of two (16-32 vs 8-16)? No: a change. 20 -> 17 would not be.
      item('prediction', 'p1', { detail: { hours_left: 12 } }), item('opportunity', 'o1'),
    ], 'T2', true);
    assert.deepEqual(second.events.map((e) => [e.type, e.event, e.key, 'from' in e ? e.from : undefined]), [
      ['alert', 'update', 'a1', undefined], ['alert', 'open', 'a2', undefined], ['health_change', 'change', 'm1', 'ok'],
      ['prediction', 'update', 'p1', undefined], ['opportunity', 'new', 'o1', undefined],
    ]);
    const third = watchEvents(second.state, [item('health', 'm1', { severity: 'crit' }), item('prediction', 'p1', { detail: { hours_left: 9 } })], 'T3', true);
    assert.deepEqual(third.events.map((e) => [e.type, e.event, e.key]), [
      ['alert', 'resolve', 'a1'], ['alert', 'resolve', 'a2'], ['opportunity', 'gone', 'o1'],
    ]);
    assert.ok(third.events.every((e) => e.ts === 'T3'));
  });

  test('without --changes-only every read is a full picture: unchanged items come as current', () => {
    const first = watchEvents(null, [item('alert', 'a1')], 'T1', false);
    const again = watchEvents(first.state, [item('alert', 'a1'), item('health', 'm1')], 'T2', false);
    assert.deepEqual(again.events.map((e) => [e.type, e.event]), [['alert', 'current'], ['health_change', 'change']]);
  });
});

describe('vc watch', () => {
  const GiB = 1024 ** 3;
  const sample = (availPct: number) => sysSchema.parse({
    load1: 0.5, load5: 0.5, load15: 0.5, cpu_count: 4, cpu_util: 0.1, uptime_s: 86_400, boot_time: '2026-01-01T00:00:00.000Z',
    mem_total_bytes: 16 * GiB, mem_available_bytes: 8 * GiB, swap_total_bytes: 0, swap_free_bytes: 0, oom_kills: 0,
    inotify_max_user_watches: 65536, inotify_max_user_instances: 128, inotify_watches_used: 10, inotify_instances_used: 1, process_count: 100,
    filesystems: [{ mount: '/srv', device: '/dev/sdb1', fstype: 'ext4', size_bytes: 100 * GiB, used_bytes: (100 - availPct) * GiB, avail_bytes: availPct * GiB, inodes: 1000, inodes_used: 10 }],
    top_cpu: [], top_mem: [],
  });
  let seq = 0;
  const store = async (dir: string, availPct: number) => {
    const at = new Date().toISOString();
    const run = `w-${++seq}`;
    await appendEnvelopes(dir, [
      { v: 1, source: 'sys', machine_id: 'box', collected_at: at, run_id: run, collector_version: '1.0.0', schema_version: 1, kind: 'snapshot', data: storable(sample(availPct)) as Record<string, unknown> },
      runEnvelope('box', run, { source: 'sys', started_at: at, ended_at: at, duration_ms: 1, bytes: 1, rows: 1, status: 'ok', error: null, warnings: [], cursor: null }),
    ]);
  };

  test('a disk filling up in the data shows up as an alert within one interval; bad options are refused', async (t) => {
    const dir = tmpDir('vc-watch-');
    const env = { VC_DATA_DIR: dir, VC_CONFIG: path.join(dir, 'vc.toml') };
    fs.writeFileSync(env.VC_CONFIG, '[[machines]]\nid = "box"\nssh = "local"\ncollectors = { include = ["sys"] }\n[collectors.sys]\ninterval_seconds = 3600\n');
    await store(dir, 60);
    const w = startScript(path.join('lib', 'cli', 'main.ts'), ['watch', '--format', 'jsonl', '--interval', '2', '--changes-only'], env);
    t.after(() => w.child.kill('SIGKILL'));
    const lines: Array<Record<string, any>> = [];
    let buf = '';
    w.child.stdout!.on('data', (d: Buffer) => {
      buf += d.toString();
      const cut = buf.lastIndexOf('\n');
      if (cut < 0) return;
      for (const l of buf.slice(0, cut).split('\n')) lines.push(JSON.parse(l));
      buf = buf.slice(cut + 1);
    });
    const waitFor = async (what: string, pred: (l: Record<string, any>) => boolean, ms: number) => {
      const deadline = Date.now() + ms;
      while (Date.now() < deadline) {
        const hit = lines.find(pred);
        if (hit) return hit;
        await new Promise((r) => setTimeout(r, 100));
      }
      assert.fail(`no ${what} within ${ms} ms; saw ${JSON.stringify(lines.map((l) => [l.type, l.event, l.key]))}`);
    };
    const baseline = await waitFor('first read', (l) => l.type === 'health_change', 30_000);
    assert.equal(baseline.severity, 'ok');
    assert.ok(!lines.some((l) => l.type === 'alert'), 'nothing to alert on at first');
    await store(dir, 2); // 98 % full
    const t0 = Date.now();
    const alert = await waitFor('disk alert', (l) => l.type === 'alert' && l.event === 'open', 30_000);
    assert.match(alert.title, /box: \/srv is 98\.0% full/);
    assert.equal(alert.detail.rule_id, 'disk_full');
    const change = await waitFor('health change', (l) => l.type === 'health_change' && l.severity === 'crit', 5_000);
    assert.equal(change.from, 'ok');
    // One interval (2 s) plus one read's time at most; generous for a loaded machine.
    assert.ok(Date.now() - t0 < 25_000);
    w.child.kill('SIGTERM');
    const done = await w.done;
    assert.equal(done.signal ?? done.code, 0, done.stderr);

    const bad = await startScript(path.join('lib', 'cli', 'main.ts'), ['watch', '--interval', '0'], env).done;
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--interval must be a whole number from 1/);
  });
});
