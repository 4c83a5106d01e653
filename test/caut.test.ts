// caut: its recorded outputs (fixtures/caut, after ../shared/upstream/caut.md) parsed into items,
// collected end to end through a fake caut on PATH (locally and on a real sshd), and the views over
// what was stored: given rows, expected rows.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { cautItems, cautSchema } from '../lib/sources/caut.ts';
import { openSession } from '../lib/duck.ts';
import { appendEnvelopes } from '../lib/store.ts';
import { storable, type Envelope } from '../lib/envelope.ts';
import { collectEnv, fakeTool } from './fakes.ts';
import { readRaw, tmpDir, vc, withNulls } from './helpers.ts';
import { sshdAvailable, farMachineToml, startSshdWithPath, type Sshd } from './sshd.ts';

const fixture = (name: string) => {
  const f = (ext: string) => path.join(import.meta.dirname, '..', 'fixtures', 'caut', `${name}.${ext}`);
  const read = (ext: string) => (fs.existsSync(f(ext)) ? fs.readFileSync(f(ext), 'utf8') : '');
  return { stdout: read('out'), stderr: read('err'), rc: Number(read('rc').trim() || 0) };
};
/** Items' data with every schema key present (stored lines drop nulls; parsed ones keep them). */
const data = (items: Array<{ data: unknown }>) => items.map((i) => withNulls(cautSchema, i.data as Record<string, unknown>));

