// pt: its recorded plans (fixtures/pt, after ../shared/upstream/pt.md) parsed into items, collected
// end to end through a fake pt on PATH (locally and on a real sshd), and the pt views and factors
// over stored rows: given rows, expected rows.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { ptItems, ptSchema } from '../lib/sources/pt.ts';
import { openSession } from '../lib/duck.ts';
import { appendEnvelopes } from '../lib/store.ts';
import { storable, type Envelope } from '../lib/envelope.ts';
import { fakeTool } from './fakes.ts';
import { readRaw, tmpDir, vc, withNulls, writeExecutable } from './helpers.ts';
import { sshdAvailable, farMachineToml, startSshdWithPath, type Sshd } from './sshd.ts';

const fixture = (name: string) => {
  const f = (ext: string) => path.join(import.meta.dirname, '..', 'fixtures', 'pt', `${name}.${ext}`);
  const read = (ext: string) => (fs.existsSync(f(ext)) ? fs.readFileSync(f(ext), 'utf8') : '');
  return { stdout: read('out'), stderr: read('err'), rc: Number(read('rc').trim() || 0) };
};
const data = (items: Array<{ data: unknown }>) => items.map((i) => withNulls(ptSchema, i.data as Record<string, unknown>));
const DATA_DIR = '/home/dev/.local/share/process_triage';

