// cass: its recorded outputs (fixtures/cass, after ../shared/upstream/cass.md) parsed into items,
// collected end to end through a fake cass on PATH (locally and on a real sshd), the views over what
// was stored (given rows, expected rows), and vc report sessions over ntm and cass rows.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { cassItems, cassSchema } from '../lib/sources/cass.ts';
import { ntmSchema } from '../lib/sources/ntm.ts';
import { openSession, type Session } from '../lib/duck.ts';
import { runReportQueries } from '../lib/report.ts';
import { appendEnvelopes } from '../lib/store.ts';
import { storable, type Envelope } from '../lib/envelope.ts';
import { fakeTool } from './fakes.ts';
import { readRaw, tmpDir, vc, withNulls, writeExecutable } from './helpers.ts';
import { sshdAvailable, farMachineToml, startSshdWithPath, type Sshd } from './sshd.ts';

const FIXTURES = path.join(import.meta.dirname, '..', 'fixtures', 'cass');
/** A step's recorded output: `<case>.<arg>.*` where that exists, else `<case>.*` (as the fake serves it). */
const step = (name: string, arg: string) => {
  const own = ['out', 'err', 'rc'].some((e) => fs.existsSync(path.join(FIXTURES, `${name}.${arg}.${e}`)));
  const base = path.join(FIXTURES, own ? `${name}.${arg}` : name);
  const read = (ext: string) => (fs.existsSync(`${base}.${ext}`) ? fs.readFileSync(`${base}.${ext}`, 'utf8') : '');
  return { stdout: read('out'), stderr: read('err'), rc: Number(read('rc').trim() || 0) };
};
const steps = (name: string) => ({ version: step(name, 'api-version'), health: step(name, 'health'), stats: step(name, 'stats'), timeline: step(name, 'timeline') });
const parse = (name: string) => cassItems(steps(name));
const data = (items: Array<{ data: unknown }>) => items.map((i) => withNulls(cassSchema, i.data as Record<string, unknown>));
const of = (items: Array<Record<string, any>>, type: string) => items.filter((d) => d.type === type);

