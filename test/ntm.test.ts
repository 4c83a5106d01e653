// ntm: its recorded outputs (fixtures/ntm, after ../shared/upstream/ntm.md) parsed into items, its
// events.jsonl read incrementally (a half-written line, ntm's rewrite of the file), collected end to
// end through a fake ntm on PATH (locally and on a real sshd), and the views over what was stored:
// given rows, expected rows.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { ntmEventFact, ntmItems, ntmSchema } from '../lib/sources/ntm.ts';
import { openSession, type Session } from '../lib/duck.ts';
import { appendEnvelopes } from '../lib/store.ts';
import { storable, type Envelope } from '../lib/envelope.ts';
import { fakeTool } from './fakes.ts';
import { readRaw, tmpDir, vc, withNulls, writeExecutable } from './helpers.ts';
import { sshdAvailable, farMachineToml, startSshdWithPath, type Sshd } from './sshd.ts';

const FIXTURES = path.join(import.meta.dirname, '..', 'fixtures', 'ntm');
/** A step's recorded output: `<case>.<arg>.*` where that exists, else `<case>.*` (as the fake serves it). */
const step = (name: string, arg: string) => {
  const own = ['out', 'err', 'rc'].some((e) => fs.existsSync(path.join(FIXTURES, `${name}.${arg}.${e}`)));
  const base = path.join(FIXTURES, own ? `${name}.${arg}` : name);
  const read = (ext: string) => (fs.existsSync(`${base}.${ext}`) ? fs.readFileSync(`${base}.${ext}`, 'utf8') : '');
  return { stdout: read('out'), stderr: read('err'), rc: Number(read('rc').trim() || 0) };
};
const parse = (name: string) => ntmItems(step(name, '--robot-status'), step(name, '--robot-snapshot'));
/** Items' data with every schema key present (stored lines drop nulls; parsed ones keep them). */
const data = (items: Array<{ data: unknown }>) => items.map((i) => withNulls(ntmSchema, i.data as Record<string, unknown>));
const of = (items: Array<Record<string, any>>, type: string) => items.filter((d) => d.type === type);

