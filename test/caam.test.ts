// caam: its outputs (fixtures/caam, after ../shared/upstream/caam.md) parsed into items, collected
// end to end through a fake caam on PATH (locally and on a real sshd), the staging views, and the
// accounts domain (caut and caam merged, time to limit, the derived recommendation, the
// account_limit factor in health and triage, vc report accounts): given rows, expected rows.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import type { z } from 'zod';
import { caamItems, caamSchema, cooldownSeconds } from '../lib/sources/caam.ts';
import { cautSchema } from '../lib/sources/caut.ts';
import { goTime } from '../lib/sources/toolrun.ts';
import { openSession } from '../lib/duck.ts';
import { REPORTS, reportContext, runReportQueries } from '../lib/report.ts';
import { appendEnvelopes } from '../lib/store.ts';
import { storable, type Envelope } from '../lib/envelope.ts';
import { collectEnv, fakeTool } from './fakes.ts';
import { readRaw, tmpDir, vc, withNulls } from './helpers.ts';
import { sshdAvailable, farMachineToml, startSshdWithPath, type Sshd } from './sshd.ts';

const step = (name: string, cmd: string) => {
  const f = (ext: string) => path.join(import.meta.dirname, '..', 'fixtures', 'caam', `${name}.${cmd}.${ext}`);
  const read = (ext: string) => (fs.existsSync(f(ext)) ? fs.readFileSync(f(ext), 'utf8') : '');
  return { stdout: read('out'), stderr: read('err'), rc: Number(read('rc').trim() || 0) };
};
const fixture = (name: string) => ({ version: step(name, 'version'), status: step(name, 'status'), limits: step(name, 'limits') });
/** Items' data with every schema key present (stored lines drop nulls; parsed ones keep them). */
const data = (items: Array<{ data: unknown }>) => items.map((i) => withNulls(caamSchema, i.data as Record<string, unknown>));
const ofType = (items: Array<Record<string, any>>, type: string) => items.filter((d) => d.type === type);