describe('cass robot output, parsed', () => {
  test('a healthy archive: version, health with the index state, stats by agent and workspace, hour buckets from epoch ms', () => {
    const items = parse('default');
    for (const i of items) cassSchema.parse(i.data);
    const d = data(items);
    assert.deepEqual(d.map((x) => x.type), ['run', 'health', 'stats', 'agent', 'agent', 'agent', 'workspace', 'workspace', 'timeline',
      'bucket', 'bucket', 'bucket', 'bucket', 'bucket']);
    assert.deepEqual(d[0], withNulls(cassSchema, { type: 'run', cass_version: '0.6.25', contract_version: '1', build_commit: '2a1fc6f8' }));
    assert.deepEqual(d[1], withNulls(cassSchema, {
      type: 'health', exit_code: 0, status: 'healthy', healthy: true, health_level: 'healthy', initialized: true, exit_policy: 'archive',
      errors: [], warnings: [], recommended_commands: [], latency_ms: 31, db_exists: true, db_opened: true,
      index_exists: true, index_status: 'ready', index_fresh: true, index_stale: false, last_indexed_at: '2026-08-22T10:15:39.000Z',
      index_age_s: 83, stale_threshold_s: 86400, documents: 412930, rebuilding: false, rebuild_stalled: false,
      pending_sessions: 2, watch_active: true, quarantined_conversations: 0, reported_at: '2026-08-22T10:17:02.000Z',
    }));
    assert.deepEqual(d[2], withNulls(cassSchema, {
      type: 'stats', conversations: 1843, messages: 96211, oldest_at: '2025-11-21T08:12:44.120Z', newest_at: '2026-08-22T09:51:02.007Z',
      raw_mirror_bytes: 734003200, raw_mirror_missing_blobs: 0, newest_capture_at: '2026-08-22T09:51:02.007Z',
    }));
    assert.deepEqual(of(d, 'agent').map((a) => [a.agent, a.conversations]), [['claude_code', 1207], ['codex', 588], ['unknown', 48]]);
    assert.deepEqual(of(d, 'workspace').map((w) => [w.workspace, w.conversations]), [['/home/dev/src/vc', 402], ['/home/dev/src/api', 311]]);
    assert.deepEqual(of(d, 'timeline')[0], withNulls(cassSchema, {
      type: 'timeline', range_start: '2026-08-20T10:17:03.000Z', range_end: '2026-08-22T10:17:03.000Z', total_sessions: 5,
    }));
    // The group keys come in no order; the first hour is cut by the range's start.
    assert.deepEqual(of(d, 'bucket').map((b) => [b.bucket_start, b.agent, b.sessions, b.messages, b.complete, b.bucket_hours]), [
      ['2026-08-20T10:00:00.000Z', 'codex', 1, 30, false, 1],
      ['2026-08-21T18:00:00.000Z', 'claude_code', 1, 41, true, 1],
      ['2026-08-21T18:00:00.000Z', 'unknown', 1, 3, true, 1],
      ['2026-08-22T09:00:00.000Z', 'claude_code', 1, 12, true, 1],
      ['2026-08-22T09:00:00.000Z', 'codex', 1, 64, true, 1],
    ]);
  });

  test('a stale index (health exits 1 with its whole JSON): the age and threshold as cass reported them', () => {
    const h = of(data(parse('stale')), 'health')[0]!;
    assert.deepEqual([h.exit_code, h.status, h.healthy, h.errors, h.index_status, h.index_age_s, h.last_indexed_at, h.watch_active, h.recommended_commands],
      [1, 'unhealthy', false, ['index stale'], 'stale', 188222, '2026-08-20T06:00:00.000Z', false, ['cass index --json']]);
  });

  test('no archive yet: health not_initialized is data; stats and timeline fail with missing-db (stderr, exit 3): error rows', () => {
    const d = data(parse('uninit'));
    assert.deepEqual(d.map((x) => x.type), ['run', 'health', 'error', 'error']);
    assert.deepEqual([d[1]!.status, d[1]!.initialized, d[1]!.index_age_s, d[1]!.recommended_commands],
      ['not_initialized', false, null, ['cass index --full --json', 'cass health --json']]);
    assert.deepEqual(d[2], withNulls(cassSchema, {
      type: 'error', step: 'stats', exit_code: 3, error_code: 3, error_kind: 'missing-db',
      message: 'Database not found at /home/dev/.local/share/coding-agent-search/agent_search.db. Run \'cass index --full\' first.',
      hint: 'Run \'cass index --full\' to create the database.', retryable: true,
    }));
    assert.equal(d[3]!.step, 'timeline');
  });

  test('a lock held (exit 7) and a budget exceeded (exit 8) are error rows; health still stored', () => {
    const d = data(parse('busy'));
    assert.deepEqual(d.map((x) => [x.type, x.step, x.error_kind]), [['run', null, null], ['health', null, null], ['error', 'stats', 'index-busy'], ['error', 'timeline', 'timeout']]);
  });

  test('an empty archive: zero totals, no agents, no buckets; unknown dates stay NULL', () => {
    const d = data(parse('empty'));
    assert.deepEqual(d.map((x) => x.type), ['run', 'health', 'stats', 'timeline']);
    assert.deepEqual([d[2]!.conversations, d[2]!.oldest_at, d[2]!.newest_capture_at, d[3]!.total_sessions], [0, null, null, 0]);
  });

  test('an older cass: no exit_policy or build_commit, a 300 s threshold, rebuilding; pretty stats with a NULL agent; ungrouped timeline', () => {
    const d = data(parse('variant'));
    assert.deepEqual([d[0]!.cass_version, d[0]!.build_commit], ['0.6.11', null]);
    const h = of(d, 'health')[0]!;
    assert.deepEqual([h.status, h.exit_policy, h.stale_threshold_s, h.rebuilding, h.rebuild_phase, h.rebuild_completion],
      ['rebuilding', null, 300, true, 'indexing', 0.42]);
    assert.deepEqual(of(d, 'agent').map((a) => a.agent), ['claude_code', 'codex', 'unknown']);
    assert.deepEqual(of(d, 'bucket').map((b) => [b.bucket_start, b.agent, b.sessions, b.messages]), [
      ['2026-08-02T23:00:00.000Z', 'gemini', 1, 2], ['2026-08-03T09:00:00.000Z', 'codex', 2, 15],
    ]);
  });

  test('toon, a wrong shape, a bad group key or a hang is a clear error naming the command', () => {
    assert.throws(() => parse('garbage'), /cass api-version --json exited 0 without its JSON output: "status: healthy/);
    assert.throws(() => parse('wrongshape'), /cass health --json printed JSON of an unexpected shape: status: .*; healthy/);
    const s = steps('default');
    assert.throws(() => cassItems({ ...s, timeline: { stdout: '{"range":{"start":1,"end":2},"total_sessions":0,"groups":{"yesterday":[]}}', stderr: '', rc: 0 } }),
      /cass timeline --json printed a group key that is neither an hour nor a day: "yesterday"/);
    assert.throws(() => cassItems({ ...s, timeline: { stdout: '{"range":{"start":1,"end":2},"total_sessions":0}', stderr: '', rc: 0 } }), /groups: neither groups nor sessions/);
    assert.throws(() => cassItems({ ...s, stats: { stdout: '', stderr: '', rc: 124 } }), /cass stats --json did not answer in time/);
    assert.throws(() => cassItems({ ...s, health: { stdout: '', stderr: 'thread main panicked\n', rc: 101 } }), /cass health --json exited 101 without its JSON output; stderr: "thread main panicked"/);
  });
});

/**
 * A temp setup for vc collect --source cass: the fake cass behind a wrapper that prints toon when
 * an output-format variable is set or it is not run from / (where no .env file can switch it).
 */
function setup(toml = '') {
  const dir = tmpDir('vc-cass-');
  const bin = path.join(dir, 'bin');
  const fakes = path.join(dir, 'fakes');
  fs.mkdirSync(bin);
  fs.mkdirSync(fakes);
  const cass = fakeTool(fakes, 'cass');
  writeExecutable(bin, 'cass', `#!/bin/sh
if [ -n "\${CASS_OUTPUT_FORMAT}\${TOON_DEFAULT_FORMAT}" ] || [ "$(pwd)" != / ]; then printf 'status: healthy\\n'; exit 0; fi
exec ${JSON.stringify(cass.path)} "$@"
`);
  const conf = path.join(dir, 'vc.toml');
  fs.writeFileSync(conf, `[collectors.cass]\nstep_timeout_seconds = 1\n${toml}`);
  const env = { VC_DATA_DIR: path.join(dir, 'data'), VC_CONFIG: conf, PATH: `${bin}:${process.env.PATH}`, CASS_OUTPUT_FORMAT: 'toon', TOON_DEFAULT_FORMAT: 'toon' };
  const collect = () => vc(['collect', '--source', 'cass', '--json'], env);
  const lastRun = () => readRaw(env.VC_DATA_DIR, 'collector_runs', 'local').at(-1)!.data;
  return { dir, bin, fakes, cass, env, collect, lastRun, rows: () => readRaw(env.VC_DATA_DIR, 'cass', 'local') };
}

describe('vc collect --source cass', () => {
  test('four read-only commands with the format pinned and the configured threshold and days; a row per item', () => {
    const s = setup('stale_threshold_seconds = 3600\ntimeline_days = 3\n');
    const r = s.collect();
    assert.equal(r.code, 0, r.stderr + r.stdout);
    const f = ['--json', '--robot-format', 'compact'];
    assert.deepEqual(s.cass.calls(), [['api-version', ...f], ['health', ...f, '--stale-threshold', '3600'], ['stats', ...f],
      ['timeline', ...f, '--since', '3d', '--group-by', 'hour']]);
    assert.equal(s.lastRun().status, 'ok');
    assert.deepEqual(s.rows().map((l) => l.data.type), ['run', 'health', 'stats', 'agent', 'agent', 'agent', 'workspace', 'workspace', 'timeline',
      'bucket', 'bucket', 'bucket', 'bucket', 'bucket']);
    assert.ok(s.rows().every((l) => l.kind === 'snapshot'));
  });

  test('cass not installed: absent; cass\'s own errors are data; toon output or a crash is a recorded error storing nothing', () => {
    const s = setup();
    fs.renameSync(path.join(s.bin, 'cass'), path.join(s.bin, 'cass.off'));
    assert.equal(s.collect().code, 0);
    assert.equal(s.lastRun().status, 'absent');
    assert.match(s.lastRun().warnings[0], /^cass is not installed here/);
    assert.deepEqual(s.rows(), []);
    fs.renameSync(path.join(s.bin, 'cass.off'), path.join(s.bin, 'cass'));

    s.cass.use('uninit');
    assert.equal(s.collect().code, 0);
    assert.equal(s.lastRun().status, 'ok');
    assert.deepEqual(s.rows().map((l) => [l.data.type, l.data.error_kind ?? null]), [['run', null], ['health', null], ['error', 'missing-db'], ['error', 'missing-db']]);
    for (const c of ['garbage', 'crash']) {
      const before = s.rows().length;
      s.cass.use(c);
      assert.equal(s.collect().code, 1, c);
      assert.equal(s.lastRun().status, 'error', c);
      assert.match(s.lastRun().error, /cass api-version --json exited (0 without its JSON output: "status: healthy|101 without its JSON output; stderr: .*RUST_BACKTRACE)/, c);
      assert.equal(s.rows().length, before, `${c}: nothing stored`);
    }
  });

  test('a cass that hangs is stopped at the step timeout: a recorded error, nothing stored', () => {
    const s = setup();
    s.cass.use('hang');
    const t0 = Date.now();
    assert.equal(s.collect().code, 1);
    assert.ok(Date.now() - t0 < 20_000, `took ${Date.now() - t0} ms`);
    assert.equal(s.lastRun().status, 'error');
    assert.match(s.lastRun().error, /cass api-version --json did not answer in time/);
    assert.deepEqual(s.rows(), []);
  });
});

describe('cass over ssh', { skip: sshdAvailable() ? false : 'needs root and /usr/sbin/sshd' }, () => {
  let sshd: Sshd;
  const s = setup();
  before(async () => {
    for (const d of [s.dir, s.bin, s.fakes]) fs.chmodSync(d, 0o755);
    sshd = await startSshdWithPath(s.bin);
    fs.appendFileSync(s.env.VC_CONFIG, `${farMachineToml(sshd)}\n`);
  });
  after(() => sshd?.stop());

  test('the same rows as locally, from the remote machine', () => {
    s.cass.use('busy');
    const r = vc(['collect', '--source', 'cass', '--json'], { ...s.env, XDG_RUNTIME_DIR: s.dir });
    assert.equal(r.code, 0, r.stderr + r.stdout);
    const rows = readRaw(s.env.VC_DATA_DIR, 'cass', 'far');
    assert.deepEqual(rows.map((l) => [l.data.type, l.data.step ?? null]), [['run', null], ['health', null], ['error', 'stats'], ['error', 'timeline']]);
    assert.equal(rows[1]!.data.index_status, 'ready');
  });
});

// ---------------------------------------------------------------------------------------------
// Views: given rows, expected rows

const NOW = new Date('2026-11-24T12:00:00Z');
let seq = 0;
/** Stores one successful run of `source` on `machine` at `at` (snapshot rows; ntm events as events). */
async function store(dir: string, source: 'cass' | 'ntm', machine: string, at: string, items: Array<Record<string, unknown>>) {
  const run = `c-${++seq}`;
  const schema = source === 'cass' ? cassSchema : ntmSchema;
  const envs: Envelope[] = items.map((d, i) => ({
    v: 1, source, machine_id: machine, collected_at: at, run_id: run, collector_version: '1.0.0', schema_version: 1,
    kind: d.type === 'event' ? 'event' : 'snapshot', key: `${run}-${i}`,
    data: storable(schema.parse(withNulls(schema, d))) as Record<string, unknown>,
  }));
  await appendEnvelopes(dir, envs);
  await appendEnvelopes(dir, [{
    v: 1, source: 'collector_runs', machine_id: machine, collected_at: at, run_id: run, collector_version: '1.0.0', schema_version: 1,
    kind: 'event', key: run, data: { source, started_at: at, ended_at: at, duration_ms: 1, bytes: 1, rows: items.length, status: 'ok', error: null, warnings: [] },
  }]);
}

const health = (over: Record<string, unknown>) => ({
  type: 'health', exit_code: 0, status: 'healthy', healthy: true, health_level: 'healthy', errors: [], index_exists: true,
  index_status: 'ready', index_age_s: 60, last_indexed_at: null, ...over,
});
const bucket = (start: string, agent: string, sessions: number, messages = sessions * 10) =>
  ({ type: 'bucket', bucket_start: start, bucket_hours: 1, agent, sessions, messages, complete: true });
const timeline = (start: string, end: string) => ({ type: 'timeline', range_start: start, range_end: end, total_sessions: 0 });

/** c1 stale only; c2 not initialized; c3 health failing; c4 stalled and very stale; c5 rebuilding. */
async function cassFleet(dir: string) {
  await store(dir, 'cass', 'c1', '2026-11-24T11:00:00.000Z', [
    { type: 'run', cass_version: '0.6.24' },
    health({ index_age_s: 100 }),
    timeline('2026-11-22T11:00:00.000Z', '2026-11-24T11:00:00.000Z'),
    bucket('2026-11-22T11:00:00.000Z', 'codex', 4),
    bucket('2026-11-24T09:00:00.000Z', 'claude_code', 1),
    bucket('2026-11-24T10:00:00.000Z', 'codex', 2),
  ]);
  await store(dir, 'cass', 'c1', '2026-11-24T11:55:00.000Z', [
    { type: 'run', cass_version: '0.6.25' },
    health({ exit_code: 1, status: 'unhealthy', healthy: false, health_level: 'unhealthy', errors: ['index stale'], index_status: 'stale',
      index_age_s: 188222, last_indexed_at: '2026-11-22T03:38:00.000Z', watch_active: false, stale_threshold_s: 86400 }),
    { type: 'stats', conversations: 1843, messages: 96211 },
    { type: 'agent', agent: 'claude_code', conversations: 1207 },
    { type: 'agent', agent: 'codex', conversations: 636 },
    { type: 'workspace', workspace: '/home/dev/src/vc', conversations: 402 },
    timeline('2026-11-22T11:55:00.000Z', '2026-11-24T11:55:00.000Z'),
    { ...bucket('2026-11-22T11:00:00.000Z', 'codex', 1), complete: false },
    bucket('2026-11-24T10:00:00.000Z', 'codex', 3),
    bucket('2026-11-24T11:00:00.000Z', 'claude_code', 1, 7),
  ]);
  await store(dir, 'cass', 'c2', '2026-11-24T11:50:00.000Z', [
    { type: 'run', cass_version: '0.6.25' },
    health({ exit_code: 1, status: 'not_initialized', healthy: false, health_level: 'not_initialized', initialized: false, index_exists: false,
      index_status: 'missing', index_age_s: null, errors: ['database not initialized yet', 'index not initialized yet'],
      recommended_commands: ['cass index --full --json', 'cass health --json'] }),
    { type: 'error', step: 'stats', exit_code: 3, error_code: 3, error_kind: 'missing-db', message: 'Database not found' },
    { type: 'error', step: 'timeline', exit_code: 3, error_code: 3, error_kind: 'missing-db', message: 'Database not found' },
  ]);
  await store(dir, 'cass', 'c3', '2026-11-24T11:50:00.000Z', [
    { type: 'run', cass_version: '0.6.25' },
    { type: 'error', step: 'health', exit_code: 5, error_code: 5, error_kind: 'db-corrupt', message: 'database disk image is malformed' },
  ]);
  await store(dir, 'cass', 'c4', '2026-11-24T11:50:00.000Z', [
    { type: 'run', cass_version: '0.6.25' },
    health({ exit_code: 1, status: 'stalled', healthy: false, health_level: 'stalled', errors: ['index rebuild stalled — no progress for 2h'],
      index_status: 'stalled', index_age_s: 300000, rebuild_stalled: true, recommended_commands: ['cass index --full --force-rebuild'] }),
  ]);
  await store(dir, 'cass', 'c5', '2026-11-24T11:50:00.000Z', [
    { type: 'run', cass_version: '0.6.11' },
    health({ exit_code: 1, status: 'rebuilding', healthy: false, health_level: 'rebuilding', errors: ['index rebuild in progress'],
      index_status: 'building', index_age_s: 5400, rebuilding: true }),
  ]);
}

/** c1 also runs ntm: one session in trouble, an agent in error, prompts in the last day and before. */
async function ntmOnC1(dir: string) {
  await store(dir, 'ntm', 'c1', '2026-11-24T11:56:00.000Z', [
    { type: 'run', exit_code: 0, overall_status: 'critical', total_sessions: 1, total_agents: 2, agents_from: 'snapshot',
      agents_by_state: [{ state: 'busy', count: 1 }, { state: 'error', count: 1 }] },
    { type: 'session', session: 'payments', attached: true, agent_count: 2, health_status: 'critical', health_reason: 'agent 2 in error' },
    { type: 'agent', session: 'payments', pane: '1', agent_type: 'claude', state: 'busy', last_output_age_s: 40 },
    { type: 'agent', session: 'payments', pane: '2', agent_type: 'codex', state: 'error', last_output_age_s: 600 },
    { type: 'event', ts: '2026-11-24T11:30:00.000Z', event_type: 'prompt_send', session: 'payments', target_count: 2, estimated_tokens: 50 },
    { type: 'event', ts: '2026-11-24T11:31:00.000Z', event_type: 'prompt_send', session: 'payments', target_count: 1, estimated_tokens: 10 },
    { type: 'event', ts: '2026-11-23T09:00:00.000Z', event_type: 'prompt_send', session: 'payments', target_count: 1, estimated_tokens: 10 },
  ]);
}

const queryOf = (cmd: string) => /^vc query "(.*)"$/.exec(cmd)?.[1] ?? null;

describe('cass views and vc report sessions: given rows, expected rows', () => {
  let s: Session;
  before(async () => {
    const dir = tmpDir('vc-cass-views-');
    await cassFleet(dir);
    await ntmOnC1(dir);
    s = await openSession({ dataDir: dir, now: NOW });
  });
  after(() => s?.close());

  test('cass_health: the last run per machine, index age filled from either field, failed commands; cass_agents, cass_workspaces', async () => {
    assert.deepEqual(await s.query(`SELECT machine_id, cass_version, status, index_status, index_age_s, last_indexed_at, conversations,
      failed_commands, health_error FROM v1.cass_health ORDER BY machine_id`), [
      { machine_id: 'c1', cass_version: '0.6.25', status: 'unhealthy', index_status: 'stale', index_age_s: 188222, last_indexed_at: '2026-11-22T03:38:00.000Z',
        conversations: 1843, failed_commands: [], health_error: null },
      { machine_id: 'c2', cass_version: '0.6.25', status: 'not_initialized', index_status: 'missing', index_age_s: null, last_indexed_at: null, conversations: null,
        failed_commands: [{ step: 'stats', exit_code: 3, error_kind: 'missing-db', message: 'Database not found' },
          { step: 'timeline', exit_code: 3, error_kind: 'missing-db', message: 'Database not found' }], health_error: null },
      { machine_id: 'c3', cass_version: '0.6.25', status: null, index_status: null, index_age_s: null, last_indexed_at: null, conversations: null,
        failed_commands: [{ step: 'health', exit_code: 5, error_kind: 'db-corrupt', message: 'database disk image is malformed' }],
        health_error: 'db-corrupt (database disk image is malformed)' },
      // Only the age was given: the time is the collection time less that age.
      { machine_id: 'c4', cass_version: '0.6.25', status: 'stalled', index_status: 'stalled', index_age_s: 300000, last_indexed_at: '2026-11-21T00:30:00.000Z',
        conversations: null, failed_commands: [], health_error: null },
      { machine_id: 'c5', cass_version: '0.6.11', status: 'rebuilding', index_status: 'building', index_age_s: 5400, last_indexed_at: '2026-11-24T10:20:00.000Z',
        conversations: null, failed_commands: [], health_error: null },
    ]);
    assert.deepEqual(await s.query('SELECT machine_id, agent, conversations, pct_of_conversations FROM v1.cass_agents ORDER BY conversations DESC'), [
      { machine_id: 'c1', agent: 'claude_code', conversations: 1207, pct_of_conversations: 65.5 },
      { machine_id: 'c1', agent: 'codex', conversations: 636, pct_of_conversations: 34.5 },
    ]);
    assert.deepEqual(await s.query('SELECT machine_id, workspace, conversations FROM v1.cass_workspaces'), [{ machine_id: 'c1', workspace: '/home/dev/src/vc', conversations: 402 }]);
  });

  test('cass_timeline: each bucket from the newest run that covered all of it; a bucket that run no longer lists is gone', async () => {
    assert.deepEqual(await s.query('SELECT bucket_start, agent, sessions, complete FROM v1.cass_timeline ORDER BY bucket_start, agent'), [
      { bucket_start: '2026-11-22T11:00:00.000Z', agent: 'codex', sessions: 4, complete: true },
      { bucket_start: '2026-11-24T10:00:00.000Z', agent: 'codex', sessions: 3, complete: true },
      { bucket_start: '2026-11-24T11:00:00.000Z', agent: 'claude_code', sessions: 1, complete: true },
    ]);
    assert.deepEqual(await s.query(`SELECT machine_id, cass_status, index_age_h, conversations, cass_sessions_24h, cass_messages_24h, ntm_status, agents
      FROM v1.sessions_machines WHERE machine_id IN ('c1', 'c2') ORDER BY machine_id`), [
      { machine_id: 'c1', cass_status: 'unhealthy', index_age_h: 52.3, conversations: 1843, cass_sessions_24h: 4, cass_messages_24h: 37, ntm_status: 'critical', agents: 2 },
      // Its timeline failed: unknown, not 0.
      { machine_id: 'c2', cass_status: 'not_initialized', index_age_h: null, conversations: null, cass_sessions_24h: null, cass_messages_24h: null, ntm_status: null, agents: null },
    ]);
  });

  test('cass factors: stale index by its age (24 h warn, 72 h crit); health as a level, staleness alone left out; triage with cass\'s own fix', async () => {
    assert.deepEqual(await s.query(`SELECT machine_id, factor_id, value, severity FROM v1.health_factors WHERE factor_id LIKE 'cass%' ORDER BY factor_id, machine_id`), [
      { machine_id: 'c1', factor_id: 'cass_index_stale', value: 52.3, severity: 'warn' },
      { machine_id: 'c4', factor_id: 'cass_index_stale', value: 83.3, severity: 'crit' },
      { machine_id: 'c5', factor_id: 'cass_index_stale', value: 1.5, severity: 'ok' },
      { machine_id: 'c1', factor_id: 'cass_unhealthy', value: 0, severity: 'ok' },
      { machine_id: 'c2', factor_id: 'cass_unhealthy', value: 1, severity: 'warn' },
      { machine_id: 'c3', factor_id: 'cass_unhealthy', value: 2, severity: 'crit' },
      { machine_id: 'c4', factor_id: 'cass_unhealthy', value: 2, severity: 'crit' },
      { machine_id: 'c5', factor_id: 'cass_unhealthy', value: 0, severity: 'ok' },
    ]);
    const items = await s.query(`SELECT machine_id, factor_id, severity, title, why, next, fix FROM v1.triage_items WHERE factor_id LIKE 'cass%' ORDER BY rank`);
    assert.deepEqual(items.map((i) => [i.severity, i.title, i.fix]), [
      ['crit', 'c4: cass index 83 h old', 'cass index'],
      ['crit', 'c3: cass health failing', 'cass doctor check --json'],
      ['crit', 'c4: cass stalled', 'cass index --full --force-rebuild'],
      // c1 is further past its threshold than c2 is past its own
      ['warn', 'c1: cass index 52 h old', 'cass index'],
      ['warn', 'c2: cass not_initialized', 'cass index --full --json'],
    ]);
    assert.equal(items[1]!.why, 'cass health failed: db-corrupt (database disk image is malformed)');
    assert.equal(items[3]!.why, 'cass\'s index was 2d4h old when cass was asked at 2026-11-24 11:55 UTC (last indexed 2026-11-22 03:38 UTC; index stale, no watch running)');
    for (const i of items) {
      for (const cmd of (i.next as string[]).filter((c) => c.startsWith('vc query'))) {
        assert.equal((await s.query(queryOf(cmd)!)).length, 1, cmd);
      }
    }
  });

  test('vc report sessions: problems first, machines, sessions, agents, activity and hourly of the last 24 h, cass by agent and workspace', async () => {
    const { default: report } = await import('../reports/sessions.ts');
    const data = await runReportQueries('sessions', s);
    const env = { data: JSON.parse(JSON.stringify(data)) };
    assert.deepEqual(Object.keys(env.data), ['problems', 'machines', 'sessions', 'agents', 'activity', 'hourly', 'cass_agents', 'cass_workspaces']);
    assert.deepEqual(env.data.problems.map((p: any) => [p.severity, p.machine_id, p.factor_id, p.subject]), [
      ['crit', 'c1', 'ntm_session_health', 'payments'],
      ['crit', 'c3', 'cass_unhealthy', null],
      ['crit', 'c4', 'cass_index_stale', null],
      ['crit', 'c4', 'cass_unhealthy', null],
      ['warn', 'c1', 'cass_index_stale', null],
      ['warn', 'c1', 'ntm_agent_error', null],
      ['warn', 'c2', 'cass_unhealthy', null],
    ]);
    assert.deepEqual(env.data.machines.map((m: any) => [m.machine_id, m.ntm_status, m.agents, m.agents_error, m.cass_status]), [
      ['c1', 'critical', 2, 1, 'unhealthy'], ['c2', null, null, null, 'not_initialized'], ['c3', null, null, null, null],
      ['c4', null, null, null, 'stalled'], ['c5', null, null, null, 'rebuilding'],
    ]);
    assert.deepEqual(env.data.agents.map((a: any) => [a.pane, a.state, a.in_error]), [['2', 'error', true], ['1', 'busy', false]], 'errors first');
    assert.deepEqual(env.data.activity, [{ machine_id: 'c1', event_type: 'prompt_send', events: 2, sessions: 1, prompt_targets: 3,
      estimated_tokens: 60, last_at: '2026-11-24T11:31:00.000Z' }], 'the last 24 h only');
    assert.deepEqual(env.data.hourly.map((h: any) => [h.machine_id, h.hour, h.ntm_prompts, h.cass_sessions]), [
      ['c1', '2026-11-24T10:00:00.000Z', null, 3], ['c1', '2026-11-24T11:00:00.000Z', 2, 1],
    ]);
    assert.deepEqual(env.data.cass_workspaces, [{ machine_id: 'c1', workspace: '/home/dev/src/vc', conversations: 402 }]);

    // The Markdown over the same data.
    const md = report.render(data, { at: NOW, staleness: {}, warnings: [], options: {} });
    assert.match(md, /^# vc sessions · 2026-11-24 12:00 UTC\n\n## Needs attention\n/);
    assert.match(md, /\| crit +\| c1: ntm session payments critical +\| ntm rates session payments critical: agent 2 in error +\| ntm --robot-health=payments +\|/);
    assert.match(md, /### Agents in error or stuck\n/);
  });
});
