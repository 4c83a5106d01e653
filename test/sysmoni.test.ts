// sysmoni: its recorded stream output (fixtures/sysmoni, after ../shared/upstream/sysmoni.md)
// parsed into items, collected end to end through a fake sysmoni on PATH (locally and on a real
// sshd), and the views over what was stored: sysmoni's samples, and the machine picture that
// prefers them over sys's where sysmoni ran recently.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { redactCommand, sysmoniItems, sysmoniSchema, sysmoniStep } from '../lib/sources/sysmoni.ts';
import { sysSchema, type SysData } from '../lib/sources/sys.ts';
import { openSession } from '../lib/duck.ts';
import { appendEnvelopes } from '../lib/store.ts';
import { storable, type Envelope } from '../lib/envelope.ts';
import { collectEnv, fakeTool } from './fakes.ts';
import { readRaw, tmpDir, vc, withNulls } from './helpers.ts';
import { sshdAvailable, farMachineToml, startSshdWithPath, type Sshd } from './sshd.ts';

const fixture = (name: string) => {
  const f = (ext: string) => path.join(import.meta.dirname, '..', 'fixtures', 'sysmoni', `${name}.${ext}`);
  const read = (ext: string) => (fs.existsSync(f(ext)) ? fs.readFileSync(f(ext), 'utf8') : '');
  return { stdout: read('out'), stderr: read('err'), rc: Number(read('rc').trim() || 0) };
};
const parse = (name: string) => {
  const r = sysmoniItems(fixture(name));
  for (const i of r.items) sysmoniSchema.parse(i.data);
  return { ...r, data: r.items.map((i) => withNulls(sysmoniSchema, i.data as Record<string, unknown>)) };
};

