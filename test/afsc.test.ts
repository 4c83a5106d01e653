// afsc: its recorded status output (fixtures/afsc, after ../shared/upstream/afsc.md) parsed into
// items, collected end to end through a fake automated_flywheel_setup_checker on PATH (locally and
// on a real sshd), and the views over what was stored: afsc's latest run, the setup domain and its
// health factors, down to `vc report machines`.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { afscItems, afscSchema } from '../lib/sources/afsc.ts';
import { jsonObjects } from '../lib/sources/toolrun.ts';
import { openSession } from '../lib/duck.ts';
import { appendEnvelopes } from '../lib/store.ts';
import { storable, type Envelope } from '../lib/envelope.ts';
import { collectEnv, fakeTool } from './fakes.ts';
import { readRaw, tmpDir, vc, withNulls } from './helpers.ts';
import { sshdAvailable, farMachineToml, startSshdWithPath, type Sshd } from './sshd.ts';

const BIN = 'automated_flywheel_setup_checker';
const fixture = (name: string) => {
  const f = (ext: string) => path.join(import.meta.dirname, '..', 'fixtures', 'afsc', `${name}.${ext}`);
  const read = (ext: string) => (fs.existsSync(f(ext)) ? fs.readFileSync(f(ext), 'utf8') : '');
  return { stdout: read('out'), stderr: read('err'), rc: Number(read('rc').trim() || 0) };
};
const parse = (name: string) => {
  const r = afscItems(fixture(name));
  for (const i of r.items) afscSchema.parse(i.data);
  return { ...r, data: r.items.map((i) => withNulls(afscSchema, i.data as Record<string, unknown>)) };
};