describe('pt robot plan --format json, parsed', () => {
  test('a plan with candidates (exit 1): a run row with the session dir, a row per candidate with its set and pt\'s commands', () => {
    const items = ptItems(fixture('default'), DATA_DIR);
    for (const i of items) ptSchema.parse(i.data);
    const [run, tmux, jest, http, cargo] = data(items);
    assert.deepEqual(run, withNulls(ptSchema, {
      type: 'run', exit_code: 1, pt_version: '2.1.0', schema_version: '1.0.0', session_id: 'pt-20260821-091406-k3qz',
      session_dir: `${DATA_DIR}/sessions/pt-20260821-091406-k3qz`, generated_at: '2026-08-21T09:14:07.318Z', host_id: 'host-4f1c9a2e',
      hostname: 'devbox', cores: 32, memory_total_gb: 125.7, memory_used_gb: 61.2, load1: 7.31, load5: 6.02, load15: 5.88,
      total_processes: 812, protected_filtered: 96, above_threshold: 4, candidates_returned: 4, kill_recommendations: 2,
      review_recommendations: 1, policy_blocked_count: 1, threshold_used: 0.7, expected_memory_freed_gb: 1.84, scan_duration_ms: 142,
    }));
    assert.deepEqual(jest, withNulls(ptSchema, {
      type: 'candidate', session_id: 'pt-20260821-091406-k3qz', pid: 84721, ppid: 1, start_id: '84721:1787185600', state: 'S', user: 'dev',
      command: 'node /home/dev/app/node_modules/.bin/jest --watch', command_short: 'node', classification: 'abandoned', age_seconds: 96412,
      memory_mb: 1843, cpu_percent: 0.3, score: 97, posterior_useful: 0.012, posterior_useful_bad: 0.011, posterior_abandoned: 0.971,
      posterior_zombie: 0.006, confidence: 'high', recommended_action: 'kill', action_rationale: 'Action Kill selected', plan_set: 'kill',
      policy_blocked: false, reversibility: 'irreversible', supervisor_action: 'kill',
      evidence: ['orphan (+31 strong)', 'cpu (+12 substantial)', 'tty (-4 weak)'],
    }));
    assert.deepEqual([tmux!.plan_set, tmux!.recommended_action, tmux!.signature_name, tmux!.signature_category], ['spare', 'keep', 'tmux', 'Terminal']);
    assert.deepEqual([http!.plan_set, http!.supervisor_type, http!.supervisor_unit, http!.supervisor_command],
      ['kill', 'systemd', 'dev-http.service', 'systemctl --user stop dev-http.service']);
    assert.deepEqual([cargo!.plan_set, cargo!.recommended_action, cargo!.policy_blocked, cargo!.policy_violation_kind, cargo!.cpu_percent],
      ['review', 'review', true, 'force_review', 143.2]);
  });

  test('nothing above the threshold (exit 0): only the run row', () => {
    const rows = data(ptItems(fixture('empty')));
    assert.deepEqual(rows.map((r) => [r.type, r.exit_code, r.candidates_returned, r.session_dir]), [['run', 0, 0, null]]);
  });

  test('an older pt without recommendations, signature or provenance: the sets follow each candidate\'s action', () => {
    const rows = data(ptItems(fixture('older')));
    assert.deepEqual(rows.map((r) => [r.type, r.pid, r.plan_set, r.signature_name]), [['run', null, null, null], ['candidate', 2211, 'spare', null], ['candidate', 84721, 'kill', null]]);
    assert.deepEqual([rows[0]!.pt_version, rows[0]!.expected_memory_freed_gb], ['1.9.2', null]);
  });

  test('pt\'s failures, other shapes and garbage are clear errors naming the command', () => {
    assert.throws(() => ptItems(fixture('lock')), /pt robot plan --format json exited 14 \(another pt holds its lock\) without a plan: ".*lock contention/);
    assert.throws(() => ptItems(fixture('nocore')), /exited 1 without its JSON plan; stderr: "Error: 'pt-core' binary not found\."/);
    assert.throws(() => ptItems(fixture('garbage')), /exited 1 without its JSON plan: "\[pt-20260821-091406-k3qz\] agent plan: 4 candidates/);
    assert.throws(() => ptItems(fixture('wrongshape')), /printed JSON of an unexpected shape: pt_version/);
    assert.throws(() => ptItems({ stdout: '', stderr: 'agent plan: failed to write plan.json\n', rc: 20 }), /exited 20 \(an internal error.*\) without a plan; stderr: "agent plan: failed to write plan\.json"/);
    assert.throws(() => ptItems({ stdout: '{"pt_version":', stderr: '', rc: 124 }), /did not answer in time/);
    assert.throws(() => ptItems({ stdout: '{"pt_version":', stderr: '', rc: 1 }), /did not print JSON/);
  });

  test('a session id or process identity that is not pt\'s form is not kept (vc splices them into commands)', () => {
    const bad = fixture('default');
    bad.stdout = bad.stdout.replace('"session_id": "pt-20260821-091406-k3qz"', '"session_id": "x; rm -rf ~"').replace('"start_id": "84721:1787185600"', '"start_id": "84721:$(id)"');
    const rows = data(ptItems(bad, DATA_DIR));
    assert.deepEqual([rows[0]!.session_id, rows[0]!.session_dir, rows[2]!.session_id, rows[2]!.start_id], [null, null, null, null]);
  });
});

/** A temp setup for vc collect --source pt: a fake pt first on PATH, behind a guard that fails if a format variable reaches it. */
function setup(toml = '') {
  const dir = tmpDir('vc-pt-');
  fs.chmodSync(dir, 0o755);
  const bin = path.join(dir, 'bin');
  const inner = path.join(dir, 'inner');
  fs.mkdirSync(bin, { mode: 0o755 });
  fs.mkdirSync(inner, { mode: 0o755 });
  const pt = fakeTool(inner, 'pt');
  writeExecutable(bin, 'pt', `#!/bin/sh\n[ -n "$PT_OUTPUT_FORMAT$TOON_DEFAULT_FORMAT" ] && { echo "[toon]"; exit 1; }\nexec ${inner}/pt "$@"\n`);
  const conf = path.join(dir, 'vc.toml');
  fs.writeFileSync(conf, toml);
  const env = {
    VC_DATA_DIR: path.join(dir, 'data'), VC_CONFIG: conf, PATH: `${bin}:${process.env.PATH}`, PT_OUTPUT_FORMAT: 'toon',
    PROCESS_TRIAGE_DATA: '/srv/pt-data',
  };
  const collect = () => vc(['collect', '--source', 'pt', '--json'], env);
  const lastRun = () => readRaw(env.VC_DATA_DIR, 'collector_runs', 'local').at(-1)!.data;
  return { dir, bin, pt, env, collect, lastRun, rows: (m = 'local') => readRaw(env.VC_DATA_DIR, 'pt', m) };
}

describe('vc collect --source pt', { concurrency: true }, () => {
  test('runs pt robot plan --format json (format pinned), exit 1 is a plan; stores a run row and the candidates', () => {
    const s = setup('[collectors.pt]\nmax_candidates = 7\n');
    const r = s.collect();
    assert.equal(r.code, 0, r.stderr);
    assert.equal(s.lastRun().status, 'ok', JSON.stringify(s.lastRun()));
    assert.deepEqual(s.pt.calls(), [['robot', 'plan', '--format', 'json', '--max-candidates', '7']]);
    const rows = s.rows();
    assert.deepEqual(rows.map((l) => [l.kind, l.data.type, l.data.pid ?? null]), [
      ['snapshot', 'run', null], ['snapshot', 'candidate', 2211], ['snapshot', 'candidate', 84721], ['snapshot', 'candidate', 40112], ['snapshot', 'candidate', 5120]]);
    assert.equal(rows[0]!.data.session_dir, '/srv/pt-data/sessions/pt-20260821-091406-k3qz', 'the session dir under PROCESS_TRIAGE_DATA');
    assert.equal(rows[0]!.raw.summary.signature_matches, 40);
  });

  test('pt not installed: absent; pt\'s lock held or garbage: a recorded error, nothing stored', () => {
    const s = setup();
    fs.rmSync(path.join(s.bin, 'pt'));
    assert.equal(s.collect().code, 0);
    assert.equal(s.lastRun().status, 'absent');
    assert.match(s.lastRun().warnings[0], /^pt is not installed here/);
    writeExecutable(s.bin, 'pt', `#!/bin/sh\nexec ${path.join(s.dir, 'inner', 'pt')} "$@"\n`);
    for (const c of ['lock', 'garbage']) {
      s.pt.use(c);
      assert.equal(s.collect().code, 1, c);
      assert.equal(s.lastRun().status, 'error', c);
      assert.match(s.lastRun().error, /pt robot plan --format json exited/, c);
    }
    assert.deepEqual(s.rows(), []);
  });

  test('a pt that hangs is stopped at the step timeout and recorded as an error; nothing stored', () => {
    const s = setup('[collectors.pt]\nstep_timeout_seconds = 1\n');
    s.pt.use('hang');
    const t0 = Date.now();
    assert.equal(s.collect().code, 1);
    assert.ok(Date.now() - t0 < 30_000, `took ${Date.now() - t0} ms`);
    assert.equal(s.lastRun().status, 'error');
    assert.match(s.lastRun().error, /did not answer in time/);
    assert.deepEqual(s.rows(), []);
  });
});

describe('pt over ssh', { skip: sshdAvailable() ? false : 'needs root and /usr/sbin/sshd' }, () => {
  let sshd: Sshd;
  const s = setup();
  before(async () => {
    sshd = await startSshdWithPath(s.bin);
    fs.writeFileSync(s.env.VC_CONFIG, farMachineToml(sshd));
  });
  after(() => sshd?.stop());

  test('the same rows as locally, from the remote machine; its session dir under the remote user\'s home', () => {
    s.pt.use('default');
    const r = vc(['collect', '--source', 'pt', '--json'], { ...s.env, XDG_RUNTIME_DIR: s.dir });
    assert.equal(r.code, 0, r.stderr + r.stdout);
    const rows = s.rows('far');
    assert.deepEqual(rows.map((l) => l.data.pid ?? null), [null, 2211, 84721, 40112, 5120]);
    assert.match(rows[0]!.data.session_dir, /^\/.+\/process_triage\/sessions\/pt-20260821-091406-k3qz$/);
  });
});

describe('pt views: given rows, expected rows', () => {
  const NOW = new Date('2026-11-24T12:00:00Z');
  let seq = 0;
  const store = async (dir: string, machine: string, at: string, items: Array<Record<string, unknown>>) => {
    const run = `p-${++seq}`;
    const envs: Envelope[] = items.map((d, i) => ({
      v: 1, source: 'pt', machine_id: machine, collected_at: at, run_id: run, collector_version: '1.0.0', schema_version: 1,
      kind: 'snapshot', data: storable(ptSchema.parse(withNulls(ptSchema, d))) as Record<string, unknown>, key: `${run}-${i}`,
    }));
    await appendEnvelopes(dir, envs);
    await appendEnvelopes(dir, [{
      v: 1, source: 'collector_runs', machine_id: machine, collected_at: at, run_id: run, collector_version: '1.0.0', schema_version: 1,
      kind: 'event', key: run, data: { source: 'pt', started_at: at, ended_at: at, duration_ms: 1, bytes: 1, rows: items.length, status: 'ok', error: null, warnings: [] },
    }]);
  };
  const SID = 'pt-20261124-114500-ab12';
  const cand = (pid: number, set: string, action: string, score: number, over: Record<string, unknown> = {}) => ({
    type: 'candidate', session_id: SID, pid, start_id: `${pid}:1790000000`, command_short: 'node', classification: 'abandoned',
    score, memory_mb: 100, cpu_percent: 0.5, age_seconds: 7200, confidence: 'high', user: 'dev', recommended_action: action, plan_set: set, ...over,
  });

  test('pt_findings and pt_factors: the latest plan\'s kill and review candidates with pt\'s command; spared ones are no finding', async (t) => {
    const dir = tmpDir('vc-pt-views-');
    await store(dir, 'm1', '2026-11-24T11:30:00.000Z', [{ type: 'run', exit_code: 1, session_id: 'pt-20261124-113000-zz99' }, cand(1, 'kill', 'kill', 99)]);
    await store(dir, 'm1', '2026-11-24T11:45:00.000Z', [
      { type: 'run', exit_code: 1, session_id: SID, session_dir: `/home/dev/.local/share/process_triage/sessions/${SID}` },
      cand(84721, 'kill', 'kill', 97, { command_short: 'node', memory_mb: 1843 }),
      cand(40112, 'kill', 'kill', 93, { command_short: 'python3', supervisor_type: 'systemd', supervisor_command: 'systemctl --user stop dev-http.service' }),
      cand(5120, 'review', 'review', 92, { command_short: 'cargo', classification: 'useful_bad', policy_blocked: true, policy_violation: 'matches force_review pattern' }),
      cand(6001, 'review', 'pause', 75, { command_short: 'rustc', classification: 'useful_bad' }),
      cand(2211, 'spare', 'keep', 99, { command_short: 'tmux', classification: 'useful' }),
    ]);
    await store(dir, 'm2', '2026-11-24T11:50:00.000Z', [{ type: 'run', exit_code: 0, session_id: 'pt-20261124-115000-cd34' }]);
    const s = await openSession({ dataDir: dir, now: NOW });
    t.after(() => s.close());

    assert.deepEqual(await s.query('SELECT machine_id, session_id, candidates FROM (SELECT p.machine_id, p.session_id, (SELECT count(*) FROM v1.pt_candidates c WHERE c.machine_id = p.machine_id) AS candidates FROM v1.pt_plans p) ORDER BY machine_id'), [
      { machine_id: 'm1', session_id: SID, candidates: 5 }, { machine_id: 'm2', session_id: 'pt-20261124-115000-cd34', candidates: 0 }]);
    const factors = await s.query(`SELECT machine_id, factor_id, subject, value, severity, title, fix FROM v1.health_factors WHERE factor_id LIKE 'pt%' ORDER BY value DESC`);
    assert.deepEqual(factors, [
      { machine_id: 'm1', factor_id: 'pt_kill', subject: '84721:1790000000', value: 97, severity: 'warn', title: 'm1: pt recommends kill of pid 84721 (node, abandoned)',
        fix: `pt agent apply --session ${SID} --pids 84721` },
      { machine_id: 'm1', factor_id: 'pt_kill', subject: '40112:1790000000', value: 93, severity: 'warn', title: 'm1: pt recommends kill of pid 40112 (python3, abandoned)',
        fix: 'systemctl --user stop dev-http.service' },
      { machine_id: 'm1', factor_id: 'pt_review', subject: '5120:1790000000', value: 92, severity: 'warn', title: 'm1: pt recommends a review of pid 5120 (cargo, useful_bad)',
        fix: `pt agent explain --session ${SID} --pids 5120` },
      { machine_id: 'm1', factor_id: 'pt_review', subject: '6001:1790000000', value: 75, severity: 'ok', title: 'm1: pt recommends pause of pid 6001 (rustc, useful_bad)',
        fix: `pt agent explain --session ${SID} --pids 6001` },
    ]);
    const [review] = await s.query(`SELECT summary FROM v1.pt_factors WHERE subject = '5120:1790000000'`);
    assert.equal(review!.summary, 'cargo (pid 5120, dev) is useful_bad by pt\'s reckoning (92% sure, high confidence): 100 MiB, 0.5% CPU over its life, 2h old; pt recommends review (policy: matches force_review pattern)');
    const triage = await s.query(`SELECT factor_id, fix, next FROM v1.triage_items WHERE factor_id LIKE 'pt%' ORDER BY rank`);
    assert.equal(triage.length, 3);
    assert.match((triage[0]!.next as string[])[0]!, /^vc query "SELECT .* FROM pt_findings WHERE machine_id = 'm1' ORDER BY score DESC"$/);
  });
});