describe('sysmoni --json-stream, parsed', () => {
  test('the second line is stored, in UTC, with its rates, GPU, battery and temperatures; the first is dropped', () => {
    const { data, warnings } = parse('default');
    assert.deepEqual(warnings, []);
    assert.equal(data.length, 1);
    const d = data[0]!;
    assert.equal(d.impl, 'go');
    assert.equal(d.sampled_at, '2026-05-01T14:15:03.000Z', 'the -04:00 offset applied, nanoseconds cut');
    assert.equal(d.interval_ms, 2000);
    assert.equal(d.first_sample, false);
    assert.equal(d.cpu_pct, 63.18);
    assert.deepEqual(d.per_core_pct, [71.2, 58.9, 66, 57.1]);
    assert.equal(d.cpu_count, 4);
    assert.deepEqual([d.load1, d.load5, d.load15], [5.02, 4.11, 3.37]);
    assert.deepEqual([d.mem_used_bytes, d.mem_total_bytes, d.swap_used_bytes, d.swap_total_bytes], [28931465216, 67271356416, 1048576, 8589930496]);
    assert.deepEqual([d.disk_read_mibs, d.disk_write_mibs, d.net_rx_mbps, d.net_tx_mbps], [12.5, 88.25, 41.3, 3.9]);
    assert.deepEqual(d.devices, [{ name: 'nvme0n1p2', read_mibs: 6.25, write_mibs: 44.125 }, { name: 'nvme0n1', read_mibs: 6.25, write_mibs: 44.125 }]);
    assert.deepEqual(d.gpus, [{ name: 'NVIDIA GeForce RTX 4090', util_pct: 97, mem_used_mib: 21384, mem_total_mib: 24564, temp_c: 71 }]);
    assert.deepEqual([d.battery_percent, d.battery_state], [83, 'Discharging']);
    assert.deepEqual(d.temps, [{ zone: 'thermal_zone0', temp_c: 64 }, { zone: 'thermal_zone1', temp_c: 48.5 }]);
    assert.deepEqual(d.top, [{ pid: 9120, nice: 0, cpu_pct: 305.2, mem_pct: 12.48, command: 'python train.py --epochs 40', fd_count: 211, read_kibs: 2048.5, write_kibs: 0, fd_diff: 0 }]);
    assert.equal(d.throttled_count, 0, 'Throttled null: no niced process');
    assert.deepEqual(d.cgroups, [{ name: 'user@1000.service', cpu_pct: 312.7 }]);
    assert.deepEqual([d.inotify_max_user_watches, d.inotify_max_user_instances, d.inotify_watches], [65536, 128, null], 'NrWatches 0: the kernel has no such file');
  });

  test('a VM: no battery, GPU or zones are NULL; Top cut to 10 by CPU plus the largest by memory; a key in a URL redacted', () => {
    const d = parse('vm').data[0]!;
    assert.equal(d.cpu_pct, 42.5);
    assert.deepEqual([d.battery_percent, d.battery_state, d.gpus, d.temps], [null, null, null, null]);
    const top = d.top as Array<Record<string, unknown>>;
    assert.deepEqual(top.map((p) => p.pid), [48211, 3301, 5000, 5001, 5002, 5003, 5004, 5005, 5006, 5007, 777, 5019, 5018, 5017, 5016]);
    assert.deepEqual(top[10], { pid: 777, nice: 0, cpu_pct: 0.2, mem_pct: 22.75, command: 'postgres: checkpointer', fd_count: 40, read_kibs: 0, write_kibs: 4, fd_diff: 0 });
    assert.equal(top[1]!.command, 'curl -H x https://api.example.com/v1?api_key=<redacted>');
    assert.equal(d.throttled_count, 1);
  });

  test('only the first sample came: stored with its rates unknown (NULL), never its placeholder zeros', () => {
    const { data, warnings } = parse('oneline');
    const d = data[0]!;
    assert.equal(d.first_sample, true);
    assert.deepEqual([d.cpu_pct, d.per_core_pct, d.disk_read_mibs, d.net_rx_mbps, d.devices], [null, null, null, null, null]);
    assert.equal(d.cpu_count, 4);
    assert.deepEqual([d.load1, d.mem_total_bytes], [3.41, 16765243392], 'levels are real in a first sample');
    const claude = (d.top as Array<Record<string, unknown>>)[0]!;
    assert.deepEqual([claude.read_kibs, claude.write_kibs, claude.fd_diff, claude.fd_count], [null, null, null, 63]);
    assert.match(warnings[0]!, /only its first sample: CPU %, disk and network rates are unknown/);
  });

  test('a container: every nil slice is NULL, no battery', () => {
    const d = parse('empty').data[0]!;
    assert.deepEqual([d.top, d.cgroups, d.gpus, d.temps, d.devices, d.battery_percent], [null, null, null, null, null, null]);
    assert.equal(d.throttled_count, 0);
    assert.equal(d.cpu_pct, 1.5);
    assert.equal(d.sampled_at, '2026-05-01T14:30:02.500Z');
  });

  test('the legacy bash sysmoni: its lower-case shape mapped, per-core by core number, payload kept as raw', () => {
    const r = parse('legacy');
    const d = r.data[0]!;
    assert.equal(d.impl, 'legacy');
    assert.equal(d.sampled_at, '2026-05-01T14:22:09.000Z');
    assert.deepEqual([d.cpu_pct, d.per_core_pct, d.cpu_count, d.mem_used_pct, d.load1, d.mem_total_bytes], [44, [48, 40], 2, 62, null, null]);
    assert.deepEqual([d.disk_write_mibs, d.net_rx_mbps, d.devices], [2.5, 0.4, []]);
    assert.deepEqual(d.gpus, [{ name: 'AMD-0', util_pct: 12, mem_used_mib: null, mem_total_mib: null, temp_c: 55 }]);
    assert.deepEqual([d.battery_percent, d.battery_state], [76, 'Charging']);
    assert.deepEqual(d.top, [{ pid: 48211, nice: 0, cpu_pct: 87.5, mem_pct: 6.9, command: 'node', fd_count: null, read_kibs: null, write_kibs: null, fd_diff: null }]);
    assert.deepEqual(d.cgroups, [{ name: 'session-4.scope', cpu_pct: 88 }]);
    assert.deepEqual((r.items[0]!.raw as any).historical[0].cpu_integral, 12.3, 'the legacy payload is kept');
  });

  test('a legacy line broken by a control character is skipped with a warning; the first sample stands in', () => {
    const { data, warnings } = parse('legacybroken');
    assert.equal(data[0]!.first_sample, true);
    assert.equal(data[0]!.cpu_pct, null);
    assert.match(warnings.join('\n'), /line 2 is not JSON and was skipped/);
  });

  test('a panic, garbage, a wrong shape or nothing is a clear error naming the command', () => {
    assert.throws(() => sysmoniItems(fixture('panic')), /sysmoni --json-stream panicked: "panic: non-positive interval for NewTicker"/);
    assert.throws(() => sysmoniItems(fixture('garbage')), /sysmoni --json-stream did not print JSON: ".*SRPS sysmoni/);
    assert.throws(() => sysmoniItems(fixture('wrongshape')), /printed JSON of an unexpected shape: CPU\.Total/);
    assert.throws(() => sysmoniItems({ stdout: '', stderr: 'sh: 1: sysmoni: Permission denied\n', rc: 126 }), /printed nothing \(exit 126\); stderr: "sh: 1: sysmoni: Permission denied"/);
    assert.throws(() => sysmoniItems({ stdout: '{"a":1}\n{"b":2}\n', stderr: '', rc: 0 }), /neither sysmoni's sample/);
    assert.throws(() => sysmoniItems({ stdout: '', stderr: '', rc: 124 }), /did not answer in time/);
  });

  test('secret-looking arguments are redacted; the rest of a command is kept', () => {
    assert.equal(redactCommand('deploy --api-key=abc123 --token xyz --name web'), 'deploy --api-key=<redacted> --token <redacted> --name web');
    assert.equal(redactCommand('GITHUB_TOKEN=ghp_x git push https://me:hunter2@example.com/r.git'), 'GITHUB_TOKEN=<redacted> git push https://me:<redacted>@example.com/r.git');
    assert.equal(redactCommand('python train.py --epochs 40'), 'python train.py --epochs 40');
  });

  test('the stream is bounded: two lines, its interval, no env override; the legacy script is streamed through its env', () => {
    const step = sysmoniStep(2);
    assert.match(step, /--json-stream --interval=2s; fi \| head -n 2$/);
    assert.match(step, /unset SRPS_SYSMONI_INTERVAL/);
    assert.match(step, /SRPS_SYSMONI_JSON_STREAM=1 "\$VC_TOOL"/);
  });
});

/** A temp setup for vc collect --source sysmoni with a fake sysmoni first on PATH. */
function setup(toml = '') {
  const s = collectEnv('sysmoni', toml);
  return { ...s, tool: fakeTool(s.bin, 'sysmoni') };
}

describe('vc collect --source sysmoni', () => {
  test('streams with the configured interval and stores the second sample; a legacy script is streamed through its env', () => {
    const s = setup('[collectors.sysmoni]\nsample_seconds = 2\n');
    const r = s.collect();
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(s.tool.calls(), [['--json-stream', '--interval=2s']]);
    assert.equal(s.lastRun().status, 'ok');
    assert.deepEqual(s.rows().map((l) => [l.kind, l.data.impl, l.data.cpu_pct, l.data.sampled_at]), [['snapshot', 'go', 63.18, '2026-05-01T14:15:03.000Z']]);
    // The installer's bash fallback: a script whose text names its stream variable.
    fs.appendFileSync(s.tool.path, '# legacy sysmoni: SRPS_SYSMONI_JSON_STREAM\n');
    s.tool.use('legacy');
    assert.equal(s.collect().code, 0);
    assert.deepEqual(s.tool.calls().at(-1), [], 'no --json-stream: the legacy script would start its TUI');
    assert.deepEqual([s.rows().at(-1)!.data.impl, s.rows().at(-1)!.data.cpu_pct], ['legacy', 44]);
  });

  test('sysmoni not installed: the run is absent, nothing stored, exit 0', () => {
    const s = setup();
    fs.rmSync(s.tool.path);
    const r = s.collect();
    assert.equal(r.code, 0, r.stderr);
    assert.equal(s.lastRun().status, 'absent');
    assert.match(s.lastRun().warnings[0], /^sysmoni is not installed here/);
    assert.deepEqual(s.rows(), []);
  });

  test('a panic is a recorded error; a sysmoni that hangs is stopped at the step timeout; nothing stored', () => {
    const s = setup('[collectors.sysmoni]\nstep_timeout_seconds = 1\n');
    s.tool.use('panic');
    assert.equal(s.collect().code, 1);
    assert.equal(s.lastRun().status, 'error');
    assert.match(s.lastRun().error, /sysmoni --json-stream panicked/);
    s.tool.use('hang');
    const t0 = Date.now();
    assert.equal(s.collect().code, 1);
    assert.ok(Date.now() - t0 < 20_000, `took ${Date.now() - t0} ms`);
    assert.equal(s.lastRun().status, 'error');
    assert.match(s.lastRun().error, /did not answer in time/);
    assert.deepEqual(s.rows(), []);
  });
});

describe('sysmoni over ssh', { skip: sshdAvailable() ? false : 'needs root and /usr/sbin/sshd' }, () => {
  let sshd: Sshd;
  const s = setup();
  before(async () => {
    fs.chmodSync(s.dir, 0o755);
    fs.chmodSync(s.bin, 0o755);
    sshd = await startSshdWithPath(s.bin);
    fs.writeFileSync(s.env.VC_CONFIG, farMachineToml(sshd));
  });
  after(() => sshd?.stop());

  test('the same sample as locally, from the remote machine', () => {
    s.tool.use('vm');
    const r = vc(['collect', '--source', 'sysmoni', '--json'], { ...s.env, XDG_RUNTIME_DIR: s.dir });
    assert.equal(r.code, 0, r.stderr + r.stdout);
    const rows = readRaw(s.env.VC_DATA_DIR, 'sysmoni', 'far');
    assert.deepEqual(rows.map((l) => [l.data.impl, l.data.cpu_pct, l.data.top.length]), [['go', 42.5, 15]]);
  });
});

describe('sysmoni views: given rows, expected rows', () => {
  const NOW = new Date('2026-11-24T12:00:00Z');
  const GiB = 1024 ** 3;
  const ago = (min: number) => new Date(NOW.getTime() - min * 60_000).toISOString();
  let seq = 0;

  const sysSample = (over: Partial<SysData> = {}): SysData => sysSchema.parse({
    load1: 0.5, load5: 0.5, load15: 0.5, cpu_count: 8, cpu_util: 0.1, uptime_s: 86_400, boot_time: '2026-11-23T12:00:00.000Z',
    mem_total_bytes: 32 * GiB, mem_available_bytes: 20 * GiB, swap_total_bytes: 4 * GiB, swap_free_bytes: 4 * GiB, oom_kills: 0,
    inotify_max_user_watches: 65_536, inotify_max_user_instances: 128, inotify_watches_used: 1000, inotify_instances_used: 10,
    process_count: 300, filesystems: [], top_cpu: [], top_mem: [], ...over,
  });
  const moniSample = (over: Record<string, unknown> = {}) => sysmoniSchema.parse(withNulls(sysmoniSchema, {
    impl: 'go', sampled_at: null, interval_ms: 1000, first_sample: false, cpu_pct: 50, per_core_pct: [60, 40], cpu_count: 2,
    load1: 3, load5: 3, load15: 3, mem_used_bytes: 6 * GiB, mem_total_bytes: 8 * GiB, swap_used_bytes: GiB, swap_total_bytes: 2 * GiB,
    cached_bytes: GiB, buffers_bytes: 0, disk_read_mibs: 30, disk_write_mibs: 60, net_rx_mbps: 10, net_tx_mbps: 2,
    devices: [{ name: 'sda', read_mibs: 10, write_mibs: 20 }, { name: 'sda1', read_mibs: 10, write_mibs: 20 }, { name: 'dm-0', read_mibs: 10, write_mibs: 20 }],
    gpus: [{ name: 'a', util_pct: 40, mem_used_mib: 1, mem_total_mib: 2, temp_c: 60 }, { name: 'b', util_pct: 90, mem_used_mib: 1, mem_total_mib: 2, temp_c: 55 }],
    temps: [{ zone: 'thermal_zone0', temp_c: 70 }], battery_percent: null, battery_state: null, throttled_count: 0,
    inotify_max_user_watches: 524_288, inotify_max_user_instances: 1024, ...over,
  }));
  const store = async (dir: string, source: 'sys' | 'sysmoni', machine: string, at: string, data: unknown) => {
    const run = `r-${++seq}`;
    await appendEnvelopes(dir, [
      { v: 1, source, machine_id: machine, collected_at: at, run_id: run, collector_version: '1.0.0', schema_version: 1, kind: 'snapshot', data: storable(data) },
      { v: 1, source: 'collector_runs', machine_id: machine, collected_at: at, run_id: run, collector_version: '1.0.0', schema_version: 1, kind: 'event', key: run,
        data: { source, started_at: at, ended_at: at, duration_ms: 1, bytes: 1, rows: 1, status: 'ok', error: null, warnings: [] } },
    ] satisfies Envelope[]);
  };
  const open = async (dir: string, t: { after(fn: () => void): void }) => {
    const s = await openSession({ dataDir: dir, now: NOW, intervals: { sys: 120, sysmoni: 120 } });
    t.after(() => s.close());
    return s;
  };

  test('sysmoni_samples: whole disks only (no partition, no dm device), hottest GPU and sensor, available memory estimate', async (t) => {
    const dir = tmpDir('vc-sysmoni-views-');
    await store(dir, 'sysmoni', 'm1', ago(3), moniSample({ cpu_pct: 20 }));
    await store(dir, 'sysmoni', 'm1', ago(1), moniSample());
    await store(dir, 'sysmoni', 'm2', ago(1), moniSample({ first_sample: true, cpu_pct: null, devices: null, disk_read_mibs: null, disk_write_mibs: null, gpus: null, temps: null }));
    const s = await open(dir, t);
    assert.deepEqual(await s.query(`SELECT machine_id, collected_at, cpu_pct, disk_read_mibs, disk_write_mibs, gpu_count, gpu_util_max_pct, gpu_temp_max_c, temp_max_c,
      mem_available_estimate_bytes FROM v1.sysmoni_samples ORDER BY machine_id, collected_at`), [
      { machine_id: 'm1', collected_at: ago(3), cpu_pct: 20, disk_read_mibs: 10, disk_write_mibs: 20, gpu_count: 2, gpu_util_max_pct: 90, gpu_temp_max_c: 60, temp_max_c: 70, mem_available_estimate_bytes: 2 * GiB },
      { machine_id: 'm1', collected_at: ago(1), cpu_pct: 50, disk_read_mibs: 10, disk_write_mibs: 20, gpu_count: 2, gpu_util_max_pct: 90, gpu_temp_max_c: 60, temp_max_c: 70, mem_available_estimate_bytes: 2 * GiB },
      { machine_id: 'm2', collected_at: ago(1), cpu_pct: null, disk_read_mibs: null, disk_write_mibs: null, gpu_count: null, gpu_util_max_pct: null, gpu_temp_max_c: null, temp_max_c: null, mem_available_estimate_bytes: 2 * GiB },
    ]);
    assert.deepEqual(await s.query('SELECT machine_id, collected_at FROM v1.latest_sysmoni ORDER BY machine_id'), [{ machine_id: 'm1', collected_at: ago(1) }, { machine_id: 'm2', collected_at: ago(1) }]);
  });

  test('machine_sample: one row per machine, sysmoni\'s figures while it is recent, sys\'s MemAvailable while sys is', async (t) => {
    const dir = tmpDir('vc-sysmoni-views-');
    await store(dir, 'sys', 'both', ago(1), sysSample());
    await store(dir, 'sysmoni', 'both', ago(1), moniSample());
    // sysmoni stopped 30 minutes ago (over 3 of its intervals), sys goes on: sys's figures
    await store(dir, 'sys', 'stopped', ago(1), sysSample());
    await store(dir, 'sysmoni', 'stopped', ago(30), moniSample());
    await store(dir, 'sysmoni', 'moni-only', ago(1), moniSample());
    await store(dir, 'sys', 'sys-only', ago(1), sysSample());
    // both stale: the newer one (sysmoni), and its memory estimate (sys is older and stale)
    await store(dir, 'sys', 'quiet', ago(40), sysSample());
    await store(dir, 'sysmoni', 'quiet', ago(20), moniSample());
    const s = await open(dir, t);
    assert.deepEqual(await s.query(`SELECT machine_id, figures_from, collected_at, load5, cpu_count, cpu_util, mem_total_bytes, mem_available_bytes,
      mem_available_from, swap_free_bytes, uptime_s, inotify_max_user_watches, net_rx_mbps, gpu_util_max_pct FROM v1.machine_sample ORDER BY machine_id`), [
      { machine_id: 'both', figures_from: 'sysmoni', collected_at: ago(1), load5: 3, cpu_count: 2, cpu_util: 0.5, mem_total_bytes: 8 * GiB, mem_available_bytes: 20 * GiB,
        mem_available_from: 'sys', swap_free_bytes: GiB, uptime_s: 86_400, inotify_max_user_watches: 65_536, net_rx_mbps: 10, gpu_util_max_pct: 90 },
      { machine_id: 'moni-only', figures_from: 'sysmoni', collected_at: ago(1), load5: 3, cpu_count: 2, cpu_util: 0.5, mem_total_bytes: 8 * GiB, mem_available_bytes: 2 * GiB,
        mem_available_from: 'sysmoni', swap_free_bytes: GiB, uptime_s: null, inotify_max_user_watches: 524_288, net_rx_mbps: 10, gpu_util_max_pct: 90 },
      { machine_id: 'quiet', figures_from: 'sysmoni', collected_at: ago(20), load5: 3, cpu_count: 2, cpu_util: 0.5, mem_total_bytes: 8 * GiB, mem_available_bytes: 2 * GiB,
        mem_available_from: 'sysmoni', swap_free_bytes: GiB, uptime_s: 86_400, inotify_max_user_watches: 65_536, net_rx_mbps: 10, gpu_util_max_pct: 90 },
      { machine_id: 'stopped', figures_from: 'sys', collected_at: ago(1), load5: 0.5, cpu_count: 8, cpu_util: 0.1, mem_total_bytes: 32 * GiB, mem_available_bytes: 20 * GiB,
        mem_available_from: 'sys', swap_free_bytes: 4 * GiB, uptime_s: 86_400, inotify_max_user_watches: 65_536, net_rx_mbps: null, gpu_util_max_pct: null },
      { machine_id: 'sys-only', figures_from: 'sys', collected_at: ago(1), load5: 0.5, cpu_count: 8, cpu_util: 0.1, mem_total_bytes: 32 * GiB, mem_available_bytes: 20 * GiB,
        mem_available_from: 'sys', swap_free_bytes: 4 * GiB, uptime_s: 86_400, inotify_max_user_watches: 65_536, net_rx_mbps: null, gpu_util_max_pct: null },
    ]);
  });

  test('health and the overview read the machine picture: sysmoni\'s load history counts, its memory estimate grades where sys is missing', async (t) => {
    const dir = tmpDir('vc-sysmoni-views-');
    // 2 cores at load5 5 (2.5 per core) for 10 minutes, sysmoni only: a warning on sustained load
    for (const m of [10, 8, 6, 4, 2]) await store(dir, 'sysmoni', 'busy', ago(m), moniSample({ load5: 5, load15: 5 }));
    // sysmoni-only machine short of memory: 0.4 GiB of 8 left by its estimate
    await store(dir, 'sysmoni', 'tight', ago(1), moniSample({ mem_used_bytes: Math.round(7.6 * GiB) }));
    // sys says plenty, sysmoni's estimate says little: sys's MemAvailable is the one graded
    await store(dir, 'sys', 'both', ago(1), sysSample({ mem_total_bytes: 8 * GiB, mem_available_bytes: 4 * GiB }));
    await store(dir, 'sysmoni', 'both', ago(1), moniSample({ mem_used_bytes: Math.round(7.6 * GiB) }));
    const s = await open(dir, t);
    assert.deepEqual(await s.query(`SELECT machine_id, factor_id, value, severity, summary, evidence->>'figures_from' AS from_, evidence->>'mem_available_from' AS mem_from
      FROM v1.health_factors WHERE factor_id IN ('load', 'memory') ORDER BY machine_id, factor_id`), [
      { machine_id: 'both', factor_id: 'load', value: 1.5, severity: 'warn', summary: 'load5 3.0 on 2 cores (1.5 per core); less than 10 min of samples: graded on load15 3.0', from_: 'sysmoni', mem_from: null },
      { machine_id: 'both', factor_id: 'memory', value: 50, severity: 'ok', summary: '4.0 GiB available of 8.0 GiB (50.0%)', from_: 'sysmoni', mem_from: 'sys' },
      { machine_id: 'busy', factor_id: 'load', value: 2.5, severity: 'warn', summary: 'load5 5.0 on 2 cores (2.5 per core); lowest per-core load5 in the last 10 min: 2.5', from_: 'sysmoni', mem_from: null },
      { machine_id: 'busy', factor_id: 'memory', value: 25, severity: 'ok', summary: '2.0 GiB available of 8.0 GiB (25.0%)', from_: 'sysmoni', mem_from: 'sysmoni' },
      { machine_id: 'tight', factor_id: 'load', value: 1.5, severity: 'warn', summary: 'load5 3.0 on 2 cores (1.5 per core); less than 10 min of samples: graded on load15 3.0', from_: 'sysmoni', mem_from: null },
      { machine_id: 'tight', factor_id: 'memory', value: 5, severity: 'crit', summary: '409.5 MiB available of 8.0 GiB (5.0%)', from_: 'sysmoni', mem_from: 'sysmoni' },
    ]);
    assert.deepEqual(await s.query(`SELECT machine_id, figures_from, load5, cpu_util, net_rx_mbps, disk_write_mibs, gpu_util_max_pct, temp_max_c
      FROM v1.machine_overview WHERE machine_id = 'both'`), [
      { machine_id: 'both', figures_from: 'sysmoni', load5: 3, cpu_util: 0.5, net_rx_mbps: 10, disk_write_mibs: 20, gpu_util_max_pct: 90, temp_max_c: 70 },
    ]);
  });
});