describe('caam status --json and caam limits --format json, parsed', () => {
  test('the doc\'s examples: tools with their active profile, health and cooldown; profiles with windows, errors, credits', () => {
    const items = caamItems(fixture('default'));
    for (const i of items) caamSchema.parse(i.data);
    const all = data(items);
    assert.deepEqual(all.map((d) => [d.type, d.provider, d.profile]), [
      ['run', null, null],
      ['tool', 'codex', null], ['tool', 'claude', 'alice@example.com'], ['tool', 'gemini', null],
      ['profile', 'claude', 'alice@example.com'], ['profile', 'claude', 'bob-max'], ['profile', 'codex', 'work-pro'],
    ]);
    assert.deepEqual(all[0], withNulls(caamSchema, {
      type: 'run', version: 'caam version 0.9.4 (commit 1589a72, built 2026-01-27)',
      warnings: ['claude/alice@example.com: Warning (token expires in 48m)'],
    }));
    const [codex, claude, gemini] = ofType(all, 'tool');
    assert.deepEqual([codex!.logged_in, codex!.health_status], [true, null], 'logged in, matching no vault profile');
    assert.deepEqual(claude, withNulls(caamSchema, {
      type: 'tool', provider: 'claude', profile: 'alice@example.com', logged_in: true, health_status: 'warning',
      health_expires_at: '2026-01-20T17:30:00.000Z', health_error_count: 0, cooldown_remaining_s: 42 * 60,
      identity_email: 'alice@example.com', identity_plan_type: 'max', identity_expires_at: '2026-01-20T17:30:00.000Z',
    }));
    assert.equal(gemini!.logged_in, false);
    const [alice, bob, work] = ofType(all, 'profile');
    assert.deepEqual(alice, withNulls(caamSchema, {
      type: 'profile', provider: 'claude', profile: 'alice@example.com', rank: 1, fetched_at: '2026-01-20T16:42:07.381Z',
      primary_used_percent: 23, primary_window_seconds: 18000, primary_resets_at: '2026-01-20T15:00:00.000Z',
      secondary_used_percent: 41, secondary_window_seconds: 604800, secondary_resets_at: '2026-01-24T09:00:00.000Z',
      burn_tokens_per_hour: 87030, burn_confidence: 0.8,
      // "0001-01-01T00:00:00Z" is Go's zero time: no prediction.
      estimated_depletion: null,
    }));
    assert.deepEqual([bob!.rank, bob!.error, bob!.primary_used_percent], [2, 'unauthorized: token expired or invalid', null]);
    assert.deepEqual([work!.rank, work!.plan_type, work!.primary_used_percent, work!.primary_resets_at, work!.secondary_resets_at],
      [1, 'pro', 7, '2026-01-20T18:10:00.000Z', '2026-01-25T13:00:00.000Z'], 'a local offset becomes UTC; ranks count per provider');
    assert.deepEqual([work!.credits_has_credits, work!.credits_unlimited, work!.credits_balance], [false, false, 0]);
    assert.equal((items[4]!.raw as any).usage.burn_rate.sample_size, 212, 'caam\'s row is kept as raw');
  });

  test('every row failed: the errors are data, as caam exits 0; status\'s free-text warnings and recommendations are kept', () => {
    const all = data(caamItems(fixture('expired')));
    assert.deepEqual(ofType(all, 'profile').map((d) => [d.profile, d.error]), [
      ['alice@example.com', 'API error: status 429'],
      ['bob-max', 'unauthorized: token expired or invalid'],
      ['work-pro', 'request failed: Get "https://chatgpt.com/backend-api/wham/usage": context deadline exceeded'],
    ]);
    const claude = ofType(all, 'tool').find((d) => d.provider === 'claude')!;
    assert.deepEqual([claude.health_status, claude.health_error_count, claude.identity_expires_at], ['critical', 5, null]);
    assert.deepEqual(all[0]!.recommendations, ['Run: caam refresh claude bob-max']);
    assert.equal(all[0]!.version, null, 'no version file: the fake prints nothing, so no version');
  });

  test('an empty vault with nobody logged in: the run and the tools, no profiles', () => {
    const all = data(caamItems(fixture('empty')));
    assert.deepEqual(all.map((d) => [d.type, d.provider, d.logged_in]), [['run', null, null], ['tool', 'codex', false], ['tool', 'claude', false], ['tool', 'gemini', false]]);
  });

  test('a newer caam: utilization (not the truncated percent), model windows, severities, new providers and tools; unknown keys kept in raw', () => {
    const items = caamItems(fixture('variant'));
    const all = data(items);
    for (const i of items) caamSchema.parse(i.data);
    const [carol, spare, home, grok] = ofType(all, 'profile');
    assert.deepEqual([carol!.primary_used_percent, carol!.primary_severity, carol!.rate_limit_tier], [96.12, 'critical', 'default_claude_max_20x']);
    assert.deepEqual([carol!.tertiary_used_percent, carol!.tertiary_window_seconds, carol!.tertiary_severity], [80, null, 'warning']);
    assert.deepEqual(carol!.model_windows, [
      { model: 'Opus', used_percent: 80, window_seconds: null, resets_at: '2026-03-05T09:00:00.000Z', severity: null },
      { model: 'Sonnet', used_percent: 10.5, window_seconds: null, resets_at: null, severity: null },
    ]);
    assert.deepEqual([carol!.burn_percent_per_hour, carol!.estimated_depletion, carol!.depletion_confidence], [11.5, '2026-03-02T11:51:00.000Z', 0.72]);
    assert.equal(carol!.fetched_at, '2026-03-02T11:31:44.501Z');
    assert.deepEqual([spare!.profile, spare!.rank, spare!.primary_resets_at], ['team spare', 2, null]);
    assert.deepEqual([home!.credits_balance, home!.secondary_used_percent], [12.5, null]);
    assert.deepEqual([grok!.provider, grok!.rank, grok!.error], ['grok', 1, 'quota not exposed by provider (billing only)']);
    assert.equal((items.find((i) => (i.data as any).profile === 'carol@example.org' && (i.data as any).type === 'profile')!.raw as any).credential_source.state, 'healthy');
    const tools = ofType(all, 'tool');
    assert.deepEqual(tools.map((t) => t.provider), ['agy', 'claude', 'codex', 'cursor']);
    const claude = tools[1]!;
    assert.deepEqual([claude.health_reason, claude.cooldown_remaining_s, claude.identity_account_id, claude.health_expires_at],
      ['rate limited', 3900, 'acc_0b1c2d', '2026-03-02T19:00:00.000Z']);
    assert.equal(tools[3]!.error, 'cursor: auth path unreadable');
    assert.deepEqual([all[0]!.warnings, all[0]!.version], [null, 'caam 1.4.0']);
  });

  test('what is not caam\'s JSON is a clear error naming the command and what was wrong', () => {
    assert.throws(() => caamItems(fixture('oldcli')), /caam status --json exited 1; stderr: "Error: unknown flag: --json"/);
    assert.throws(() => caamItems(fixture('garbage')), /caam status --json did not print JSON: "Warning: config file/);
    assert.throws(() => caamItems(fixture('wrongshape')), /caam limits --format json printed JSON of an unexpected shape: \(top level\): .*expected array/);
    const ok = fixture('default');
    assert.throws(() => caamItems({ ...ok, limits: { stdout: '', stderr: '', rc: 124 } }), /caam limits --format json did not answer in time/);
    assert.throws(() => caamItems({ ...ok, limits: { stdout: '[{"provider":"claude"}]', stderr: '', rc: 0 } }), /\[0\]\.profile_name/);
    assert.throws(() => caamItems({ ...ok, status: { stdout: '{"tools":[{"tool":"claude","logged_in":"yes"}]}', stderr: '', rc: 0 } }), /tools\[0\]\.logged_in/);
  });

  test('cooldown strings and Go zero times', () => {
    assert.equal(cooldownSeconds('(cooldown: 1h 5m remaining)'), 3900);
    assert.equal(cooldownSeconds('2d5h30s'), 2 * 86400 + 5 * 3600 + 30);
    assert.equal(cooldownSeconds('(cooldown: 42m remaining)'), 2520);
    assert.equal(cooldownSeconds('cooling down'), null);
    assert.equal(cooldownSeconds(undefined), null);
    assert.equal(goTime('0001-01-01T00:00:00Z'), null);
    assert.equal(goTime('2026-01-20T11:42:07.381220591-05:00'), '2026-01-20T16:42:07.381Z');
  });
});

/** A temp setup for vc collect --source caam with a fake caam first on PATH. */
function setup(toml = '') {
  const s = collectEnv('caam', toml);
  return { ...s, caam: fakeTool(s.bin, 'caam') };
}

describe('vc collect --source caam', () => {
  test('runs caam version, status --json and limits --format json, and stores one row per item', () => {
    const s = setup();
    const r = s.collect();
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(s.caam.calls(), [['version'], ['status', '--json'], ['limits', '--format', 'json']]);
    assert.equal(s.lastRun().status, 'ok');
    assert.equal(s.lastRun().rows, 7);
    assert.deepEqual(s.rows().map((l) => [l.kind, l.data.type, l.data.profile ?? null]), [
      ['snapshot', 'run', null], ['snapshot', 'tool', null], ['snapshot', 'tool', 'alice@example.com'], ['snapshot', 'tool', null],
      ['snapshot', 'profile', 'alice@example.com'], ['snapshot', 'profile', 'bob-max'], ['snapshot', 'profile', 'work-pro'],
    ]);
    assert.equal(s.rows()[4]!.raw.usage.burn_rate.sample_size, 212);
  });

  test('caam not installed: the run is absent, nothing stored, exit 0', () => {
    const s = setup();
    fs.rmSync(s.caam.path);
    const r = s.collect();
    assert.equal(r.code, 0, r.stderr);
    assert.equal(s.lastRun().status, 'absent');
    assert.match(s.lastRun().warnings[0], /^caam is not installed here/);
    assert.deepEqual(s.rows(), []);
  });

  test('a non-zero exit or garbage is a recorded error and stores nothing', () => {
    const s = setup();
    // (A wrong shape takes the same path: its message is tested on the parser above.)
    for (const [c, why] of [['oldcli', /caam status --json exited 1; stderr: "Error: unknown flag/], ['garbage', /did not print JSON/]] as const) {
      s.caam.use(c);
      assert.equal(s.collect().code, 1, c);
      assert.equal(s.lastRun().status, 'error', c);
      assert.match(s.lastRun().error, why, c);
      assert.deepEqual(s.rows(), [], `${c}: nothing stored`);
    }
  });

  test('a caam that hangs is stopped at the step timeouts and recorded as an error; nothing stored', () => {
    const s = setup('[collectors.caam]\nstatus_timeout_seconds = 1\nlimits_timeout_seconds = 1\n');
    s.caam.use('hang');
    const t0 = Date.now();
    assert.equal(s.collect().code, 1);
    assert.ok(Date.now() - t0 < 30_000, `took ${Date.now() - t0} ms`);
    assert.equal(s.lastRun().status, 'error');
    assert.match(s.lastRun().error, /caam status --json did not answer in time/);
    assert.deepEqual(s.rows(), []);
  });
});

describe('caam over ssh', { skip: sshdAvailable() ? false : 'needs root and /usr/sbin/sshd' }, () => {
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
    s.caam.use('expired');
    const r = vc(['collect', '--source', 'caam', '--json'], { ...s.env, XDG_RUNTIME_DIR: s.dir });
    assert.equal(r.code, 0, r.stderr + r.stdout);
    const rows = readRaw(s.env.VC_DATA_DIR, 'caam', 'far');
    assert.deepEqual(rows.map((l) => [l.data.type, l.data.provider ?? null, l.data.error ?? null]), [
      ['run', null, null], ['tool', 'codex', null], ['tool', 'claude', null], ['tool', 'gemini', null],
      ['profile', 'claude', 'API error: status 429'], ['profile', 'claude', 'unauthorized: token expired or invalid'],
      ['profile', 'codex', 'request failed: Get "https://chatgpt.com/backend-api/wham/usage": context deadline exceeded'],
    ]);
  });
});

// ---------------------------------------------------------------------------------------------
// Views

const NOW = new Date('2026-11-24T12:00:00Z');
const at = (hhmm: string, day = '2026-11-24') => `${day}T${hhmm}:00.000Z`;
let seq = 0;

/** Stores one successful run of `source` on `machine` at `when`, its items given as data. */
async function store(dir: string, source: 'caut' | 'caam', machine: string, when: string, items: Array<Record<string, unknown>>) {
  const schema: z.ZodObject = source === 'caut' ? cautSchema : caamSchema;
  const run = `${source}-${++seq}`;
  const envs: Envelope[] = items.map((d, i) => ({
    v: 1, source, machine_id: machine, collected_at: when, run_id: run, collector_version: '1.0.0', schema_version: 1,
    kind: 'snapshot', data: storable(schema.parse(withNulls(schema, d))) as Record<string, unknown>, key: `${run}-${i}`,
  }));
  await appendEnvelopes(dir, envs);
  await appendEnvelopes(dir, [{
    v: 1, source: 'collector_runs', machine_id: machine, collected_at: when, run_id: run, collector_version: '1.0.0', schema_version: 1,
    kind: 'event', key: run, data: { source, started_at: when, ended_at: when, duration_ms: 1, bytes: 1, rows: items.length, status: 'ok', error: null, warnings: [] },
  }]);
}

const cautClaude = (when: string, primary: number, secondary: number, primaryResets = at('14:00')) => ({
  type: 'provider', provider: 'claude', account: 'a@x', login_method: 'oauth', updated_at: when,
  primary_used_percent: primary, primary_window_minutes: 300, primary_resets_at: primaryResets,
  secondary_used_percent: secondary, secondary_window_minutes: 10080, secondary_resets_at: at('09:00', '2026-11-27'),
});

/**
 * The fleet of the accounts tests, at NOW = 12:00:
 *   m1  caut and caam, Claude account a@x (caam profile "alice", active): caut saw the 5-hour
 *       window at 40, 50, 60 % (10:30-11:30, +20 %/h; a 09:00 reading belongs to the window before),
 *       caam read 85 % at 11:50: at 20 %/h the limit is 35 min away. Weekly 68.5-71 % (+1 %/h).
 *       caam's other profiles: "spare" (10/20 %, caam's first), "broken" (unauthorized).
 *   m2  caut only, Codex c@x: 5-hour at 80 then 96 % (+32 %/h): at its limit before the 12:30
 *       reset; weekly rising but resetting first; a window that has reset since it was read.
 *   m3  caam only, Codex logged in with no matching profile: nothing in use.
 *   m4  caam only, active profile "solo" at 97 %: no other profile to switch to.
 */
async function fleet(dir: string) {
  await store(dir, 'caut', 'm1', at('09:00'), [{ type: 'run', exit_code: 0 }, cautClaude(at('09:00'), 90, 68.5, at('09:30'))]);
  await store(dir, 'caut', 'm1', at('10:30'), [{ type: 'run', exit_code: 0 }, cautClaude(at('10:30'), 40, 70)]);
  await store(dir, 'caut', 'm1', at('11:00'), [{ type: 'run', exit_code: 0 }, cautClaude(at('11:00'), 50, 70.5)]);
  await store(dir, 'caut', 'm1', at('11:30'), [{ type: 'run', exit_code: 0 }, cautClaude(at('11:30'), 60, 71)]);
  await store(dir, 'caam', 'm1', at('11:50'), [
    { type: 'run', version: 'caam 1.4.0' },
    { type: 'tool', provider: 'claude', profile: 'alice', logged_in: true, health_status: 'healthy', identity_email: 'a@x' },
    { type: 'tool', provider: 'codex', logged_in: false },
    { type: 'profile', provider: 'claude', profile: 'spare', rank: 1, fetched_at: at('11:50'),
      primary_used_percent: 10, primary_window_seconds: 18000, primary_resets_at: at('15:00'),
      secondary_used_percent: 20, secondary_window_seconds: 604800, secondary_resets_at: at('09:00', '2026-11-28') },
    { type: 'profile', provider: 'claude', profile: 'alice', rank: 2, fetched_at: at('11:50'),
      primary_used_percent: 85, primary_window_seconds: 18000, primary_resets_at: at('14:00'),
      secondary_used_percent: 70, secondary_window_seconds: 604800, secondary_resets_at: at('09:00', '2026-11-27'),
      model_windows: [{ model: 'Opus', used_percent: 30, window_seconds: null, resets_at: at('09:00', '2026-11-27'), severity: null }] },
    { type: 'profile', provider: 'claude', profile: 'broken', rank: 3, fetched_at: at('11:50'), error: 'unauthorized: token expired or invalid' },
  ]);
  const cautCodex = (when: string, primary: number, secondary: number) => ({
    type: 'provider', provider: 'codex', account: 'c@x', login_method: 'oauth', updated_at: when,
    primary_used_percent: primary, primary_window_minutes: 300, primary_resets_at: at('12:30'),
    secondary_used_percent: secondary, secondary_window_minutes: 10080, secondary_resets_at: at('12:30'),
    tertiary_used_percent: 99, tertiary_window_minutes: 10080, tertiary_resets_at: at('11:45'),
  });
  await store(dir, 'caut', 'm2', at('11:00'), [{ type: 'run', exit_code: 0 }, cautCodex(at('11:00'), 80, 50)]);
  await store(dir, 'caut', 'm2', at('11:30'), [{ type: 'run', exit_code: 0 }, cautCodex(at('11:30'), 96, 60)]);
  await store(dir, 'caam', 'm3', at('11:40'), [
    { type: 'run' },
    { type: 'tool', provider: 'codex', logged_in: true },
    { type: 'profile', provider: 'codex', profile: 'p1', rank: 1, fetched_at: at('11:40'), error: 'API error: status 429' },
    { type: 'profile', provider: 'codex', profile: 'team two', rank: 2, fetched_at: at('11:40'), primary_used_percent: 50, primary_window_seconds: 18000 },
  ]);
  await store(dir, 'caam', 'm4', at('11:40'), [
    { type: 'run' },
    { type: 'tool', provider: 'claude', profile: 'solo', logged_in: true },
    { type: 'profile', provider: 'claude', profile: 'solo', rank: 1, fetched_at: at('11:40'),
      primary_used_percent: 97, primary_window_seconds: 18000, primary_resets_at: at('13:00') },
  ]);
}

describe('caam and accounts views: given rows, expected rows', () => {
  // One session for the read-only tests below: opening one costs more than their queries.
  let shared: Awaited<ReturnType<typeof openSession>>;
  before(async () => {
    const dir = tmpDir('vc-caam-views-');
    await fleet(dir);
    shared = await openSession({ dataDir: dir, now: NOW });
  });
  after(() => shared?.close());
  const session = async (_t: unknown) => shared;

  test('staging: caam_tools, caam_profiles and caam_limits of each machine\'s last run', async (t) => {
    const s = await session(t);
    assert.deepEqual(await s.query(`SELECT machine_id, tool, logged_in, active_profile FROM v1.caam_tools ORDER BY ALL`), [
      { machine_id: 'm1', tool: 'claude', logged_in: true, active_profile: 'alice' },
      { machine_id: 'm1', tool: 'codex', logged_in: false, active_profile: null },
      { machine_id: 'm3', tool: 'codex', logged_in: true, active_profile: null },
      { machine_id: 'm4', tool: 'claude', logged_in: true, active_profile: 'solo' },
    ]);
    assert.deepEqual(await s.query(`SELECT profile, "rank", active, error FROM v1.caam_profiles WHERE machine_id = 'm1' ORDER BY "rank"`), [
      { profile: 'spare', rank: 1, active: false, error: null },
      { profile: 'alice', rank: 2, active: true, error: null },
      { profile: 'broken', rank: 3, active: false, error: 'unauthorized: token expired or invalid' },
    ]);
    assert.deepEqual(await s.query(`SELECT "window", used_percent, window_seconds, resets_at FROM v1.caam_limits WHERE machine_id = 'm1' AND profile = 'alice' ORDER BY "window"`), [
      { window: 'model:Opus', used_percent: 30, window_seconds: null, resets_at: '2026-11-27T09:00:00.000Z' },
      { window: 'primary', used_percent: 85, window_seconds: 18000, resets_at: '2026-11-24T14:00:00.000Z' },
      { window: 'secondary', used_percent: 70, window_seconds: 604800, resets_at: '2026-11-27T09:00:00.000Z' },
    ]);
  });

  test('accounts: caut\'s live login is caam\'s active profile; one row per account, never two', async (t) => {
    const s = await session(t);
    const rows = await s.query(`SELECT machine_id, provider, account, profile, in_use, seen_by, caam_rank, caam_error, headroom_percent,
      worst_window, worst_used_percent, time_to_limit_s, limit_window FROM v1.accounts ORDER BY machine_id, provider, account`);
    assert.deepEqual(rows, [
      { machine_id: 'm1', provider: 'claude', account: 'a@x', profile: 'alice', in_use: true, seen_by: ['caut', 'caam'], caam_rank: 2, caam_error: null,
        headroom_percent: 15, worst_window: 'primary', worst_used_percent: 85, time_to_limit_s: 35 * 60, limit_window: 'primary' },
      { machine_id: 'm1', provider: 'claude', account: 'broken', profile: 'broken', in_use: false, seen_by: ['caam'], caam_rank: 3,
        caam_error: 'unauthorized: token expired or invalid', headroom_percent: null, worst_window: null, worst_used_percent: null, time_to_limit_s: null, limit_window: null },
      { machine_id: 'm1', provider: 'claude', account: 'spare', profile: 'spare', in_use: false, seen_by: ['caam'], caam_rank: 1, caam_error: null,
        headroom_percent: 80, worst_window: 'secondary', worst_used_percent: 20, time_to_limit_s: null, limit_window: null },
      { machine_id: 'm2', provider: 'codex', account: 'c@x', profile: null, in_use: true, seen_by: ['caut'], caam_rank: null, caam_error: null,
        headroom_percent: 4, worst_window: 'primary', worst_used_percent: 96, time_to_limit_s: 0, limit_window: 'primary' },
      { machine_id: 'm3', provider: 'codex', account: 'p1', profile: 'p1', in_use: false, seen_by: ['caam'], caam_rank: 1,
        caam_error: 'API error: status 429', headroom_percent: null, worst_window: null, worst_used_percent: null, time_to_limit_s: null, limit_window: null },
      { machine_id: 'm3', provider: 'codex', account: 'team two', profile: 'team two', in_use: false, seen_by: ['caam'], caam_rank: 2, caam_error: null,
        headroom_percent: 50, worst_window: 'primary', worst_used_percent: 50, time_to_limit_s: null, limit_window: null },
      { machine_id: 'm4', provider: 'claude', account: 'solo', profile: 'solo', in_use: true, seen_by: ['caam'], caam_rank: 1, caam_error: null,
        headroom_percent: 3, worst_window: 'primary', worst_used_percent: 97, time_to_limit_s: null, limit_window: null },
    ]);
  });

  test('account_windows: the fresher reading, the slope of caut\'s runs in this window period, time to limit respecting the reset', async (t) => {
    const s = await session(t);
    const rows = await s.query(`SELECT machine_id, "window", window_label, used_percent, measured_by, caut_used_percent, caam_used_percent,
      percent_per_hour, trend_samples, is_reset, resets_first, limit_at, time_to_limit_s
      FROM v1.account_windows WHERE in_use ORDER BY machine_id, "window"`);
    assert.deepEqual(rows, [
      // caam's 85 % at 11:50 is newer than caut's 60 % at 11:30; the slope is caut's 40-50-60 over
      // 10:30-11:30 (the 09:00 reading had another reset time): 20 %/h, so 15 % more takes 45 min: 12:35.
      { machine_id: 'm1', window: 'model:Opus', window_label: 'Opus', used_percent: 30, measured_by: 'caam', caut_used_percent: null, caam_used_percent: 30,
        percent_per_hour: null, trend_samples: 0, is_reset: false, resets_first: false, limit_at: null, time_to_limit_s: null },
      { machine_id: 'm1', window: 'primary', window_label: '5-hour', used_percent: 85, measured_by: 'caam', caut_used_percent: 60, caam_used_percent: 85,
        percent_per_hour: 20, trend_samples: 3, is_reset: false, resets_first: false, limit_at: '2026-11-24T12:35:00.000Z', time_to_limit_s: 2100 },
      // Weekly: caut's 68.5 (09:00), 70, 70.5, 71 share a reset time: 1 %/h (least squares over
      // 2.5 h); from caam's 70 % at 11:50, 30 % more takes 30 h: 2026-11-25 17:50, before the reset.
      { machine_id: 'm1', window: 'secondary', window_label: 'weekly', used_percent: 70, measured_by: 'caam', caut_used_percent: 71, caam_used_percent: 70,
        percent_per_hour: 1, trend_samples: 4, is_reset: false, resets_first: false, limit_at: '2026-11-25T17:50:00.000Z', time_to_limit_s: 30 * 3600 - 10 * 60 },
      // 96 % at 11:30 after 80 % at 11:00: 32 %/h reaches 100 % at 11:37:30, before the 12:30 reset: at the limit now.
      { machine_id: 'm2', window: 'primary', window_label: '5-hour', used_percent: 96, measured_by: 'caut', caut_used_percent: 96, caam_used_percent: null,
        percent_per_hour: 32, trend_samples: 2, is_reset: false, resets_first: false, limit_at: '2026-11-24T11:37:30.000Z', time_to_limit_s: 0 },
      // 50 -> 60 % in half an hour: 100 % at 13:30, after the 12:30 reset: no time to limit.
      { machine_id: 'm2', window: 'secondary', window_label: 'weekly', used_percent: 60, measured_by: 'caut', caut_used_percent: 60, caam_used_percent: null,
        percent_per_hour: 20, trend_samples: 2, is_reset: false, resets_first: true, limit_at: null, time_to_limit_s: null },
      // Reset at 11:45, after it was read: its 99 % is history.
      { machine_id: 'm2', window: 'tertiary', window_label: 'weekly model-scoped', used_percent: 99, measured_by: 'caut', caut_used_percent: 99, caam_used_percent: null,
        percent_per_hour: 0, trend_samples: 2, is_reset: true, resets_first: false, limit_at: null, time_to_limit_s: null },
      { machine_id: 'm4', window: 'primary', window_label: '5-hour', used_percent: 97, measured_by: 'caam', caut_used_percent: null, caam_used_percent: 97,
        percent_per_hour: null, trend_samples: 0, is_reset: false, resets_first: false, limit_at: null, time_to_limit_s: null },
    ]);
  });

  test('caam_recommendations: caam\'s --best, the profile with most headroom, the urgency, the switch command quoted for sh', async (t) => {
    const s = await session(t);
    assert.deepEqual(await s.query(`SELECT * FROM v1.caam_recommendations ORDER BY machine_id`), [
      { machine_id: 'm1', provider: 'claude', profiles: 3, current_profile: 'alice', current_load_percent: 85, caam_best_profile: 'spare',
        best_profile: 'spare', best_headroom_percent: 80, urgency: 'soon', switch: true, command: 'caam activate claude spare' },
      { machine_id: 'm3', provider: 'codex', profiles: 2, current_profile: null, current_load_percent: null, caam_best_profile: 'team two',
        best_profile: 'team two', best_headroom_percent: 50, urgency: 'none', switch: true, command: `caam activate codex 'team two'` },
      { machine_id: 'm4', provider: 'claude', profiles: 1, current_profile: 'solo', current_load_percent: 97, caam_best_profile: 'solo',
        best_profile: 'solo', best_headroom_percent: 3, urgency: 'now', switch: false, command: 'caam activate claude solo' },
    ]);
  });

  test('account_limit in health and triage: graded windows of accounts in use, the accounts report next, caam\'s switch as the fix', async (t) => {
    const s = await session(t);
    const factors = await s.query(`SELECT machine_id, subject, value, severity, fix FROM health_factors WHERE factor_id = 'account_limit' ORDER BY machine_id, subject`);
    assert.deepEqual(factors, [
      { machine_id: 'm1', subject: 'claude a@x model:Opus', value: 30, severity: 'ok', fix: 'caam activate claude spare' },
      { machine_id: 'm1', subject: 'claude a@x primary', value: 85, severity: 'warn', fix: 'caam activate claude spare' },
      // spare's 20 % weekly is more headroom than 30 % left: switching helps this window too.
      { machine_id: 'm1', subject: 'claude a@x secondary', value: 70, severity: 'ok', fix: 'caam activate claude spare' },
      { machine_id: 'm2', subject: 'codex c@x primary', value: 96, severity: 'crit', fix: null },
      { machine_id: 'm2', subject: 'codex c@x secondary', value: 60, severity: 'ok', fix: null },
      { machine_id: 'm4', subject: 'claude solo primary', value: 97, severity: 'crit', fix: null },
    ]);
    const items = await s.query(`SELECT machine_id, title, why, next, fix FROM v1.triage_items WHERE factor_id = 'account_limit' ORDER BY machine_id`);
    assert.deepEqual(items.map((i) => [i.machine_id, i.title, i.fix]), [
      ['m1', 'm1: claude a@x 5-hour window 85.0% used', 'caam activate claude spare'],
      ['m2', 'm2: codex c@x 5-hour window 96.0% used', null],
      ['m4', 'm4: claude solo 5-hour window 97.0% used', null],
    ]);
    assert.equal(items[0]!.why, 'claude account a@x has used 85.0% of its 5-hour window (caam, 10m ago); it resets at 2026-11-24 14:00 UTC (in 2h); at 20.0% an hour it reaches the limit in 35m');
    assert.equal(items[1]!.why, 'codex account c@x has used 96.0% of its 5-hour window (caut, 30m ago); it resets at 2026-11-24 12:30 UTC (in 30m); it is at its limit');
    assert.match(String(items[2]!.why), /no rising trend in caut's recent runs$/);
    for (const i of items) assert.deepEqual(i.next, ['vc report accounts --md', 'vc report machines --md']);
  });
});

test('a caut login with no e-mail and no caam is one account, "(unknown)", still graded', async (t) => {
  const dir = tmpDir('vc-caam-unknown-');
  await store(dir, 'caut', 'm5', at('11:30'), [{ type: 'run', exit_code: 0 }, { type: 'provider', provider: 'codex', login_method: 'oauth-partial',
    updated_at: at('11:30'), primary_used_percent: 81, primary_window_minutes: 300, primary_resets_at: at('13:00') }]);
  const s = await openSession({ dataDir: dir, now: NOW });
  t.after(() => s.close());
  assert.deepEqual(await s.query(`SELECT account, profile, in_use, headroom_percent FROM v1.accounts`), [{ account: '(unknown)', profile: null, in_use: true, headroom_percent: 19 }]);
  assert.deepEqual(await s.query(`SELECT subject, value, fix FROM v1.accounts_factors`), [{ subject: 'codex (unknown) primary', value: 81, fix: null }]);
});

describe('vc report accounts', () => {
  test('--json: the envelope with the accounts, windows, recommendations and alerts; --md: the same for people', async (t) => {
    const dir = tmpDir('vc-caam-report-');
    await fleet(dir);
    const conf = path.join(dir, 'vc.toml');
    fs.writeFileSync(conf, '');
    const env = { VC_DATA_DIR: dir, VC_CONFIG: conf };
    const r = vc(['report', 'accounts', '--json', '--as-of', NOW.toISOString()], env);
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout);
    assert.equal(out.schema_version, 'vc.accounts.v1');
    assert.deepEqual(Object.keys(out.data), ['alerts', 'accounts', 'windows', 'recommendations', 'tools', 'notes']);
    assert.deepEqual(out.data.alerts.map((a: any) => [a.machine_id, a.subject, a.used_percent, a.severity, a.fix]), [
      ['m4', 'claude solo primary', 97, 'crit', null],
      ['m2', 'codex c@x primary', 96, 'crit', null],
      ['m1', 'claude a@x primary', 85, 'warn', 'caam activate claude spare'],
    ]);
    assert.equal(out.data.accounts.length, 7);
    assert.deepEqual(out.data.recommendations.map((x: any) => [x.machine_id, x.urgency, x.switch]), [['m4', 'now', false], ['m1', 'soon', true], ['m3', 'none', true]]);
    assert.deepEqual(out.data.notes, []);
    assert.equal(out.data.windows[0].in_use, true);

    // The Markdown in process (a vc spawn costs seconds on a busy machine): the same queries and renderer.
    const s = await openSession({ dataDir: dir, now: NOW });
    t.after(() => s.close());
    const report = (await REPORTS.accounts!()).default;
    const md = { stdout: report.render(await runReportQueries('accounts', s), { ...(await reportContext(s, NOW, [])), options: {} }) };
    assert.match(md.stdout, /^# vc accounts · 2026-11-24 12:00 UTC\n/);
    assert.match(md.stdout, /## Near a limit\n\n\| severity \| machine \| window \| used \| why \| fix \|/);
    assert.match(md.stdout, /\| warn \| m1 \| claude a@x primary \| 85% \| .* \| `caam activate claude spare` \|/);
    assert.match(md.stdout, /\| m1 \| claude a@x \| 5-hour \| 85% \| caam 11:50 UTC \| 2026-11-24 14:00 UTC \| 20%\/h \| in 35m \|/);
    assert.match(md.stdout, /\| m2 \| codex c@x \| weekly \| 60% \| caut 11:30 UTC \| 2026-11-24 12:30 UTC \| 20%\/h \| resets first \|/);
    assert.match(md.stdout, /\| m3 \| codex \|  \|  \| none \| team two \(50%\) \| team two \| `caam activate codex 'team two'` \|/);
  });
});