describe('automated_flywheel_setup_checker --format jsonl status, parsed', () => {
  test('the doc\'s run: a run row from the summary, a result per installer keyed by run and installer', () => {
    const { items, data, warnings } = parse('default');
    assert.deepEqual(warnings, []);
    assert.ok(items.every((i) => i.raw === undefined), 'the documented shape: nothing kept twice');
    assert.deepEqual(items.map((i) => i.key), ['5f0c2a8e-3b7d-4c1e-9a61-0d2f7b4e8c19', '5f0c2a8e-3b7d-4c1e-9a61-0d2f7b4e8c19:bun', '5f0c2a8e-3b7d-4c1e-9a61-0d2f7b4e8c19:uv']);
    assert.deepEqual(data[0], withNulls(afscSchema, {
      type: 'run', afsc_run_id: '5f0c2a8e-3b7d-4c1e-9a61-0d2f7b4e8c19', exit_code: 0, no_runs: false, total: 2, passed: 1, failed: 1, skipped: 0,
      duration_total_ms: 341877, started_at: '2026-04-07T18:30:50.244Z', ended_at: '2026-04-07T18:32:15.002Z',
    }));
    assert.deepEqual(data[2], withNulls(afscSchema, {
      type: 'result', afsc_run_id: '5f0c2a8e-3b7d-4c1e-9a61-0d2f7b4e8c19', installer: 'uv', status: 'timedout', duration_ms: 300004,
      installer_exit_code: null, finished_at: '2026-04-07T18:32:14.907Z', error_category: 'network', error_severity: 'Transient',
      retryable: true, confidence: 0.9, stderr_excerpt: 'curl: (28) Connection timed out after 30001 milliseconds\n', retry_count: 2, sha256_verified: false,
    }));
    assert.deepEqual([data[1]!.status, data[1]!.error_category, data[1]!.sha256_verified, data[1]!.installer_exit_code], ['passed', null, true, 0]);
  });

  test('failures of each kind, and a tracing line among the JSON skipped with a warning', () => {
    const { data, warnings } = parse('failing');
    assert.deepEqual(data.slice(1).map((d) => [d.installer, d.status, d.installer_exit_code, d.error_category, d.error_severity]), [
      ['rust', 'passed', 0, null, null], ['zoxide', 'failed', 127, 'command_not_found', 'Dependency'],
      ['atuin', 'failed', 1, 'checksum_mismatch', 'Configuration'], ['zellij', 'skipped', null, null, null],
    ]);
    assert.equal(data[1]!.finished_at, '2026-04-08T06:01:02.500Z');
    assert.match(warnings[0]!, /skipped 1 line\(s\) that are not its results/);
  });

  test('no runs yet (a pretty object even in jsonl), an empty run, and afsc\'s own error are stored as what they are', () => {
    assert.deepEqual(parse('noruns').data, [withNulls(afscSchema, { type: 'run', exit_code: 0, no_runs: true })]);
    assert.deepEqual(parse('empty').data.map((d) => [d.type, d.total, d.failed]), [['run', 0, 0]]);
    assert.deepEqual(parse('error').data, [withNulls(afscSchema, {
      type: 'run', exit_code: 1, error: 'failed to parse config file "/etc/afsc/config.toml": expected `=`, found newline at line 3 column 9',
    })]);
  });

  test('a variant: alphabetical keys, an unknown key, no summary line: results without a run id', () => {
    const { items, data } = parse('variant');
    assert.deepEqual(data[0], withNulls(afscSchema, { type: 'run', exit_code: 0, no_runs: false }));
    assert.deepEqual(items.slice(1).map((i) => i.key), ['no-run-id:bun', 'no-run-id:nvm']);
    assert.equal((items[1]!.raw as Record<string, unknown>).container, 'afsc-base:latest', 'a key vc does not read: the line is kept');
    assert.equal(items[2]!.raw, undefined, 'known keys only: no raw');
    assert.deepEqual([data[2]!.installer, data[2]!.status, data[2]!.installer_exit_code, data[2]!.error_category, data[2]!.retry_count, data[2]!.finished_at],
      ['nvm', 'failed', 126, 'permission', 1, '2026-04-10T12:00:05.123Z']);
  });

  test('garbage, a wrong shape, a usage error or a hang is a clear error naming the command', () => {
    assert.throws(() => afscItems(fixture('garbage')), /--format jsonl status printed no JSON: "Latest run/);
    assert.throws(() => afscItems(fixture('wrongshape')), /printed JSON of an unexpected shape: status/);
    assert.throws(() => afscItems(fixture('usage')), /automated_flywheel_setup_checker --format jsonl status exited 2: ".*For more information/);
    assert.throws(() => afscItems({ stdout: '{"metrics":1}\n', stderr: '', rc: 0 }), /unexpected shape \(no installer results, no run summary\)/);
    assert.throws(() => afscItems({ stdout: '', stderr: '', rc: 124 }), /did not answer in time/);
  });

  test('jsonObjects reads JSONL, pretty documents and both mixed, skipping what is not an object', () => {
    const r = jsonObjects('{\n  "errors": [],\n  "valid": true,\n  "warnings": ["a } in a string"]\n}\n{"name":"x","status":200}\nnot json\n[1,2]\n{"cut":');
    assert.deepEqual(r.objects, [{ errors: [], valid: true, warnings: ['a } in a string'] }, { name: 'x', status: 200 }]);
    assert.equal(r.skipped, 3);
    // A line that only looks like the start of an object costs that line, not what follows.
    assert.deepEqual(jsonObjects('{ not json [\n{"a":1}\n{"b":"}"}\n').objects, [{ a: 1 }, { b: '}' }]);
  });
});

/** A temp setup for vc collect --source afsc with a fake afsc first on PATH. */
function setup(toml = '') {
  const s = collectEnv('afsc', toml, { RUST_LOG: 'debug' });
  return { ...s, tool: fakeTool(s.bin, BIN, 'afsc') };
}

describe('vc collect --source afsc', () => {
  test('runs status in jsonl with RUST_LOG=off and stores the run and its results; afsc\'s own error is data', () => {
    const s = setup();
    // The fake records RUST_LOG as the step saw it (RUST_LOG=debug in vc's environment).
    fs.writeFileSync(s.tool.path, fs.readFileSync(s.tool.path, 'utf8').replace('#!/bin/sh\n', `#!/bin/sh\necho "$RUST_LOG" > ${JSON.stringify(path.join(s.bin, 'rust_log'))}\n`));
    const r = s.collect();
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(s.tool.calls(), [['--format', 'jsonl', 'status']]);
    assert.equal(fs.readFileSync(path.join(s.bin, 'rust_log'), 'utf8').trim(), 'off');
    assert.equal(s.lastRun().status, 'ok');
    assert.deepEqual(s.rows().map((l) => [l.kind, l.key, l.data.type, l.data.installer ?? null, l.data.status ?? null]), [
      ['snapshot', '5f0c2a8e-3b7d-4c1e-9a61-0d2f7b4e8c19', 'run', null, null],
      ['snapshot', '5f0c2a8e-3b7d-4c1e-9a61-0d2f7b4e8c19:bun', 'result', 'bun', 'passed'],
      ['snapshot', '5f0c2a8e-3b7d-4c1e-9a61-0d2f7b4e8c19:uv', 'result', 'uv', 'timedout'],
    ]);
    s.tool.use('error');
    assert.equal(s.collect().code, 0);
    assert.equal(s.lastRun().status, 'ok');
    assert.match(s.rows().at(-1)!.data.error, /^failed to parse config file/);
  });

  test('afsc not installed (only an `afsc` program): absent, nothing stored, exit 0', () => {
    const s = setup();
    fs.renameSync(s.tool.path, path.join(s.bin, 'afsc'));
    const r = s.collect();
    assert.equal(r.code, 0, r.stderr);
    assert.equal(s.lastRun().status, 'absent');
    assert.match(s.lastRun().warnings[0], /^automated_flywheel_setup_checker is not installed here/);
    assert.deepEqual(s.rows(), []);
  });

  test('garbage is a recorded error; an afsc that hangs is stopped at the step timeout; nothing stored', () => {
    const s = setup('[collectors.afsc]\nstep_timeout_seconds = 1\n');
    s.tool.use('garbage');
    assert.equal(s.collect().code, 1);
    assert.equal(s.lastRun().status, 'error');
    assert.match(s.lastRun().error, /status printed no JSON/);
    s.tool.use('hang');
    const t0 = Date.now();
    assert.equal(s.collect().code, 1);
    assert.ok(Date.now() - t0 < 20_000, `took ${Date.now() - t0} ms`);
    assert.match(s.lastRun().error, /did not answer in time/);
    assert.deepEqual(s.rows(), []);
  });
});

describe('afsc over ssh', { skip: sshdAvailable() ? false : 'needs root and /usr/sbin/sshd' }, () => {
  let sshd: Sshd;
  const s = setup();
  before(async () => {
    fs.chmodSync(s.dir, 0o755);
    fs.chmodSync(s.bin, 0o755);
    sshd = await startSshdWithPath(s.bin);
    fs.writeFileSync(s.env.VC_CONFIG, farMachineToml(sshd));
  });
  after(() => sshd?.stop());

  test('the same rows as locally, from the remote machine', () => {
    s.tool.use('noruns');
    const r = vc(['collect', '--source', 'afsc', '--json'], { ...s.env, XDG_RUNTIME_DIR: s.dir });
    assert.equal(r.code, 0, r.stderr + r.stdout);
    assert.deepEqual(readRaw(s.env.VC_DATA_DIR, 'afsc', 'far').map((l) => [l.data.type, l.data.no_runs]), [['run', true]]);
  });
});

describe('afsc views: given rows, expected rows', () => {
  const NOW = new Date('2026-11-24T12:00:00Z');
  const ago = (hours: number) => new Date(NOW.getTime() - hours * 3_600_000).toISOString();
  let seq = 0;
  const store = async (dir: string, machine: string, at: string, items: Array<Record<string, unknown>>) => {
    const run = `r-${++seq}`;
    const envs: Envelope[] = items.map((d) => ({
      v: 1, source: 'afsc', machine_id: machine, collected_at: at, run_id: run, collector_version: '1.0.0', schema_version: 1,
      kind: 'snapshot', data: storable(afscSchema.parse(withNulls(afscSchema, d))) as Record<string, unknown>,
    }));
    await appendEnvelopes(dir, [...envs, {
      v: 1, source: 'collector_runs', machine_id: machine, collected_at: at, run_id: run, collector_version: '1.0.0', schema_version: 1,
      kind: 'event', key: run, data: { source: 'afsc', started_at: at, ended_at: at, duration_ms: 1, bytes: 1, rows: items.length, status: 'ok', error: null, warnings: [] },
    }]);
  };
  const run = (id: string, endedHoursAgo: number, over: Record<string, unknown> = {}) => ({
    type: 'run', afsc_run_id: id, exit_code: 0, no_runs: false, total: 3, passed: 3, failed: 0, skipped: 0, duration_total_ms: 9000,
    started_at: ago(endedHoursAgo + 0.1), ended_at: ago(endedHoursAgo), ...over,
  });
  const result = (id: string, installer: string, status: string, over: Record<string, unknown> = {}) => ({
    type: 'result', afsc_run_id: id, installer, status, duration_ms: 3000, installer_exit_code: status === 'passed' ? 0 : 1,
    finished_at: ago(2), retry_count: 0, sha256_verified: status === 'passed', stderr_excerpt: '', ...over,
  });

  const fill = async (dir: string) => {
    // fails: an older collection (all passing) and the latest (two failing)
    await store(dir, 'fails', ago(3), [run('a1', 3), result('a1', 'bun', 'passed'), result('a1', 'uv', 'passed'), result('a1', 'zoxide', 'passed')]);
    await store(dir, 'fails', ago(1), [run('a2', 2, { passed: 1, failed: 2 }), result('a2', 'bun', 'passed'),
      result('a2', 'uv', 'timedout', { installer_exit_code: null, error_category: 'network', error_severity: 'Transient', retryable: true, confidence: 0.9 }),
      result('a2', 'zoxide', 'failed', { installer_exit_code: 127, error_category: 'command_not_found', error_severity: 'Dependency', retryable: false, confidence: 0.95 })]);
    // fine: all passed, but four days ago
    await store(dir, 'fine', ago(1), [run('b1', 96), result('b1', 'bun', 'passed'), result('b1', 'uv', 'passed'), result('b1', 'zoxide', 'passed')]);
    await store(dir, 'fresh', ago(1), [{ type: 'run', exit_code: 0, no_runs: true }]);
    await store(dir, 'broken', ago(1), [{ type: 'run', exit_code: 1, error: 'failed to parse config file' }]);
  };

  test('afsc_runs, afsc_results, setup_status and setup_errors: the latest collection only', async (t) => {
    const dir = tmpDir('vc-afsc-views-');
    await fill(dir);
    const s = await openSession({ dataDir: dir, now: NOW });
    t.after(() => s.close());
    assert.deepEqual(await s.query('SELECT machine_id, afsc_run_id, no_runs, failed, error FROM v1.afsc_runs ORDER BY machine_id'), [
      { machine_id: 'broken', afsc_run_id: null, no_runs: false, failed: null, error: 'failed to parse config file' },
      { machine_id: 'fails', afsc_run_id: 'a2', no_runs: false, failed: 2, error: null },
      { machine_id: 'fine', afsc_run_id: 'b1', no_runs: false, failed: 0, error: null },
      { machine_id: 'fresh', afsc_run_id: null, no_runs: true, failed: null, error: null },
    ]);
    assert.deepEqual(await s.query(`SELECT installer, status FROM v1.afsc_results WHERE machine_id = 'fails' ORDER BY installer`),
      [{ installer: 'bun', status: 'passed' }, { installer: 'uv', status: 'timedout' }, { installer: 'zoxide', status: 'failed' }]);
    assert.deepEqual(await s.query('SELECT machine_id, state, age_s, total, passed, failed, timedout, failing_installers, error_categories FROM v1.setup_status ORDER BY machine_id'), [
      { machine_id: 'broken', state: 'error', age_s: null, total: null, passed: null, failed: null, timedout: null, failing_installers: [], error_categories: [] },
      { machine_id: 'fails', state: 'failing', age_s: 7200, total: 3, passed: 1, failed: 2, timedout: 1, failing_installers: ['uv', 'zoxide'], error_categories: ['command_not_found', 'network'] },
      { machine_id: 'fine', state: 'passing', age_s: 345_600, total: 3, passed: 3, failed: 0, timedout: 0, failing_installers: [], error_categories: [] },
      { machine_id: 'fresh', state: 'no_runs', age_s: null, total: null, passed: null, failed: null, timedout: null, failing_installers: [], error_categories: [] },
    ]);
    assert.deepEqual(await s.query('SELECT machine_id, installer, status, installer_exit_code, error_category, retryable FROM v1.setup_errors ORDER BY installer'), [
      { machine_id: 'fails', installer: 'uv', status: 'timedout', installer_exit_code: null, error_category: 'network', retryable: true },
      { machine_id: 'fails', installer: 'zoxide', status: 'failed', installer_exit_code: 127, error_category: 'command_not_found', retryable: false },
    ]);
  });

  test('setup factors: failing installers, a stale run, afsc\'s error and no runs; triage shows them with runnable next steps', async (t) => {
    const dir = tmpDir('vc-afsc-views-');
    await fill(dir);
    const s = await openSession({ dataDir: dir, now: NOW });
    t.after(() => s.close());
    assert.deepEqual(await s.query(`SELECT machine_id, factor_id, value, severity, summary FROM v1.health_factors
      WHERE factor_id LIKE 'setup%' ORDER BY machine_id, factor_id`), [
      { machine_id: 'broken', factor_id: 'setup_stale', value: null, severity: 'warn', summary: 'afsc status failed: failed to parse config file' },
      { machine_id: 'fails', factor_id: 'setup_failures', value: 2, severity: 'warn',
        summary: '2 of 3 installers failed their check in afsc\'s run that ended 2026-11-24 10:00 UTC: uv (timedout, network, retryable); zoxide (failed, command_not_found)' },
      { machine_id: 'fails', factor_id: 'setup_stale', value: 2, severity: 'ok', summary: 'afsc\'s latest run ended 2h ago (2026-11-24 10:00 UTC)' },
      { machine_id: 'fine', factor_id: 'setup_failures', value: 0, severity: 'ok', summary: '0 of 3 installers failed their check in afsc\'s run that ended 2026-11-20 12:00 UTC' },
      { machine_id: 'fine', factor_id: 'setup_stale', value: 96, severity: 'warn', summary: 'afsc\'s latest run ended 4d ago (2026-11-20 12:00 UTC)' },
      { machine_id: 'fresh', factor_id: 'setup_stale', value: null, severity: 'info', summary: 'afsc has recorded no run on this machine yet' },
    ]);
    const items = await s.query(`SELECT machine_id, factor_id, title, next, fix FROM v1.triage_items WHERE factor_id LIKE 'setup%' ORDER BY machine_id, factor_id`);
    assert.deepEqual(items.map((i) => [i.machine_id, i.factor_id, i.title, i.fix]), [
      ['broken', 'setup_stale', 'broken: afsc cannot report its setup checks', 'RUST_LOG=off automated_flywheel_setup_checker status'],
      ['fails', 'setup_failures', 'fails: 2 installers failing the setup check', 'RUST_LOG=off automated_flywheel_setup_checker status'],
      ['fine', 'setup_stale', 'fine: setup last checked 4d ago', 'systemctl list-timers --all'],
    ]);
    // Every next step runs: the vc queries answer, naming only their machine.
    for (const i of items) {
      const next = i.next as string[];
      assert.equal(next.at(-1), 'vc report machines --md');
      const sql = /^vc query "(.*)"$/.exec(next[0]!)![1]!;
      assert.ok((await s.query(sql)).length > 0, sql);
    }
  });

  test('vc report machines names the failing setup as the machine\'s worst factor', async () => {
    const dir = tmpDir('vc-afsc-report-');
    await fill(dir);
    const conf = path.join(dir, 'vc.toml');
    // A machine that runs afsc only (else its other collectors, never run, would be its worst news).
    fs.writeFileSync(conf, '[[machines]]\nid = "fails"\ncollectors = { include = ["afsc"] }\n');
    const r = vc(['report', 'machines', '--json', '--as-of', NOW.toISOString()], { VC_DATA_DIR: dir, VC_CONFIG: conf });
    assert.equal(r.code, 0, r.stderr);
    const fails = JSON.parse(r.stdout).data.machines.find((m: { machine_id: string }) => m.machine_id === 'fails');
    assert.equal(fails.worst_factor, 'setup_failures');
    assert.match(fails.worst_summary, /^2 of 3 installers failed/);
  });
});
