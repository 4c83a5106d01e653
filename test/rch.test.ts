// rch: its recorded outputs (fixtures/rch, after ../shared/upstream/rch.md) parsed into items; rchd's
// /metrics parsed; vc collect with a fake rch on PATH, a real metrics endpoint fetched with curl on
// the target, and rchd's history file tailed across a half-written line and a rotation (locally
// and on a real sshd); and the rch views over stored rows: given rows, expected rows.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { spawn, type ChildProcess } from 'node:child_process';
import {
  historyFileOf, NEVER_UPDATED, rchBuildFact, rchCursorFrom, rchMetricItems, rchSchema, rchStatusItems,
} from '../lib/sources/rch.ts';
import { parsePrometheusText } from '../lib/sources/prometheus.ts';
import { quoteBigIntegers } from '../lib/sources/toolrun.ts';
import { openSession } from '../lib/duck.ts';
import { appendEnvelopes } from '../lib/store.ts';
import { storable, type Envelope } from '../lib/envelope.ts';
import { fakeTool } from './fakes.ts';
import { readRaw, tmpDir, vc, withNulls, writeExecutable } from './helpers.ts';
import { sshdAvailable, farMachineToml, startSshdWithPath, type Sshd } from './sshd.ts';

const FIXTURES = path.join(import.meta.dirname, '..', 'fixtures', 'rch');
const fixture = (name: string) => {
  const f = (ext: string) => path.join(FIXTURES, `${name}.${ext}`);
  const read = (ext: string) => (fs.existsSync(f(ext)) ? fs.readFileSync(f(ext), 'utf8') : '');
  return { stdout: read('out'), stderr: read('err'), rc: Number(read('rc').trim() || 0) };
};
const data = (items: Array<{ data: unknown }>) => items.map((i) => withNulls(rchSchema, i.data as Record<string, unknown>));
/** rchd's build ids in the fixtures: (daemon start epoch << 24 | 1) + n, beyond 2^53. */
const BASE = (1787148780n << 24n) | 1n;
const bid = (n: number) => String(BASE + BigInt(n));
const HISTORY = fs.readFileSync(path.join(FIXTURES, 'history.jsonl'), 'utf8').split('\n').filter(Boolean);
/** A history line for build `n` (rchd writes one compact BuildRecord per line). */
const historyLine = (n: number, exit = 0) => JSON.stringify({
  id: 0, started_at: '2026-08-20T13:00:00+00:00', completed_at: '2026-08-20T13:01:00+00:00', project_id: 'vc-7f3a', worker_id: 'ws1',
  command: 'cargo build', exit_code: exit, duration_ms: 60000, location: 'remote', bytes_transferred: 10, timing: null,
}).replace('"id":0', `"id":${bid(n)}`);