describe('ntm robot output, parsed', () => {
  test('status v2 and a snapshot: a run row with the summary, a row per session header, a row per agent', () => {
    const items = parse('default');
    for (const i of items) ntmSchema.parse(i.data);
    const d = data(items);
    assert.deepEqual(d.map((x) => x.type), ['run', 'session', 'session', 'agent', 'agent', 'agent', 'agent', 'agent']);
    assert.deepEqual(d[0], withNulls(ntmSchema, {
      type: 'run', exit_code: 0, envelope_version: '1.0.0', schema_version: 'ntm.robot.status.v2', generated_at: '2026-08-22T14:03:11.482Z',
      ntm_version: '1.29.3', tmux_available: true, overall_status: 'degraded', health_score: 0.9, total_sessions: 2, total_agents: 5, attached_count: 1,
      agents_by_state: [{ state: 'active', count: 3 }, { state: 'idle', count: 2 }],
      agents_by_type: [{ agent_type: 'claude', count: 3 }, { agent_type: 'codex', count: 2 }],
      alert_counts: [], alerts_active: 0, mail_unread: 4, mail_urgent: 1, ready_work: 7, in_progress: 3, degraded_sources: ['mail'],
      snapshot_exit_code: 0, snapshot_schema_version: 'ntm.robot.snapshot.v1', agents_from: 'snapshot',
    }));
    assert.deepEqual(of(d, 'session').map((s) => [s.session, s.attached, s.agent_count, s.health_status, s.health_reason]),
      [['payments', true, 3, 'healthy', null], ['infra', false, 2, 'warning', 'agent 2 idle for 41m']]);
    assert.deepEqual(of(d, 'agent')[0], withNulls(ntmSchema, {
      type: 'agent', session: 'payments', pane: '1', agent_type: 'claude', variant: 'opus', type_confidence: 0.95, type_method: 'process',
      state: 'active', last_output_age_s: 4, output_tail_lines: 40, context_percent: 37.5, current_bead: 'pay-112', pending_mail: 1,
    }));
    assert.deepEqual(of(d, 'agent').map((a) => `${a.session}:${a.pane} ${a.state}`),
      ['payments:1 active', 'payments:2 active', 'payments:3 idle', 'infra:1 active', 'infra:2 idle']);
  });

  test('agents in error and busy without output; -1 (unknown) output age is NULL, never a number', () => {
    const d = data(parse('trouble'));
    assert.equal(d[0]!.overall_status, 'critical');
    assert.deepEqual(d[0]!.alert_counts, [{ severity: 'critical', count: 1 }, { severity: 'warning', count: 1 }]);
    const agents = of(d, 'agent');
    assert.deepEqual(agents.map((a) => [a.session, a.pane, a.state, a.last_output_age_s]), [
      ['payments', '1', 'active', 4], ['payments', '2', 'busy', 3120], ['payments', '3', 'idle', null],
      ['infra', '1', 'error', 900], ['infra', '2', 'idle', 1200],
    ]);
    assert.equal(of(d, 'session')[1]!.health_status, 'critical');
  });

  test('tmux missing: status still answers (no sessions); the snapshot\'s failure is data on the run row', () => {
    const d = data(parse('notmux'));
    assert.deepEqual(d.map((x) => x.type), ['run']);
    assert.equal(d[0]!.tmux_available, false);
    assert.deepEqual(d[0]!.agents_by_state, []);
    assert.deepEqual([d[0]!.snapshot_exit_code, d[0]!.snapshot_error_code, d[0]!.snapshot_message, d[0]!.agents_from],
      [1, 'DEPENDENCY_MISSING', 'tmux is not installed', null]);
  });

  test('both commands failing (exit 1, one compact line each): one run row with the errors, no summary', () => {
    assert.deepEqual(data(parse('fail')), [withNulls(ntmSchema, {
      type: 'run', exit_code: 1, error_code: 'INTERNAL_ERROR', message: 'list tmux sessions: exit status 1: server exited unexpectedly',
      snapshot_exit_code: 1, snapshot_error_code: 'INTERNAL_ERROR', snapshot_message: 'list tmux sessions: exit status 1: server exited unexpectedly',
    })]);
  });

  test('an older ntm: status v1 lists agents (is_active), no envelope fields; its failed snapshot exited 0', () => {
    const items = parse('variant');
    const d = data(items);
    assert.deepEqual(d.map((x) => x.type), ['run', 'session', 'agent', 'agent']);
    assert.deepEqual([d[0]!.envelope_version, d[0]!.schema_version, d[0]!.ntm_version, d[0]!.agents_from], [null, null, '1.12.0', 'status']);
    assert.equal(d[0]!.agents_by_state, null, 'an older summary without agents_by_state: unknown, not "none"');
    assert.deepEqual([d[0]!.snapshot_exit_code, d[0]!.snapshot_error_code], [0, 'TIMEOUT'], 'success:false decides, not the exit status');
    assert.equal(d[1]!.agent_count, 2, 'counted from its agents');
    assert.deepEqual(of(d, 'agent').map((a) => [a.pane, a.agent_type, a.is_active, a.state, a.context_percent]),
      [['1', 'claude', true, 'active', 41], ['2', 'gemini', false, 'idle', 7.5]]);
    assert.equal((items[2]!.raw as any).is_active, true, 'the older shape is kept as raw');
  });

  test('no sessions: the run row only', () => {
    const d = data(parse('empty'));
    assert.deepEqual(d.map((x) => x.type), ['run']);
    assert.deepEqual([d[0]!.total_sessions, d[0]!.agents_from], [0, 'snapshot']);
  });

  test('toon, terse keys, a future schema or a hang is a clear error naming the command', () => {
    assert.throws(() => parse('garbage'), /ntm --robot-status exited 0 without its JSON output: "success: true/);
    assert.throws(() => parse('wrongshape'), /ntm --robot-status printed JSON of an unexpected shape: sessions: .*; summary/);
    const v3 = step('default', '--robot-status');
    v3.stdout = v3.stdout.replace('ntm.robot.status.v2', 'ntm.robot.status.v3');
    assert.throws(() => ntmItems(v3, step('default', '--robot-snapshot')), /schema_version "ntm\.robot\.status\.v3"; vc reads up to ntm\.robot\.status\.v2/);
    assert.throws(() => ntmItems(step('default', '--robot-status'), { stdout: '', stderr: '', rc: 124 }), /ntm --robot-snapshot did not answer in time/);
    assert.throws(() => ntmItems({ stdout: '{"success":', stderr: '', rc: 0 }, step('default', '--robot-snapshot')), /did not print JSON/);
  });

  test('events.jsonl lines: each event with its fields; an encrypted line is skipped, not an error', () => {
    const lines = fs.readFileSync(path.join(FIXTURES, 'analytics-events.jsonl'), 'utf8').split('\n').filter(Boolean);
    const facts = lines.map((l) => ntmEventFact('f', 0, l));
    assert.equal(facts[5], 'not plain JSON (an encrypted ntm event?)');
    const events = facts.filter((f) => typeof f === 'object') as Array<Record<string, any>>;
    for (const e of events) ntmSchema.parse(e);
    assert.deepEqual(events.map((e) => e.event_type),
      ['session_create', 'agent_spawn', 'agent_spawn', 'agent_spawn', 'prompt_send', 'prompt_send', 'error', 'agent_restart']);
    assert.deepEqual(events[1], withNulls(ntmSchema, { type: 'event', ts: '2026-08-22T13:58:03.902Z', event_type: 'agent_spawn', session: 'payments', agent_type: 'claude', model: 'opus', pane: '1' }));
    assert.deepEqual([events[4]!.target_count, events[4]!.prompt_length, events[4]!.estimated_tokens], [3, 482, 137]);
    assert.equal(events[0]!.work_dir, '/home/dev/src/payments');
    assert.deepEqual([events[6]!.error_code, events[6]!.message], ['spawn', 'pane 3: command not found: aider']);
    assert.deepEqual([events[7]!.agent_name, events[7]!.correlation_id, events[7]!.ts], ['infra:1', 'c-71', '2026-08-22T14:10:00.250Z']);
    assert.equal(ntmEventFact('f', 0, '{"type":"x"}'), 'an event without a timestamp or type');
  });
});

/**
 * A temp setup for vc collect --source ntm: the fake ntm behind a wrapper that prints toon when a
 * format override is in its environment (vc must unset them), and an events file of its own.
 */
function setup(toml = '') {
  const dir = tmpDir('vc-ntm-');
  const bin = path.join(dir, 'bin');
  const fakes = path.join(dir, 'fakes');
  fs.mkdirSync(bin);
  fs.mkdirSync(fakes);
  const ntm = fakeTool(fakes, 'ntm');
  writeExecutable(bin, 'ntm', `#!/bin/sh
if [ -n "\${NTM_ROBOT_FORMAT}\${NTM_OUTPUT_FORMAT}\${TOON_DEFAULT_FORMAT}\${NTM_ROBOT_VERBOSITY}" ]; then printf 'success: true\\nsessions[0]:\\n'; exit 0; fi
exec ${JSON.stringify(ntm.path)} "$@"
`);
  const events = path.join(dir, 'analytics', 'events.jsonl');
  fs.mkdirSync(path.dirname(events));
  const conf = path.join(dir, 'vc.toml');
  fs.writeFileSync(conf, `[collectors.ntm]\nevents_file = ${JSON.stringify(events)}\nstep_timeout_seconds = 1\n${toml}`);
  const env = {
    VC_DATA_DIR: path.join(dir, 'data'), VC_CONFIG: conf, PATH: `${bin}:${process.env.PATH}`,
    NTM_ROBOT_FORMAT: 'toon', NTM_OUTPUT_FORMAT: 'toon', TOON_DEFAULT_FORMAT: 'toon', NTM_ROBOT_VERBOSITY: 'terse',
  };
  const collect = () => vc(['collect', '--source', 'ntm', '--json'], env);
  const lastRun = () => readRaw(env.VC_DATA_DIR, 'collector_runs', 'local').at(-1)!.data;
  const rows = (type?: string) => readRaw(env.VC_DATA_DIR, 'ntm', 'local').filter((l) => !type || l.data.type === type);
  return { dir, bin, fakes, ntm, events, env, collect, lastRun, rows };
}

describe('vc collect --source ntm', () => {
  test('status and snapshot with the format pinned; events.jsonl read once, a half-written line when whole, again after ntm rewrites it', async (t) => {
    const s = setup();
    const lines = fs.readFileSync(path.join(FIXTURES, 'analytics-events.jsonl'), 'utf8');
    fs.writeFileSync(s.events, lines);
    let r = s.collect();
    assert.equal(r.code, 0, r.stderr + r.stdout);
    const flags = ['--robot-format=json', '--robot-verbosity=default'];
    assert.deepEqual(s.ntm.calls(), [['--robot-status', ...flags], ['--robot-snapshot', ...flags]]);
    assert.equal(s.lastRun().status, 'ok');
    assert.deepEqual(s.rows().filter((l) => l.data.type !== 'event').map((l) => [l.kind, l.data.type]),
      [['snapshot', 'run'], ['snapshot', 'session'], ['snapshot', 'session'], ...Array(5).fill(['snapshot', 'agent'])]);
    assert.equal(s.rows('event').length, 8);
    assert.ok(s.rows('event').every((l) => l.kind === 'event' && /^[0-9a-f]{24}$/.test(l.key)));
    assert.ok(s.lastRun().warnings.some((w: string) => /skipped 1 line: not plain JSON \(an encrypted ntm event\?\)/.test(w)), s.lastRun().warnings.join('\n'));

    // Nothing new: no event stored again. Then one new line and half of another.
    const next = '{"timestamp":"2026-08-22T14:20:00.000001Z","type":"prompt_send","session":"infra","data":{"estimated_tokens":12,"has_context":false,"prompt_length":42,"target_count":2,"target_types":"claude,codex","template":""}}\n';
    const half = '{"timestamp":"2026-08-22T14:21:00.000001Z","type":"agent_add","session":"infra","data":{"agent_type":"gemini",';
    fs.appendFileSync(s.events, next + half);
    assert.equal(s.collect().code, 0);
    assert.equal(s.rows('event').length, 9, 'the new line, not the half one');

    // ntm's daily rewrite: the file is replaced by its recent lines (a new inode), the half line now whole.
    const whole = `${half}"model":"","pane_index":3,"variant":""}}\n`;
    fs.appendFileSync(s.events, whole.slice(half.length));
    const kept = fs.readFileSync(s.events, 'utf8').split('\n').filter(Boolean).slice(-3).join('\n') + '\n';
    fs.renameSync(s.events, `${s.events}.old`);
    fs.writeFileSync(`${s.events}.tmp`, kept);
    fs.renameSync(`${s.events}.tmp`, s.events);
    fs.rmSync(`${s.events}.old`);
    r = s.collect();
    assert.equal(r.code, 0, r.stderr);
    assert.equal(s.rows('event').length, 12, 'the rewritten file is read again from its start');
    const session = await openSession({ dataDir: s.env.VC_DATA_DIR });
    t.after(() => session.close());
    const events = await session.query('SELECT event_type, count(*) AS n FROM v1.ntm_events GROUP BY ALL ORDER BY event_type');
    assert.deepEqual(events, [
      { event_type: 'agent_add', n: 1 }, { event_type: 'agent_restart', n: 1 }, { event_type: 'agent_spawn', n: 3 },
      { event_type: 'error', n: 1 }, { event_type: 'prompt_send', n: 3 }, { event_type: 'session_create', n: 1 },
    ], 'every event once');
  });

  test('ntm not installed: absent, nothing stored; ntm\'s own failure is data; toon output or a crash is a recorded error', () => {
    const s = setup();
    fs.renameSync(path.join(s.bin, 'ntm'), path.join(s.bin, 'ntm.off'));
    assert.equal(s.collect().code, 0);
    assert.equal(s.lastRun().status, 'absent');
    assert.match(s.lastRun().warnings[0], /^ntm is not installed here/);
    assert.deepEqual(s.rows(), []);
    fs.renameSync(path.join(s.bin, 'ntm.off'), path.join(s.bin, 'ntm'));

    s.ntm.use('fail');
    assert.equal(s.collect().code, 0);
    assert.equal(s.lastRun().status, 'ok');
    assert.deepEqual(s.rows().map((l) => [l.data.type, l.data.error_code]), [['run', 'INTERNAL_ERROR']]);
    for (const c of ['garbage', 'crash']) {
      const before = s.rows().length;
      s.ntm.use(c);
      assert.equal(s.collect().code, 1, c);
      assert.equal(s.lastRun().status, 'error', c);
      assert.match(s.lastRun().error, /ntm --robot-status exited (0 without its JSON output: "success: true|2 without its JSON output; stderr: .*goroutine)/, c);
      assert.equal(s.rows().length, before, `${c}: nothing stored`);
    }
  });

  test('an ntm that hangs is stopped at the step timeout: a recorded error, nothing stored', () => {
    const s = setup();
    s.ntm.use('hang');
    const t0 = Date.now();
    assert.equal(s.collect().code, 1);
    assert.ok(Date.now() - t0 < 20_000, `took ${Date.now() - t0} ms`);
    assert.equal(s.lastRun().status, 'error');
    assert.match(s.lastRun().error, /ntm --robot-status did not answer in time/);
    assert.deepEqual(s.rows(), []);
  });
});

describe('ntm over ssh', { skip: sshdAvailable() ? false : 'needs root and /usr/sbin/sshd' }, () => {
  let sshd: Sshd;
  const s = setup();
  before(async () => {
    for (const d of [s.dir, s.bin, s.fakes, path.dirname(s.events)]) fs.chmodSync(d, 0o755);
    fs.writeFileSync(s.events, fs.readFileSync(path.join(FIXTURES, 'analytics-events.jsonl')), { mode: 0o644 });
    sshd = await startSshdWithPath(s.bin);
    fs.appendFileSync(s.env.VC_CONFIG, `${farMachineToml(sshd)}\n`);
  });
  after(() => sshd?.stop());

  test('the same rows as locally, from the remote machine', () => {
    s.ntm.use('trouble');
    const r = vc(['collect', '--source', 'ntm', '--json'], { ...s.env, XDG_RUNTIME_DIR: s.dir });
    assert.equal(r.code, 0, r.stderr + r.stdout);
    const rows = readRaw(s.env.VC_DATA_DIR, 'ntm', 'far');
    assert.deepEqual(rows.filter((l) => l.data.type === 'agent').map((l) => l.data.state), ['active', 'busy', 'idle', 'error', 'idle']);
    assert.equal(rows.filter((l) => l.data.type === 'event').length, 8);
    assert.equal(rows[0]!.data.overall_status, 'critical');
  });
});

// ---------------------------------------------------------------------------------------------
// Views: given rows, expected rows

const NOW = new Date('2026-11-24T12:00:00Z');
let seq = 0;
/** Stores one successful ntm run of `machine` at `at`: its items (events as kind event, keyed). */
async function store(dir: string, machine: string, at: string, items: Array<Record<string, unknown>>) {
  const run = `n-${++seq}`;
  const envs: Envelope[] = items.map((d, i) => ({
    v: 1, source: 'ntm', machine_id: machine, collected_at: at, run_id: run, collector_version: '1.0.0', schema_version: 1,
    kind: d.type === 'event' ? 'event' : 'snapshot', key: d.type === 'event' ? `ev-${String(d.ts)}-${String(d.event_type)}` : `${run}-${i}`,
    data: storable(ntmSchema.parse(withNulls(ntmSchema, d))) as Record<string, unknown>,
  }));
  await appendEnvelopes(dir, envs);
  await appendEnvelopes(dir, [{
    v: 1, source: 'collector_runs', machine_id: machine, collected_at: at, run_id: run, collector_version: '1.0.0', schema_version: 1,
    kind: 'event', key: run, data: { source: 'ntm', started_at: at, ended_at: at, duration_ms: 1, bytes: 1, rows: items.length, status: 'ok', error: null, warnings: [] },
  }]);
}

const agent = (session: string, pane: string, state: string, age: number | null, over: Record<string, unknown> = {}) =>
  ({ type: 'agent', session, pane, agent_type: 'claude', state, last_output_age_s: age, ...over });
const event = (ts: string, event_type: string, over: Record<string, unknown> = {}) => ({ type: 'event', ts, event_type, session: 'payments', ...over });

/** The fleet of the view tests: m1 in trouble, m2 where ntm failed, m3 without tmux (summary only). */
async function ntmFleet(dir: string) {
  await store(dir, 'm1', '2026-11-24T11:00:00.000Z', [
    { type: 'run', exit_code: 0, overall_status: 'healthy', total_sessions: 1, total_agents: 1, agents_by_state: [{ state: 'active', count: 1 }], agents_from: 'snapshot' },
    { type: 'session', session: 'old', agent_count: 1, health_status: 'healthy' },
    agent('old', '1', 'error', 5),
    event('2026-11-24T10:30:00.000Z', 'session_create'),
    event('2026-11-24T10:31:00.000Z', 'prompt_send', { target_count: 3, estimated_tokens: 100 }),
  ]);
  await store(dir, 'm1', '2026-11-24T11:55:00.000Z', [
    { type: 'run', exit_code: 0, overall_status: 'critical', total_sessions: 3, total_agents: 5, agents_from: 'snapshot',
      agents_by_state: [{ state: 'active', count: 1 }, { state: 'busy', count: 1 }, { state: 'compacting', count: 1 }, { state: 'error', count: 1 }, { state: 'idle', count: 1 }] },
    { type: 'session', session: 'payments', attached: true, agent_count: 2, health_status: 'warning', health_reason: 'agent 2 quiet for 52m' },
    { type: 'session', session: 'infra', attached: false, agent_count: 2, health_status: 'critical', health_reason: 'agent 1 in error' },
    { type: 'session', session: 'ops box', attached: false, agent_count: 1, health_status: 'healthy' },
    agent('payments', '1', 'active', 4),
    agent('payments', '2', 'busy', 3120, { agent_type: 'codex', context_percent: 88.5 }),
    agent('infra', '1', 'error', 900, { agent_type: 'codex' }),
    agent('infra', '2', 'idle', 7200),
    agent('ops box', '1', 'compacting', 7500),
    // Read again (same key) and new ones.
    event('2026-11-24T10:31:00.000Z', 'prompt_send', { target_count: 3, estimated_tokens: 100 }),
    event('2026-11-24T11:40:00.000Z', 'prompt_send', { target_count: 1, estimated_tokens: 20, session: 'infra' }),
    event('2026-11-24T11:41:00.000Z', 'agent_spawn', { agent_type: 'codex', session: 'infra' }),
  ]);
  await store(dir, 'm2', '2026-11-24T11:50:00.000Z', [
    { type: 'run', exit_code: 1, error_code: 'INTERNAL_ERROR', message: 'tmux server exited', snapshot_exit_code: 1, snapshot_error_code: 'INTERNAL_ERROR' },
  ]);
  await store(dir, 'm3', '2026-11-24T11:50:00.000Z', [
    { type: 'run', exit_code: 0, overall_status: 'critical', total_sessions: 1, total_agents: 3, tmux_available: true,
      agents_by_state: [{ state: 'error', count: 2 }, { state: 'idle', count: 1 }], snapshot_exit_code: 1, snapshot_error_code: 'TIMEOUT' },
    { type: 'session', session: 'web', agent_count: 3, health_status: 'unknown' },
  ]);
}

/** The SQL of a `vc query "..."` command. */
const queryOf = (cmd: string) => /^vc query "(.*)"$/.exec(cmd)?.[1] ?? null;

describe('ntm views: given rows, expected rows', () => {
  let s: Session;
  before(async () => {
    const dir = tmpDir('vc-ntm-views-');
    await ntmFleet(dir);
    s = await openSession({ dataDir: dir, now: NOW });
  });
  after(() => s?.close());

  test('ntm_status, ntm_agents (stuck: working with no output past the warn threshold), ntm_sessions (counts unknown without agents)', async () => {
    assert.deepEqual(await s.query('SELECT machine_id, overall_status, total_agents, error_agents_reported, agents_from, error_code FROM v1.ntm_status ORDER BY machine_id'), [
      { machine_id: 'm1', overall_status: 'critical', total_agents: 5, error_agents_reported: 1, agents_from: 'snapshot', error_code: null },
      { machine_id: 'm2', overall_status: null, total_agents: null, error_agents_reported: null, agents_from: null, error_code: 'INTERNAL_ERROR' },
      { machine_id: 'm3', overall_status: 'critical', total_agents: 3, error_agents_reported: 2, agents_from: null, error_code: null },
    ]);
    assert.deepEqual(await s.query('SELECT "session", pane, state, in_error, working, stuck FROM v1.ntm_agents ORDER BY "session", pane'), [
      { session: 'infra', pane: '1', state: 'error', in_error: true, working: false, stuck: false },
      { session: 'infra', pane: '2', state: 'idle', in_error: false, working: false, stuck: false },
      { session: 'ops box', pane: '1', state: 'compacting', in_error: false, working: true, stuck: true },
      { session: 'payments', pane: '1', state: 'active', in_error: false, working: true, stuck: false },
      { session: 'payments', pane: '2', state: 'busy', in_error: false, working: true, stuck: true },
    ], 'only the last run\'s agents');
    assert.deepEqual(await s.query('SELECT machine_id, "session", health_status, agents, active, busy, idle, error_agents, stuck_agents FROM v1.ntm_sessions ORDER BY machine_id, "session"'), [
      { machine_id: 'm1', session: 'infra', health_status: 'critical', agents: 2, active: 0, busy: 0, idle: 1, error_agents: 1, stuck_agents: 0 },
      { machine_id: 'm1', session: 'ops box', health_status: 'healthy', agents: 1, active: 0, busy: 0, idle: 0, error_agents: 0, stuck_agents: 1 },
      { machine_id: 'm1', session: 'payments', health_status: 'warning', agents: 2, active: 1, busy: 1, idle: 0, error_agents: 0, stuck_agents: 1 },
      { machine_id: 'm3', session: 'web', health_status: 'unknown', agents: null, active: null, busy: null, idle: null, error_agents: null, stuck_agents: null },
    ]);
  });

  test('ntm_events once per key; ntm_activity per hour and type; sessions_machines', async () => {
    assert.deepEqual(await s.query('SELECT ts, event_type FROM v1.ntm_events ORDER BY ts'), [
      { ts: '2026-11-24T10:30:00.000Z', event_type: 'session_create' },
      { ts: '2026-11-24T10:31:00.000Z', event_type: 'prompt_send' },
      { ts: '2026-11-24T11:40:00.000Z', event_type: 'prompt_send' },
      { ts: '2026-11-24T11:41:00.000Z', event_type: 'agent_spawn' },
    ]);
    assert.deepEqual(await s.query('SELECT hour, event_type, events, sessions, prompt_targets, estimated_tokens FROM v1.ntm_activity ORDER BY hour, event_type'), [
      { hour: '2026-11-24T10:00:00.000Z', event_type: 'prompt_send', events: 1, sessions: 1, prompt_targets: 3, estimated_tokens: 100 },
      { hour: '2026-11-24T10:00:00.000Z', event_type: 'session_create', events: 1, sessions: 1, prompt_targets: null, estimated_tokens: null },
      { hour: '2026-11-24T11:00:00.000Z', event_type: 'agent_spawn', events: 1, sessions: 1, prompt_targets: null, estimated_tokens: null },
      { hour: '2026-11-24T11:00:00.000Z', event_type: 'prompt_send', events: 1, sessions: 1, prompt_targets: 1, estimated_tokens: 20 },
    ]);
    assert.deepEqual(await s.query(`SELECT machine_id, ntm_status, ntm_error, ntm_sessions, unhealthy_sessions, agents, agents_active, agents_busy, agents_idle,
      agents_error, agents_stuck, prompts_recent, agents_spawned_recent, sessions_created_recent, cass_status FROM v1.sessions_machines ORDER BY machine_id`), [
      { machine_id: 'm1', ntm_status: 'critical', ntm_error: null, ntm_sessions: 3, unhealthy_sessions: 2, agents: 5, agents_active: 1, agents_busy: 1,
        agents_idle: 1, agents_error: 1, agents_stuck: 2, prompts_recent: 2, agents_spawned_recent: 1, sessions_created_recent: 1, cass_status: null },
      { machine_id: 'm2', ntm_status: null, ntm_error: 'INTERNAL_ERROR', ntm_sessions: null, unhealthy_sessions: null, agents: null, agents_active: null, agents_busy: null,
        agents_idle: null, agents_error: null, agents_stuck: null, prompts_recent: 0, agents_spawned_recent: 0, sessions_created_recent: 0, cass_status: null },
      { machine_id: 'm3', ntm_status: 'critical', ntm_error: 'TIMEOUT', ntm_sessions: 1, unhealthy_sessions: 0, agents: 3, agents_active: 0, agents_busy: 0,
        agents_idle: 1, agents_error: 2, agents_stuck: null, prompts_recent: 0, agents_spawned_recent: 0, sessions_created_recent: 0, cass_status: null },
    ]);
  });

  test('ntm factors graded in health_factors; triage shows them with runnable next steps and an ntm command', async () => {
    const factors = await s.query(`SELECT machine_id, factor_id, subject, value, severity FROM v1.health_factors
      WHERE factor_id LIKE 'ntm%' ORDER BY machine_id, factor_id, subject`);
    assert.deepEqual(factors, [
      { machine_id: 'm1', factor_id: 'ntm_agent_error', subject: null, value: 1, severity: 'warn' },
      { machine_id: 'm1', factor_id: 'ntm_agent_stuck', subject: 'ops box:1', value: 125, severity: 'crit' },
      { machine_id: 'm1', factor_id: 'ntm_agent_stuck', subject: 'payments:1', value: 0, severity: 'ok' },
      { machine_id: 'm1', factor_id: 'ntm_agent_stuck', subject: 'payments:2', value: 52, severity: 'warn' },
      { machine_id: 'm1', factor_id: 'ntm_session_health', subject: 'infra', value: 2, severity: 'crit' },
      { machine_id: 'm1', factor_id: 'ntm_session_health', subject: 'ops box', value: 0, severity: 'ok' },
      { machine_id: 'm1', factor_id: 'ntm_session_health', subject: 'payments', value: 1, severity: 'warn' },
      // m2: ntm answered nothing about agents (unknown, no factor); m3: from its summary.
      { machine_id: 'm3', factor_id: 'ntm_agent_error', subject: null, value: 2, severity: 'warn' },
    ]);
    const summary = await s.query(`SELECT summary FROM v1.health_factors WHERE factor_id = 'ntm_agent_stuck' AND subject = 'payments:2'`);
    assert.equal(summary[0]!.summary, 'codex in payments:2 is busy but has shown no output for 52m');
    const items = await s.query(`SELECT machine_id, factor_id, subject, title, next, fix FROM v1.triage_items WHERE factor_id LIKE 'ntm%' ORDER BY rank`);
    assert.deepEqual(items.map((i) => [i.title, i.fix]), [
      // crit first, then by how far past the threshold (weighted): a session name with a space is not spliced into the fix.
      ['m1: claude in ops box:1 compacting with no output for 125 min', 'ntm --robot-status'],
      ['m1: ntm session infra critical', 'ntm --robot-health=infra'],
      ['m3: 2 ntm agents in error', 'ntm --robot-status'],
      ['m1: 1 ntm agents in error', 'ntm --robot-health=infra'],
      ['m1: codex in payments:2 busy with no output for 52 min', 'ntm --robot-health=payments'],
      ['m1: ntm session payments warning', 'ntm --robot-health=payments'],
    ]);
    for (const i of items) {
      const next = i.next as string[];
      assert.equal(next[0], 'vc report sessions --md');
      for (const cmd of next.filter((c) => c.startsWith('vc query'))) {
        const sql = queryOf(cmd);
        assert.ok(sql, cmd);
        assert.ok((await s.query(sql!)).length > 0, `${cmd} finds the rows behind ${i.title}`);
      }
    }
  });
});