describe('caut usage --json, parsed', () => {
  test('Claude with three windows and a degraded status page, Codex identity-only: windows NULL, never 0', () => {
    const items = cautItems(fixture('default'));
    assert.deepEqual(items.map((i) => (i.data as any).type), ['run', 'provider', 'provider']);
    for (const i of items) cautSchema.parse(i.data);
    const [run, codex, claude] = data(items);
    assert.deepEqual(run, withNulls(cautSchema, { type: 'run', exit_code: 0, schema_version: 'caut.v1', generated_at: '2026-06-30T09:14:03.518Z' }));
    assert.equal(codex!.provider, 'codex');
    assert.equal(codex!.primary_used_percent, null);
    assert.equal(codex!.secondary_used_percent, null);
    assert.equal(codex!.login_method, 'oauth');
    assert.equal(codex!.account_organization, 'org-Example');
    assert.equal(codex!.status_indicator, 'none');
    assert.deepEqual(claude, withNulls(cautSchema, {
      type: 'provider', provider: 'claude', account: 'dev@example.org', source: 'oauth', login_method: 'oauth', account_organization: 'Example Ltd',
      primary_used_percent: 37, primary_window_minutes: 300, primary_resets_at: '2026-06-30T11:00:00.000Z',
      secondary_used_percent: 62.5, secondary_window_minutes: 10080, secondary_resets_at: '2026-07-03T17:00:00.000Z',
      tertiary_used_percent: 12, tertiary_window_minutes: 10080, tertiary_resets_at: '2026-07-03T17:00:00.000Z',
      updated_at: '2026-06-30T09:14:02.311Z', status_indicator: 'minor', status_description: 'Partially Degraded Service',
      status_updated_at: '2026-06-30T09:02:10.000Z',
    }));
    assert.equal((items[2]!.raw as any).usage.primary.resetDescription, 'in 1h 45m', 'caut\'s payload is kept as raw');
  });

  test('exit 1 with a whole envelope is normal: the failed provider becomes an error row, the logged-out one keeps its warning', () => {
    const [run, codex, err] = data(cautItems(fixture('partial')));
    assert.equal(run!.exit_code, 1);
    assert.equal(run!.error_code, null, 'the stderr error object of a partial failure is not a fatal error');
    assert.equal(codex!.login_method, 'cli-unauthenticated');
    assert.equal(codex!.auth_warning, 'Auth missing! Run: codex auth login');
    assert.equal(codex!.account, null);
    assert.deepEqual([err!.type, err!.provider, err!.message], ['error', 'claude', 'no available fetch strategy for provider: claude']);
  });

  test('a fatal error (no envelope, exit 3) is one run row with caut\'s error code and message', () => {
    assert.deepEqual(data(cautItems(fixture('fatal'))), [withNulls(cautSchema, {
      type: 'run', exit_code: 3, error_code: 'CAUT-A002', error_category: 'Authentication error',
      message: 'authentication invalid for claude: token rejected (HTTP 401)',
    })]);
  });

  test('no providers: only the run row', () => {
    assert.deepEqual(data(cautItems(fixture('empty'))).map((d) => d.type), ['run']);
  });

  test('a later caut: pretty output, tertiary null, filled credits and unknown keys are read; over-100 % is kept as is', () => {
    const items = cautItems(fixture('variant'));
    const [run, claude, err] = data(items);
    assert.equal(run!.generated_at, '2026-07-01T08:00:00.123Z');
    assert.equal(claude!.primary_used_percent, 96.5);
    assert.equal(claude!.primary_resets_at, '2026-07-01T09:30:00.000Z');
    assert.equal(claude!.secondary_used_percent, 101.2);
    assert.equal(claude!.tertiary_used_percent, null);
    assert.equal(claude!.updated_at, '2026-07-01T07:59:58.500Z');
    assert.deepEqual((items[1]!.raw as any).credits.remaining, 12.5, 'fields vc does not read yet are kept in raw');
    assert.equal(err!.provider, 'gemini');
  });

  test('what is not caut\'s envelope is a clear error naming the command and what it printed', () => {
    assert.throws(() => cautItems(fixture('garbage')), /caut usage --json exited 0 without its JSON envelope: "Error: .*config file/);
    assert.throws(() => cautItems(fixture('wrongshape')), /caut usage --json printed JSON of an unexpected shape: data\[0\]\.usage/);
    assert.throws(() => cautItems({ stdout: '{"schemaVersion":"caut.v2","generatedAt":"x","data":[],"errors":[]}', stderr: '', rc: 0 }), /schemaVersion "caut\.v2"; vc reads caut\.v1/);
    assert.throws(() => cautItems({ stdout: '{"schemaVersion":', stderr: '', rc: 0 }), /did not print JSON/);
    assert.throws(() => cautItems({ stdout: '', stderr: 'Segmentation fault\n', rc: 139 }), /exited 139 without its JSON envelope; stderr: "Segmentation fault"/);
  });
});

/** A temp setup for vc collect --source caut with a fake caut first on PATH. */
function setup(toml = '') {
  const s = collectEnv('caut', toml);
  return { ...s, caut: fakeTool(s.bin, 'caut') };
}

describe('vc collect --source caut', () => {
  test('calls caut usage --json with the configured provider, status and timeout, and stores one row per item', () => {
    const s = setup('[collectors.caut]\nprovider = "claude"\nprovider_timeout_seconds = 12\n');
    const r = s.collect();
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(s.caut.calls(), [['usage', '--json', '--provider', 'claude', '--status', '--timeout', '12']]);
    assert.equal(s.lastRun().status, 'ok');
    assert.equal(s.lastRun().rows, 3);
    assert.deepEqual(s.rows().map((l) => [l.kind, l.data.type, l.data.provider ?? null]), [['snapshot', 'run', null], ['snapshot', 'provider', 'codex'], ['snapshot', 'provider', 'claude']]);
    assert.equal(s.rows()[2]!.raw.usage.primary.resetDescription, 'in 1h 45m');
  });

  test('caut not installed: the run is absent, nothing stored, exit 0', () => {
    const s = setup();
    fs.rmSync(s.caut.path);
    const r = s.collect();
    assert.equal(r.code, 0, r.stderr);
    assert.equal(s.lastRun().status, 'absent');
    assert.match(s.lastRun().warnings[0], /^caut is not installed here/);
    assert.deepEqual(s.rows(), []);
  });

  test('caut\'s own failures are data (ok); garbage or a wrong shape is a recorded error and stores nothing', () => {
    const s = setup();
    s.caut.use('fatal');
    assert.equal(s.collect().code, 0);
    assert.equal(s.lastRun().status, 'ok');
    assert.equal(s.rows().at(-1)!.data.error_code, 'CAUT-A002');
    for (const c of ['garbage', 'wrongshape']) {
      const before = s.rows().length;
      s.caut.use(c);
      assert.equal(s.collect().code, 1, c);
      assert.equal(s.lastRun().status, 'error', c);
      assert.match(s.lastRun().error, /caut usage --json/, c);
      assert.equal(s.rows().length, before, `${c}: nothing stored`);
    }
  });

  test('a caut that hangs is stopped at the step timeout and recorded as an error; nothing stored', () => {
    const s = setup('[collectors.caut]\nprovider_timeout_seconds = 1\n');
    s.caut.use('hang');
    const t0 = Date.now();
    assert.equal(s.collect().code, 1);
    assert.ok(Date.now() - t0 < 40_000, `took ${Date.now() - t0} ms`);
    assert.equal(s.lastRun().status, 'error');
    assert.match(s.lastRun().error, /did not answer in time/);
    assert.deepEqual(s.rows(), []);
  });
});

describe('caut over ssh', { skip: sshdAvailable() ? false : 'needs root and /usr/sbin/sshd' }, () => {
  let sshd: Sshd;
  const s = setup();
  before(async () => {
    fs.chmodSync(s.dir, 0o755);
    fs.chmodSync(s.bin, 0o755);
    // The remote user finds the fake caut first on its PATH.
    sshd = await startSshdWithPath(s.bin);
    fs.writeFileSync(s.env.VC_CONFIG, farMachineToml(sshd));
  });
  after(() => sshd?.stop());

  test('the same rows as locally, from the remote machine', () => {
    s.caut.use('partial');
    const r = vc(['collect', '--source', 'caut', '--json'], { ...s.env, XDG_RUNTIME_DIR: s.dir });
    assert.equal(r.code, 0, r.stderr + r.stdout);
    const rows = readRaw(s.env.VC_DATA_DIR, 'caut', 'far');
    assert.deepEqual(rows.map((l) => [l.data.type, l.data.provider ?? null]), [['run', null], ['provider', 'codex'], ['error', 'claude']]);
    assert.equal(rows[0]!.data.exit_code, 1);
  });
});

describe('caut views: given rows, expected rows', () => {
  const NOW = new Date('2026-11-24T12:00:00Z');
  let seq = 0;
  const store = async (dir: string, machine: string, at: string, items: Array<Record<string, unknown>>) => {
    const run = `r-${++seq}`;
    const envs: Envelope[] = items.map((d, i) => ({
      v: 1, source: 'caut', machine_id: machine, collected_at: at, run_id: run, collector_version: '1.0.0', schema_version: 1,
      kind: 'snapshot', data: storable(cautSchema.parse(withNulls(cautSchema, d))) as Record<string, unknown>, key: `${run}-${i}`,
    }));
    await appendEnvelopes(dir, envs);
    await appendEnvelopes(dir, [{
      v: 1, source: 'collector_runs', machine_id: machine, collected_at: at, run_id: run, collector_version: '1.0.0', schema_version: 1,
      kind: 'event', key: run, data: { source: 'caut', started_at: at, ended_at: at, duration_ms: 1, bytes: 1, rows: items.length, status: 'ok', error: null, warnings: [] },
    }]);
  };

  test('caut_windows: the last run\'s windows per account, unknown windows left out', async (t) => {
    const dir = tmpDir('vc-caut-views-');
    await store(dir, 'm1', '2026-11-24T11:00:00.000Z', [
      { type: 'run', exit_code: 0 },
      { type: 'provider', provider: 'claude', account: 'a@x', primary_used_percent: 10, primary_window_minutes: 300, primary_resets_at: '2026-11-24T13:00:00.000Z' },
    ]);
    await store(dir, 'm1', '2026-11-24T11:55:00.000Z', [
      { type: 'run', exit_code: 1 },
      { type: 'provider', provider: 'claude', account: 'a@x', primary_used_percent: 80, primary_window_minutes: 300, primary_resets_at: '2026-11-24T13:00:00.000Z',
        secondary_used_percent: 40, secondary_window_minutes: 10080, secondary_resets_at: '2026-11-28T00:00:00.000Z' },
      { type: 'provider', provider: 'codex', login_method: 'cli-unauthenticated' },
      { type: 'error', provider: 'gemini', message: 'unsupported' },
    ]);
    const s = await openSession({ dataDir: dir, now: NOW });
    t.after(() => s.close());
    const rows = await s.query('SELECT machine_id, provider, account, "window", used_percent, window_minutes, resets_at FROM v1.caut_windows ORDER BY provider, "window"');
    assert.deepEqual(rows, [
      { machine_id: 'm1', provider: 'claude', account: 'a@x', window: 'primary', used_percent: 80, window_minutes: 300, resets_at: '2026-11-24T13:00:00.000Z' },
      { machine_id: 'm1', provider: 'claude', account: 'a@x', window: 'secondary', used_percent: 40, window_minutes: 10080, resets_at: '2026-11-28T00:00:00.000Z' },
    ]);
    const latest = await s.query('SELECT "type", provider FROM v1.caut_latest ORDER BY "type", provider');
    assert.deepEqual(latest, [{ type: 'error', provider: 'gemini' }, { type: 'provider', provider: 'claude' }, { type: 'provider', provider: 'codex' }, { type: 'run', provider: null }]);
  });
});