describe('rch status --format json, parsed', () => {
  test('the nested status (rch >= 1.0.11): a run row, workers, builds, issues, alerts, hints; ids exact', () => {
    const s = rchStatusItems(fixture('default'));
    assert.deepEqual(s.items.map((i) => (i.data as any).type), [
      'run', 'worker', 'worker', 'active_build', 'queued_build', 'issue', 'alert', 'hint', 'hint', 'hint', 'build', 'build', 'build']);
    for (const i of s.items) rchSchema.parse(i.data);
    const rows = data(s.items);
    assert.deepEqual(rows[0], withNulls(rchSchema, {
      type: 'run', exit_code: 0, api_version: '1.0', status_schema: '1.0.0', posture: 'degraded',
      posture_description: 'Some workers unavailable or pressure-blocked, partial remote capability',
      daemon_pid: 21877, daemon_version: '1.0.57', daemon_uptime_secs: 86211, daemon_started_at: '2026-08-19T14:13:00.000Z',
      socket_path: '/run/user/1000/rch.sock', workers_total: 2, workers_healthy: 1, slots_total: 48, slots_available: 40,
      builds_total: 312, builds_succeeded: 298, builds_failed: 14, builds_remote: 280, builds_local: 32, avg_duration_ms: 48211,
      queue_depth: 1, active_count: 1, remediation_overall: 'self_healing_in_progress', convergence_status: 'ok',
    }));
    const ws2 = rows[2]!;
    assert.deepEqual([ws2.worker_id, ws2.status, ws2.circuit_state, ws2.checks_recent, ws2.checks_failed, ws2.bypass_reason_code, ws2.pressure_disk_free_gb],
      ['ws2', 'unreachable', 'open', 5, 4, 'RCH-I102', null]);
    assert.equal(rows[3]!.build_id, bid(312), 'a u64 id beyond 2^53 is kept digit for digit');
    assert.deepEqual([rows[3]!.heartbeat_phase, rows[3]!.heartbeat_age_secs, rows[3]!.slots, rows[3]!.progress_stale], ['execute', 6, 8, false]);
    assert.deepEqual([rows[4]!.build_id, rows[4]!.queue_position, rows[4]!.slots, rows[4]!.wait_time], ['7', 1, 16, '21s']);
    assert.deepEqual([rows[5]!.severity, rows[5]!.action], ['error', 'rch workers probe ws2 --force']);
    assert.deepEqual([rows[6]!.kind, rows[6]!.state, rows[6]!.first_seen], ['worker_offline', 'active', '2026-08-20T13:51:02.000Z']);
    assert.deepEqual(rows.filter((r) => r.type === 'hint').map((h) => [h.reason_code, h.severity, h.worker_id]),
      [['circuit_open', 'critical', 'ws2'], ['pressure_telemetry_gap', 'warning', 'ws2'], ['partial_capacity', 'warning', null]]);
    const builds = s.items.filter((i) => (i.data as any).type === 'build');
    assert.deepEqual(builds.map((b) => [b.kind, b.key]), [311, 310, 309].map((n) => ['event', `build:${bid(n)}`]));
    assert.deepEqual([rows[10]!.exit_code, rows[10]!.command, rows[10]!.completed_at, rows[10]!.origin], [101, 'cargo test -p vc-core', '2026-08-20T13:59:40.000Z', 'status']);
    assert.deepEqual([rows[12]!.location, rows[12]!.worker_id, rows[12]!.bytes_transferred], ['local', null, null]);
    assert.deepEqual(s.recent, [bid(311), bid(310), bid(309)]);
  });

  test('builds the previous run listed are not stored again', () => {
    const s = rchStatusItems(fixture('default'), new Set([bid(311), bid(310)]));
    assert.deepEqual(s.items.filter((i) => (i.data as any).type === 'build').map((i) => i.key), [`build:${bid(309)}`]);
  });

  test('the daemon down: rch exits 1 with its error envelope, which is one run row (data, not an error)', () => {
    const s = rchStatusItems(fixture('down'));
    assert.deepEqual(data(s.items), [withNulls(rchSchema, {
      type: 'run', exit_code: 1, api_version: '1.0', error_code: 'RCH-E504', error_category: 'internal',
      message: 'Unexpected internal state', details: 'Daemon socket not found at /run/user/1000/rch.sock',
    })]);
    assert.equal(s.recent, null, 'the builds seen stay as they were');
  });

  test('no workers configured: local_only, no workers, builds or alerts', () => {
    const rows = data(rchStatusItems(fixture('empty')).items);
    assert.deepEqual(rows.map((r) => r.type), ['run', 'hint']);
    assert.deepEqual([rows[0]!.posture, rows[0]!.workers_total, rows[0]!.queue_depth, rows[0]!.active_count, rows[0]!.remediation_overall],
      ['local_only', 0, 0, 0, null]);
    assert.deepEqual([rows[1]!.reason_code, rows[1]!.action], ['no_workers_configured', 'rch workers add']);
  });

  test('rch <= 1.0.10 (data is the daemon payload itself): read the same, without posture or hints', () => {
    const rows = data(rchStatusItems(fixture('legacy')).items);
    assert.deepEqual(rows.map((r) => r.type), ['run', 'worker', 'build']);
    assert.deepEqual([rows[0]!.status_schema, rows[0]!.posture, rows[0]!.daemon_version, rows[0]!.queue_depth, rows[0]!.workers_healthy],
      [null, null, '1.0.9', 0, 1]);
    assert.deepEqual([rows[1]!.worker_id, rows[1]!.pressure_state, rows[2]!.build_id], ['box', null, '4']);
  });

  test('what is not rch status\'s envelope is a clear error naming the command', () => {
    assert.throws(() => rchStatusItems(fixture('garbage')), /rch status --format json exited 0 without its JSON envelope: "status: posture: degraded/);
    assert.throws(() => rchStatusItems(fixture('wrongshape')), /rch status --format json printed JSON of an unexpected shape: daemon\.workers: .*expected array/);
    assert.throws(() => rchStatusItems({ stdout: '{"command":"status-fleet","success":true,"data":{}}', stderr: '', rc: 0 }), /envelope of "status-fleet", not of status/);
    assert.throws(() => rchStatusItems({ stdout: '{"command":"rch","success":false}', stderr: '', rc: 1 }), /unsuccessful envelope without an error/);
    assert.throws(() => rchStatusItems({ stdout: '', stderr: 'Error: cannot connect\n', rc: 1 }), /exited 1 without its JSON envelope; stderr: "Error: cannot connect"/);
    assert.throws(() => rchStatusItems({ stdout: '{"api', stderr: '', rc: 124 }), /did not answer in time/);
  });

  test('quoteBigIntegers: only integer literals beyond 2^53, outside strings', () => {
    const text = '{"id": 29983381106196481, "n": -29983381106196481, "s": "29983381106196481", "f": 29983381106196481.5, "e": 1e300, "small": 9007199254740991, "q": "a\\"29983381106196481"}';
    assert.deepEqual(JSON.parse(quoteBigIntegers(text)), {
      id: '29983381106196481', n: '-29983381106196481', s: '29983381106196481', f: 29983381106196481.5, e: 1e300, small: 9007199254740991,
      q: 'a"29983381106196481',
    });
    assert.equal(quoteBigIntegers('[1, 2.5]'), '[1, 2.5]');
  });
});

describe('rchd /metrics, parsed', () => {
  const METRICS = fs.readFileSync(path.join(FIXTURES, 'metrics.prom'), 'utf8');

  test('the text format: families, types, labels, histogram parts, special values, timestamps', () => {
    const samples = parsePrometheusText(METRICS);
    assert.equal(samples.length, 45);
    const status = samples.filter((s) => s.name === 'rch_worker_status');
    assert.deepEqual(status.map((s) => [s.labels, s.value, s.type]), [
      [{ status: 'current', worker: 'ws1' }, 1, 'gauge'], [{ status: 'current', worker: 'ws2' }, 0, 'gauge']]);
    const sum = samples.find((s) => s.name === 'rch_worker_latency_ms_sum')!;
    assert.deepEqual([sum.family, sum.type, sum.value], ['rch_worker_latency_ms', 'histogram', 302.5]);
    const other = parsePrometheusText('# TYPE x_count counter\nx_count{a="q\\"uo\\\\te\\nd",b="",} 3 1700000000000\ny NaN\nz{le="+Inf"} +Inf\nw -Inf\n');
    assert.deepEqual(other.map((s) => [s.name, s.family, s.type, s.labels, s.value, s.timestampMs]), [
      ['x_count', 'x_count', 'counter', { a: 'q"uo\\te\nd', b: '' }, 3, 1700000000000],
      ['y', 'y', null, {}, NaN, null], ['z', 'z', null, { le: '+Inf' }, Infinity, null], ['w', 'w', null, {}, -Infinity, null]]);
  });

  test('what is not the format is an error naming the line', () => {
    assert.throws(() => parsePrometheusText(fs.readFileSync(path.join(FIXTURES, 'metrics-garbage.html'), 'utf8')), /^Error: line 1: not a sample/);
    assert.throws(() => parsePrometheusText('a 1\nb{x="1" 2\n'), /line 2: "," or "}" was expected/);
    assert.throws(() => parsePrometheusText('a{x="1",x="2"} 1'), /label x is given twice/);
    assert.throws(() => parsePrometheusText('a one'), /"one" is not a number/);
    assert.throws(() => parsePrometheusText('a 1 2 3'), /a value \(and at most a timestamp\)/);
    assert.throws(() => parsePrometheusText('a{x="1'), /not closed/);
  });

  test('stored: rch_* samples of families rchd updates, histograms as _sum and _count; never-updated ones left out', () => {
    const m = rchMetricItems({ stdout: METRICS, stderr: '', rc: 0 }, 'http://127.0.0.1:9100/metrics');
    const names = m.items.map((i) => (i.data as any).metric as string);
    assert.equal(m.error, null);
    assert.equal(m.items.length, 29);
    assert.equal(m.ignored, 45 - 29);
    for (const family of NEVER_UPDATED) assert.ok(!names.some((n) => n.startsWith(family)), `${family} is not stored`);
    assert.ok(!names.some((n) => n.endsWith('_bucket')));
    assert.ok(names.includes('rch_decision_latency_seconds_count') && names.includes('rch_worker_latency_ms_sum'));
    const fallback = data(m.items).filter((r) => r.metric === 'rch_local_fallback_reason_total');
    assert.deepEqual(fallback.map((r) => [r.labels, r.value, r.metric_type]), [
      [{ reason: 'all_circuits_open' }, 4, 'counter'], [{ reason: 'all_workers_busy' }, 27, 'counter'], [{ reason: 'other' }, 1, 'counter']]);
  });

  test('an endpoint that cannot be reached is the run\'s metrics_error; a body that is not metrics is an error', () => {
    const down = rchMetricItems({ stdout: '', stderr: 'curl: (7) Failed to connect to 127.0.0.1 port 9100\n', rc: 7 }, 'http://127.0.0.1:9100/metrics');
    assert.deepEqual([down.items, down.error], [[], 'the fetch failed (exit 7): "curl: (7) Failed to connect to 127.0.0.1 port 9100"']);
    assert.equal(rchMetricItems({ stdout: '', stderr: '', rc: 124 }, 'u').error, 'did not answer in time');
    assert.throws(() => rchMetricItems({ stdout: '<html>', stderr: '', rc: 0 }, 'http://h:9100/metrics'),
      /rchd's metrics at http:\/\/h:9100\/metrics are not Prometheus text: line 1/);
  });
});

describe('rchd\'s history file and command line', () => {
  test('each line a build event keyed like the status\'s; other lines are skipped with a reason', () => {
    const facts = HISTORY.map(rchBuildFact) as Array<{ key: string; kind: string; data: any }>;
    assert.deepEqual(facts.map((f) => [f.kind, f.key, f.data.exit_code, f.data.cancelled, f.data.origin]), [
      ['event', `build:${bid(300)}`, 0, false, 'history'], ['event', `build:${bid(301)}`, 1, false, 'history'],
      ['event', `build:${bid(302)}`, 100, false, 'history'], ['event', `build:${bid(303)}`, 130, true, 'history']]);
    assert.equal(facts[3]!.data.cancel_reason, 'user_requested');
    assert.equal(rchBuildFact(''), null);
    assert.equal(rchBuildFact('{"id":1,'), 'not a JSON object');
    assert.equal(rchBuildFact('{"id":1}'), 'not a build record');
    assert.equal(rchBuildFact(HISTORY[0]!.replace('"completed_at":"2026-08-20T12:01:00+00:00"', '"completed_at":"soon"')), 'a build record without a completion time');
  });

  test('the history file is read off the running rchd\'s command line when it has one', () => {
    const warnings: string[] = [];
    const warn = (m: string) => { warnings.push(m); };
    assert.equal(historyFileOf('/home/u/.local/bin/rchd --foreground --history-file /var/lib/rch/h.jsonl -v', warn), '/var/lib/rch/h.jsonl');
    assert.equal(historyFileOf('rchd --history-file=/h.jsonl', warn), '/h.jsonl');
    assert.equal(historyFileOf('rchd --foreground', warn), null);
    assert.equal(historyFileOf('', warn), null);
    assert.deepEqual(warnings, []);
    assert.equal(historyFileOf('rchd --history-file h.jsonl', warn), null);
    assert.match(warnings[0]!, /relative path/);
    assert.deepEqual(rchCursorFrom({ builds: 3 }, warn), { builds: {}, recent: [] });
    assert.match(warnings[1]!, /not of the expected shape/);
  });
});

/** A Prometheus endpoint on loopback serving a file (in its own process: vc's runs block this one). */
async function metricsServer(file: string): Promise<{ url: string; child: ChildProcess }> {
  const child = spawn(process.execPath, ['-e', `
    const fs = require('fs');
    const s = require('http').createServer((q, r) => { r.writeHead(200, { 'Content-Type': 'text/plain; version=0.0.4' }); r.end(fs.readFileSync(process.argv[1])); });
    s.listen(0, '127.0.0.1', () => console.log(s.address().port));`, file], { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise<string>((resolve) => child.stdout!.once('data', (b: Buffer) => resolve(b.toString().trim())));
  return { url: `http://127.0.0.1:${port}/metrics`, child };
}

/**
 * A temp setup for vc collect --source rch: a fake rch first on PATH (behind a guard that fails
 * if an output-format variable reaches it), and a fake ps showing an rchd started with
 * --history-file pointing into the setup. Readable by the sshd test user.
 */
function setup(toml = '') {
  const dir = tmpDir('vc-rch-');
  fs.chmodSync(dir, 0o755);
  const bin = path.join(dir, 'bin');
  const inner = path.join(dir, 'inner');
  fs.mkdirSync(bin, { mode: 0o755 });
  fs.mkdirSync(inner, { mode: 0o755 });
  const rch = fakeTool(inner, 'rch');
  writeExecutable(bin, 'rch', `#!/bin/sh\n[ -n "$RCH_OUTPUT_FORMAT$TOON_DEFAULT_FORMAT" ] && { echo "format: toon"; exit 0; }\nexec ${inner}/rch "$@"\n`);
  const history = path.join(dir, 'rch', 'history.jsonl');
  fs.mkdirSync(path.dirname(history), { mode: 0o755 });
  writeExecutable(bin, 'ps', `#!/bin/sh\nprintf 'COMMAND\\n/usr/bin/bash\\n/home/u/.local/bin/rchd --foreground --history-file ${history}\\n'\n`);
  const conf = path.join(dir, 'vc.toml');
  fs.writeFileSync(conf, toml);
  const env = { VC_DATA_DIR: path.join(dir, 'data'), VC_CONFIG: conf, PATH: `${bin}:${process.env.PATH}`, RCH_OUTPUT_FORMAT: 'toon' };
  const collect = () => vc(['collect', '--source', 'rch', '--json'], env);
  const lastRun = () => readRaw(env.VC_DATA_DIR, 'collector_runs', 'local').at(-1)!.data;
  return { dir, bin, rch, history, conf, env, collect, lastRun, rows: (m = 'local') => readRaw(env.VC_DATA_DIR, 'rch', m) };
}

const write = (file: string, text: string) => { fs.writeFileSync(file, text, { mode: 0o644 }); fs.chmodSync(file, 0o644); };

describe('vc collect --source rch', { concurrency: true }, () => {
  const servers: ChildProcess[] = [];
  after(() => { for (const c of servers) c.kill(); });

  test('status, metrics fetched on the target, and the history file tailed across a half-written line and a rotation', async (t) => {
    const s = setup();
    const m = await metricsServer(path.join(FIXTURES, 'metrics.prom'));
    servers.push(m.child);
    fs.appendFileSync(s.conf, `[collectors.rch]\nmetrics_url = "${m.url}"\n`);
    // rchd has written two builds and is halfway through the third.
    write(s.history, `${HISTORY[0]}\n${HISTORY[1]}\n${HISTORY[2]!.slice(0, 50)}`);

    let r = s.collect();
    assert.equal(r.code, 0, r.stderr);
    assert.equal(s.lastRun().status, 'ok', JSON.stringify(s.lastRun()));
    assert.deepEqual(s.rch.calls(), [['status', '--format', 'json']]);
    let rows = s.rows();
    const run = rows.find((l) => l.data.type === 'run')!.data;
    assert.deepEqual([run.metrics_url, run.metrics_samples, run.metrics_ignored, run.history_file], [m.url, 29, 16, s.history]);
    assert.equal(rows.filter((l) => l.data.type === 'metric').length, 29);
    const builds = () => s.rows().filter((l) => l.data.type === 'build').map((l) => `${l.data.origin}:${BigInt(l.data.build_id) - BASE}`);
    assert.deepEqual(builds(), ['status:311', 'status:310', 'status:309', 'history:300', 'history:301']);
    assert.equal(rows.find((l) => l.data.type === 'build')!.key, `build:${bid(311)}`);

    // The third line is finished and a fourth written; then rchd's file is rotated and a new one begun.
    fs.appendFileSync(s.history, `${HISTORY[2]!.slice(50)}\n${HISTORY[3]}\n`);
    fs.renameSync(s.history, `${s.history}.1`);
    fs.appendFileSync(`${s.history}.1`, `${historyLine(304)}\n`);
    write(s.history, `${historyLine(305, 1)}\n`);
    r = s.collect();
    assert.equal(r.code, 0, r.stderr);
    assert.equal(s.lastRun().status, 'ok', JSON.stringify(s.lastRun()));
    assert.deepEqual(builds().slice(5), ['history:302', 'history:303', 'history:304', 'history:305'],
      'the status\'s builds are not stored again; the rotated file is finished, then the new one read');

    // rchd rewrites its file in place (BuildHistory::compact: a temp file renamed over it): read
    // again from the start, stored again, but each build is one build to the views.
    write(`${s.history}.tmp`, `${historyLine(305, 1)}\n${historyLine(306)}\n`);
    fs.renameSync(`${s.history}.tmp`, s.history);
    r = s.collect();
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(builds().slice(9), ['history:305', 'history:306']);
    const session = await openSession({ dataDir: s.env.VC_DATA_DIR, now: new Date(Date.now() + 1000) });
    t.after(() => session.close());
    const views = await session.query(`SELECT count(*) AS builds, count(DISTINCT build_id) AS ids FROM v1.rch_builds`);
    assert.deepEqual(views, [{ builds: 10, ids: 10 }]);
    const metrics = await session.query(`SELECT worker, "value" FROM v1.rch_metrics WHERE metric = 'rch_circuit_state' ORDER BY worker`);
    assert.deepEqual(metrics, [{ worker: 'ws1', value: 0 }, { worker: 'ws2', value: 2 }]);
  });

  test('rch not installed: the run is absent, nothing stored', () => {
    const s = setup();
    fs.rmSync(path.join(s.bin, 'rch'));
    const r = s.collect();
    assert.equal(r.code, 0, r.stderr);
    assert.equal(s.lastRun().status, 'absent');
    assert.match(s.lastRun().warnings[0], /^rch is not installed here/);
    assert.deepEqual(s.rows(), []);
  });

  test('the daemon down is data (ok); garbage is a recorded error and stores nothing', () => {
    const s = setup('[collectors.rch]\nhistory_file = "off"\n');
    s.rch.use('down');
    assert.equal(s.collect().code, 0);
    assert.equal(s.lastRun().status, 'ok');
    assert.deepEqual(s.rows().map((l) => [l.data.type, l.data.error_code, l.data.history_file ?? null]), [['run', 'RCH-E504', null]]);
    s.rch.use('garbage');
    assert.equal(s.collect().code, 1);
    assert.equal(s.lastRun().status, 'error');
    assert.match(s.lastRun().error, /rch status --format json exited 0 without its JSON envelope/);
    assert.equal(s.rows().length, 1, 'nothing stored');
  });

  test('an rch that hangs is stopped at the step timeout and recorded as an error; nothing stored', () => {
    const s = setup('[collectors.rch]\nstep_timeout_seconds = 1\n');
    s.rch.use('hang');
    const t0 = Date.now();
    assert.equal(s.collect().code, 1);
    assert.ok(Date.now() - t0 < 30_000, `took ${Date.now() - t0} ms`);
    assert.equal(s.lastRun().status, 'error');
    assert.match(s.lastRun().error, /rch status --format json did not answer in time/);
    assert.deepEqual(s.rows(), []);
  });
});

describe('rch over ssh', { skip: sshdAvailable() ? false : 'needs root and /usr/sbin/sshd' }, () => {
  let sshd: Sshd;
  let server: ChildProcess | undefined;
  const s = setup();
  before(async () => {
    sshd = await startSshdWithPath(s.bin);
    const m = await metricsServer(path.join(FIXTURES, 'metrics.prom'));
    server = m.child;
    fs.writeFileSync(s.env.VC_CONFIG, farMachineToml(sshd, ['[collectors.rch]', `metrics_urls = { far = ${JSON.stringify(m.url)} }`]));
    write(s.history, `${HISTORY[0]}\n${HISTORY[1]!.slice(0, 30)}`);
  });
  after(() => { sshd?.stop(); server?.kill(); });

  test('the same rows as locally, from the remote machine: status, metrics fetched there, the history file', () => {
    const r = vc(['collect', '--source', 'rch', '--json'], { ...s.env, XDG_RUNTIME_DIR: s.dir });
    assert.equal(r.code, 0, r.stderr + r.stdout);
    const rows = s.rows('far');
    const count = (type: string) => rows.filter((l) => l.data.type === type).length;
    assert.deepEqual([count('run'), count('worker'), count('metric'), count('build')], [1, 2, 29, 4]);
    assert.deepEqual(rows.filter((l) => l.data.origin === 'history').map((l) => l.key), [`build:${bid(300)}`]);
  });
});

describe('rch views: given rows, expected rows', () => {
  const NOW = new Date('2026-11-24T12:00:00Z');
  const at = (min: number) => new Date(NOW.getTime() - min * 60_000).toISOString();
  let seq = 0;
  /** One rch run on a machine: its items (type and fields), builds as events keyed by id. */
  const store = async (dir: string, machine: string, when: string, items: Array<Record<string, unknown>>) => {
    const run = `r-${++seq}`;
    const envs: Envelope[] = items.map((d, i) => ({
      v: 1, source: 'rch', machine_id: machine, collected_at: when, run_id: run, collector_version: '1.0.0', schema_version: 1,
      kind: d.type === 'build' ? 'event' : 'snapshot', key: d.type === 'build' ? `build:${d.build_id}` : `${run}-${i}`,
      data: storable(rchSchema.parse(withNulls(rchSchema, d))) as Record<string, unknown>,
    }));
    await appendEnvelopes(dir, envs);
    await appendEnvelopes(dir, [{
      v: 1, source: 'collector_runs', machine_id: machine, collected_at: when, run_id: run, collector_version: '1.0.0', schema_version: 1,
      kind: 'event', key: run, data: { source: 'rch', started_at: when, ended_at: when, duration_ms: 1, bytes: 1, rows: items.length, status: 'ok', error: null, warnings: [] },
    }]);
  };
  const runRow = (over: Record<string, unknown> = {}) => ({
    type: 'run', exit_code: 0, status_schema: '1.0.0', posture: 'remote_ready', daemon_version: '1.0.57', daemon_uptime_secs: 3600,
    workers_total: 1, workers_healthy: 1, slots_total: 16, slots_available: 16, queue_depth: 0, active_count: 0, ...over,
  });
  const worker = (id: string, over: Record<string, unknown> = {}) => ({
    type: 'worker', worker_id: id, status: 'healthy', circuit_state: 'closed', used_slots: 0, total_slots: 16, pressure_state: 'healthy', ...over,
  });
  const build = (id: number, min: number, exit: number, over: Record<string, unknown> = {}) => ({
    type: 'build', build_id: String(id), completed_at: at(min), started_at: at(min + 1), exit_code: exit, command: 'cargo build',
    worker_id: 'w1', location: 'remote', duration_ms: 60000, cancelled: false, origin: 'history', ...over,
  });

  test('machines, builds once each, workers\' availability, and the factors with their severity, titles and fixes', async (t) => {
    const dir = tmpDir('vc-rch-views-');
    // m1: answering, 6 queued, builds in the window: 3 failed of 9 counted (a failing cargo test
    // and a cancel are no failed build; one build listed by the status and the history file).
    await store(dir, 'm1', at(3), [
      runRow(), worker('w1'),
      build(101, 5, 1), build(102, 6, 1), build(103, 7, 0, { origin: 'status' }), build(104, 8, 0), build(105, 9, 0),
      build(106, 10, 101, { command: 'cargo test --workspace' }), build(107, 11, 0), build(108, 12, 2), build(109, 13, 0),
      build(110, 14, 130, { cancelled: true, cancel_reason: 'user_requested' }),
      build(111, 60 * 24 * 3, 1),
    ]);
    await store(dir, 'm1', at(1), [
      runRow({ queue_depth: 6 }), worker('w1'), build(103, 7, 0, { origin: 'history' }),
      ...[1, 2, 3, 4, 5, 6].map((k) => ({ type: 'queued_build', build_id: String(k), queue_position: k, queued_at: at(10 - k), command: 'cargo build' })),
    ]);
    // m2: the only worker is unreachable behind an open circuit while 1 build runs and 2 wait.
    await store(dir, 'm2', at(2), [
      runRow({ posture: 'local_only', workers_healthy: 0, queue_depth: 2, active_count: 1 }),
      worker('w9', { status: 'unreachable', circuit_state: 'open', last_error: 'ssh: connect timed out' }),
      { type: 'active_build', build_id: '900', worker_id: 'w9', started_at: at(30), command: 'cargo build' },
      { type: 'queued_build', build_id: '1', queue_position: 1, queued_at: at(12) }, { type: 'queued_build', build_id: '2', queue_position: 2, queued_at: at(4) },
      { type: 'hint', reason_code: 'partial_capacity', severity: 'warning', message: 'reduced', action: 'rch workers probe --all' },
      { type: 'hint', reason_code: 'circuit_open', severity: 'critical', message: 'w9 circuit open', action: 'rch workers probe w9 --force', worker_id: 'w9' },
      { type: 'alert', alert_id: 'a1', kind: 'worker_offline', severity: 'warning', state: 'active', worker_id: 'w9' },
      { type: 'alert', alert_id: 'a0', kind: 'circuit_open', severity: 'warning', state: 'cleared_pending_clean', worker_id: 'w9' },
    ]);
    // m3: answered 30 min ago, then the daemon's socket went away.
    await store(dir, 'm3', at(30), [runRow(), worker('w1')]);
    await store(dir, 'm3', at(20), [{ type: 'run', exit_code: 1, error_code: 'RCH-E504', details: 'Daemon socket not found at /run/user/1000/rch.sock' }]);
    await store(dir, 'm3', at(10), [{ type: 'run', exit_code: 1, error_code: 'RCH-E504', details: 'Daemon socket not found at /run/user/1000/rch.sock' }]);
    const s = await openSession({ dataDir: dir, now: NOW });
    t.after(() => s.close());

    assert.deepEqual(await s.query(`SELECT machine_id, answered, error_code, down_since, workers_available, queue_depth, oldest_queued_s, active_count,
        builds_recent, failed_recent, cancelled_recent, failure_pct, alerts_active, hints_critical, top_action FROM v1.rch_machines ORDER BY machine_id`), [
      { machine_id: 'm1', answered: true, error_code: null, down_since: null, workers_available: 1, queue_depth: 6, oldest_queued_s: 480, active_count: 0,
        builds_recent: 10, failed_recent: 3, cancelled_recent: 1, failure_pct: 33.3, alerts_active: 0, hints_critical: 0, top_action: null },
      { machine_id: 'm2', answered: true, error_code: null, down_since: null, workers_available: 0, queue_depth: 2, oldest_queued_s: 600, active_count: 1,
        builds_recent: 0, failed_recent: 0, cancelled_recent: 0, failure_pct: null, alerts_active: 1, hints_critical: 1, top_action: 'rch workers probe w9 --force' },
      { machine_id: 'm3', answered: false, error_code: 'RCH-E504', down_since: at(20), workers_available: null, queue_depth: null, oldest_queued_s: null,
        active_count: null, builds_recent: 0, failed_recent: 0, cancelled_recent: 0, failure_pct: null, alerts_active: 0, hints_critical: 0, top_action: null },
    ]);
    assert.deepEqual(await s.query(`SELECT build_id, failed, origin FROM v1.rch_builds WHERE machine_id = 'm1' AND build_id IN ('103', '106', '108', '110') ORDER BY build_id`), [
      { build_id: '103', failed: false, origin: 'history' }, { build_id: '106', failed: false, origin: 'history' },
      { build_id: '108', failed: true, origin: 'history' }, { build_id: '110', failed: false, origin: 'history' }]);
    assert.deepEqual(await s.query(`SELECT machine_id, worker_id, available FROM v1.rch_workers ORDER BY machine_id`), [
      { machine_id: 'm1', worker_id: 'w1', available: true }, { machine_id: 'm2', worker_id: 'w9', available: false }]);

    const factors = await s.query(`SELECT machine_id, factor_id, value, severity, title, fix FROM v1.health_factors WHERE factor_id LIKE 'rch%' ORDER BY machine_id, factor_id`);
    assert.deepEqual(factors, [
      { machine_id: 'm1', factor_id: 'rch_build_failures', value: 33.3, severity: 'warn', title: 'm1: 33.3% of rch builds failing', fix: null },
      { machine_id: 'm1', factor_id: 'rch_no_worker', value: 0, severity: 'ok', title: 'm1: no rch worker available for 6 builds', fix: 'rch workers probe --all' },
      { machine_id: 'm1', factor_id: 'rch_queue_depth', value: 6, severity: 'warn', title: 'm1: 6 builds queued in rch', fix: null },
      { machine_id: 'm2', factor_id: 'rch_no_worker', value: 3, severity: 'crit', title: 'm2: no rch worker available for 3 builds', fix: 'rch workers probe w9 --force' },
      { machine_id: 'm2', factor_id: 'rch_queue_depth', value: 2, severity: 'ok', title: 'm2: 2 builds queued in rch', fix: 'rch workers probe w9 --force' },
      { machine_id: 'm3', factor_id: 'rch_daemon_down', value: 20, severity: 'warn', title: 'm3: rch daemon not answering (RCH-E504)', fix: 'rch daemon start' },
    ]);
    const [failures] = await s.query(`SELECT summary FROM v1.rch_factors WHERE factor_id = 'rch_build_failures'`);
    assert.equal(failures!.summary, '3 of 9 builds failed in the last 6 h (33.3%); the last: cargo build (exit 1) on w1');
    const triage = await s.query(`SELECT machine_id, factor_id, fix, next FROM v1.triage_items WHERE factor_id LIKE 'rch%' ORDER BY rank`);
    assert.deepEqual(triage.map((i) => [i.machine_id, i.factor_id, i.fix]), [
      ['m2', 'rch_no_worker', 'rch workers probe w9 --force'], ['m3', 'rch_daemon_down', 'rch daemon start'],
      ['m1', 'rch_build_failures', null], ['m1', 'rch_queue_depth', null]]);
    assert.deepEqual((triage[0]!.next as string[]).slice(0, 1), ['vc report rch --md']);
  });
});

describe('rch queue growth forecast: given status samples, expected predictions', () => {
  const NOW = new Date('2026-11-24T12:00:00Z');
  const at = (min: number) => new Date(NOW.getTime() - min * 60_000).toISOString();
  let seq = 0;
  /** One rch status run (its run row only) with this queue depth, and its collector_runs line. */
  const sample = (machine: string, min: number, depth: number, over: Record<string, unknown> = {}): Envelope[] => {
    const run = `q-${++seq}`;
    const when = at(min);
    const row = { type: 'run', exit_code: 0, status_schema: '1.0.0', posture: 'remote_ready', daemon_pid: 4242, daemon_uptime_secs: 7200 - min * 60,
      workers_total: 1, workers_healthy: 1, slots_total: 16, slots_available: 0, queue_depth: depth, active_count: 4, ...over };
    return [
      { v: 1, source: 'rch', machine_id: machine, collected_at: when, run_id: run, collector_version: '1.0.0', schema_version: 1, kind: 'snapshot',
        key: `${run}-0`, data: storable(rchSchema.parse(withNulls(rchSchema, row))) as Record<string, unknown> },
      { v: 1, source: 'collector_runs', machine_id: machine, collected_at: when, run_id: run, collector_version: '1.0.0', schema_version: 1, kind: 'event',
        key: run, data: { source: 'rch', started_at: when, ended_at: when, duration_ms: 1, bytes: 1, rows: 1, status: 'ok', error: null, warnings: [] } },
    ];
  };
  const series = (machine: string, minutes: number[], depth: (min: number) => number, over: (min: number) => Record<string, unknown> = () => ({})) =>
    minutes.flatMap((m) => sample(machine, m, depth(m), over(m)));
  const every2 = (from: number, to = 0) => Array.from({ length: (from - to) / 2 + 1 }, (_, i) => from - 2 * i);

  test('a steady rise gives an ETA to the crit depth; only the samples since rchd restarted count; flat, noisy, one sample, too few since a restart, over crit and a daemon gone down give none', async (t) => {
    const dir = tmpDir('vc-rch-queue-');
    const envs = [
      // grow: 0 to 14 builds over 28 minutes (30 an hour): 6 more to 20 take 12 minutes.
      ...series('grow', every2(28), (m) => 14 - m / 2),
      // slow: 0 to 5 over 25 minutes (12 an hour): 15 more take 75 minutes, within the 2-hour horizon.
      ...series('slow', [25, 20, 15, 10, 5, 0], (m) => 5 - m / 5),
      // flat: 8 queued all along.
      ...series('flat', every2(28), () => 8),
      // noisy: between 2 and 12, rising a little: no line fits.
      ...series('noisy', every2(28), (m) => (m % 4 === 0 ? 2 : 12) + (m < 10 ? 1 : 0)),
      // one: a single status.
      ...sample('one', 1, 10),
      // over: already past the crit depth, still rising (the rch_queue_depth factor says so).
      ...series('over', every2(28), (m) => 21 + (28 - m) / 2),
      // restart: rchd restarted 13 minutes ago (its uptime fell, a new pid) and emptied its queue;
      // only the 7 samples since count: 0 to 6 (30 an hour), 14 more take 28 minutes.
      ...series('restart', every2(28, 14), (m) => 28 - m, (m) => ({ daemon_uptime_secs: 9000 - m * 60 })),
      ...series('restart', every2(12), (m) => (12 - m) / 2, (m) => ({ daemon_pid: 5151, daemon_uptime_secs: 780 - m * 60 })),
      // few: the same, but restarted 7 minutes ago: 4 samples since, too few to fit.
      ...series('few', every2(28, 8), (m) => 28 - m, (m) => ({ daemon_uptime_secs: 9000 - m * 60 })),
      ...series('few', every2(6), (m) => (6 - m) / 2, (m) => ({ daemon_pid: 5151, daemon_uptime_secs: 420 - m * 60 })),
      // down: rising, but the newest statuses are rch's error envelope (no queue): only answered samples count.
      ...series('down', every2(28, 16), (m) => 28 - m),
      ...series('down', every2(14), () => 0, () => ({ exit_code: 1, error_code: 'RCH-E504', details: 'Daemon socket not found', queue_depth: null })),
    ].sort((a, b) => a.collected_at.localeCompare(b.collected_at));
    await appendEnvelopes(dir, envs);
    const s = await openSession({ dataDir: dir, now: NOW });
    t.after(() => s.close());
    assert.deepEqual(await s.query(`SELECT machine_id, kind, subject, eta, hours_left, confidence, horizon,
        evidence->>'queue_depth' AS depth, evidence->>'builds_per_hour' AS per_hour, evidence->>'samples' AS samples
      FROM v1.predictions WHERE kind = 'rch_queue' ORDER BY machine_id`), [
      { machine_id: 'grow', kind: 'rch_queue', subject: 'queue', eta: at(-12), hours_left: 0.2, confidence: 1, horizon: 7200, depth: '14', per_hour: '30.0', samples: '15' },
      { machine_id: 'restart', kind: 'rch_queue', subject: 'queue', eta: at(-28), hours_left: 0.47, confidence: 1, horizon: 7200, depth: '6', per_hour: '30.0', samples: '7' },
      { machine_id: 'slow', kind: 'rch_queue', subject: 'queue', eta: at(-75), hours_left: 1.25, confidence: 1, horizon: 7200, depth: '5', per_hour: '12.0', samples: '6' },
    ]);
    assert.deepEqual(await s.query(`SELECT machine_id, value, severity, title, summary FROM v1.health_factors WHERE factor_id = 'rch_queue_eta' ORDER BY machine_id`), [
      { machine_id: 'grow', value: 12, severity: 'crit', title: 'grow: rch queue reaches 20 builds in ~12m',
        summary: '14 builds queued, growing by 30.0 an hour over the last 28m (confidence 1.0): 20 in about 12m' },
      { machine_id: 'restart', value: 28, severity: 'warn', title: 'restart: rch queue reaches 20 builds in ~28m',
        summary: '6 builds queued, growing by 30.0 an hour over the last 12m (confidence 1.0): 20 in about 28m' },
      { machine_id: 'slow', value: 75, severity: 'ok', title: 'slow: rch queue reaches 20 builds in ~75m',
        summary: '5 builds queued, growing by 12.0 an hour over the last 25m (confidence 1.0): 20 in about 75m' },
    ]);
    // The alert rule watches the factor from warn: the slow queue (75 min) is no alert yet.
    assert.deepEqual(await s.query(`SELECT machine_id, rule_id, severity, "next" FROM v1.alert_candidates WHERE rule_id = 'rch_queue_growing' ORDER BY machine_id`), [
      { machine_id: 'grow', rule_id: 'rch_queue_growing', severity: 'crit', next: ['vc report rch --md',
        `vc query "SELECT kind, subject, eta, hours_left, confidence FROM predictions WHERE machine_id = 'grow'"`, 'vc report machines --md'] },
      { machine_id: 'restart', rule_id: 'rch_queue_growing', severity: 'warn', next: ['vc report rch --md',
        `vc query "SELECT kind, subject, eta, hours_left, confidence FROM predictions WHERE machine_id = 'restart'"`, 'vc report machines --md'] },
    ]);
  });

  test('no rch data: no forecast and no factor', async (t) => {
    const s = await openSession({ dataDir: tmpDir('vc-rch-queue-none-'), now: NOW });
    t.after(() => s.close());
    assert.deepEqual(await s.query(`SELECT * FROM v1.rch_queue_predictions`), []);
    assert.deepEqual(await s.query(`SELECT * FROM v1.health_factors WHERE factor_id = 'rch_queue_eta'`), []);
  });
});
