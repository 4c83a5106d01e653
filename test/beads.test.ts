// beads: br's and bv's recorded outputs (fixtures/beads, after ../shared/upstream/beads.md) parsed
// into items; vc collect --source beads end to end with fake br and bv on PATH, in repositories
// found under the repos roots (locally and on a real sshd); the views over what was stored and the
// beads report: given rows, expected rows.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { beadsItems, beadsSchema, repoItems, type StepName } from '../lib/sources/beads.ts';
import { parseDirRuns, type DirStepResult } from '../lib/sources/toolrun.ts';
import { agentsSchema } from '../lib/sources/agents.ts';
import { openSession, type Session } from '../lib/duck.ts';
import { appendEnvelopes } from '../lib/store.ts';
import { storable, type Envelope } from '../lib/envelope.ts';
import { runReportQueries } from '../lib/report.ts';
import beadsReport from '../reports/beads.ts';
import { fakeTool, type FakeTool } from './fakes.ts';
import { readRaw, tmpDir, vc, withNulls, writeExecutable } from './helpers.ts';
import { sshdAvailable, farMachineToml, startSshdWithPath, type Sshd } from './sshd.ts';

const FIXTURES = path.join(import.meta.dirname, '..', 'fixtures', 'beads');
const ARG: Record<StepName, string> = { br_ready: 'ready', br_list: 'list', bv_triage: '--robot-triage', bv_plan: '--robot-plan', bv_insights: '--robot-insights' };

/** A step's recorded answer, chosen as the fake chooses it: `<case>.<first arg>.*`, else `<case>.*`. */
function recorded(step: StepName, name: string): DirStepResult {
  const base = path.join(FIXTURES, step.slice(0, 2), name);
  const arg = ARG[step];
  const prefix = ['out', 'err', 'rc'].some((e) => fs.existsSync(`${base}.${arg}.${e}`)) ? `${base}.${arg}` : base;
  const read = (e: string) => (fs.existsSync(`${prefix}.${e}`) ? fs.readFileSync(`${prefix}.${e}`, 'utf8') : '');
  const stdout = read('out');
  return { stdout, stderr: read('err'), rc: Number(read('rc').trim() || 0), bytes: Buffer.byteLength(stdout), kept: true };
}

/** The steps of one repository: br's case for br's commands, bv's for bv's (null: that tool is not installed). */
function stepsOf(br: string | null, bv: string | null): Record<string, DirStepResult> {
  const out: Record<string, DirStepResult> = {};
  for (const s of Object.keys(ARG) as StepName[]) {
    const c = s.startsWith('br') ? br : bv;
    if (c !== null) out[s] = recorded(s, c);
  }
  return out;
}

const parsed = (br: string | null, bv: string | null, titles = true) => {
  const r = repoItems({ dir: '/src/api', steps: stepsOf(br, bv) }, { titles });
  for (const i of r.items) beadsSchema.parse(i.data);
  return { ...r, data: r.items.map((i) => withNulls(beadsSchema, i.data as Record<string, unknown>)) };
};
const ofType = (data: Array<Record<string, any>>, type: string) => data.filter((d) => d.type === type);

describe('br and bv output, parsed', () => {
  test('newest br and bv: a repo row with br\'s and bv\'s counts, issues flagged ready, bv\'s picks', () => {
    const { data, unreadable, read } = parsed('default', 'default');
    assert.deepEqual(unreadable, []);
    assert.equal(read, 5);
    const [repo] = ofType(data, 'repo');
    assert.deepEqual(repo, withNulls(beadsSchema, {
      type: 'repo', repo: '/src/api', ready_count: 3, list_count: 7, list_total: 7, list_shape: 'page',
      data_hash: '3f9c2b7a1e04d8c6', bv_generated_at: '2026-07-01T14:05:09.000Z',
      issue_count: 48, actionable_count: 9, not_closed_count: 19, not_actionable_count: 10, open_count: 14, blocked_count: 2,
      in_progress_count: 3, closed_count: 29, counts_era: 'strict', has_cycles: false, cycle_count: 0, closed_last_7_days: 6,
      closed_last_30_days: 21, history_status: 'ok', degraded: [], load_errors: 0, claim_top: 'CI=1 br update api-7k2 --status in_progress --json',
      plan_tracks: 2, plan_actionable: 3, plan_blocked: 16, plan_highest_impact: 'api-7k2', plan_unblocks_count: 2,
      insight_cycles: 0, insight_articulation: 1, insight_orphans: 1, cluster_density: 0.027,
    }));
    const issues = ofType(data, 'issue');
    assert.deepEqual(issues.map((i) => [i.id, i.status, i.ready]).sort(), [
      ['api-3qd', 'in_progress', false], ['api-3qd.2', 'rework', true], ['api-5rr', 'open', true], ['api-7k2', 'open', true],
      ['api-8m1', 'open', false], ['api-8m4', 'blocked', false], ['api-9dd', 'deferred', false],
    ]);
    const k2 = issues.find((i) => i.id === 'api-7k2')!;
    assert.deepEqual(k2, withNulls(beadsSchema, {
      type: 'issue', repo: '/src/api', id: 'api-7k2', title: 'Paginate events endpoint', status: 'open', priority: 1, issue_type: 'feature',
      assignee: 'BlueLake', created_at: '2026-06-18T09:12:44.120Z', updated_at: '2026-06-19T15:03:10.000Z',
      labels: ['backend', 'p1-sprint'], dependency_count: 0, dependent_count: 2, ready: true,
    }));
    assert.equal(issues.find((i) => i.id === 'api-9dd')!.defer_until, '2026-12-01T00:00:00.000Z');
    assert.ok(!JSON.stringify(data).includes('Cursor-based pagination'), 'descriptions are never stored');
    const picks = ofType(data, 'pick').map((p) => [p.kind, p.rank, p.id, p.score, p.unblocks]);
    assert.deepEqual(picks, [
      ['top_pick', 1, 'api-7k2', 0.612, 2], ['recommendation', 1, 'api-7k2', 0.612, 2], ['recommendation', 2, 'api-3qd.2', 0.547, 0],
      ['quick_win', 1, 'api-7k2', 0.71, 2], ['blocker', 1, 'api-7k2', null, 2],
      ['bottleneck', 1, 'api-7k2', 41.5, null], ['bottleneck', 2, 'api-3qd', 12, null],
    ]);
    const rec = ofType(data, 'pick').find((p) => p.kind === 'recommendation' && p.rank === 2)!;
    assert.deepEqual([rec.assignee, rec.status, rec.priority, rec.action, rec.reason], ['RedStone', 'in_progress', 0, 'Continue work on this issue', '🚧 In progress - already being worked']);
    assert.equal(ofType(data, 'pick').find((p) => p.kind === 'blocker')!.actionable, true);
    assert.equal(ofType(data, 'error').length, 0);
  });

  test('titles = false: no title anywhere', () => {
    const { data } = parsed('default', 'default', false);
    assert.ok(data.every((d) => d.title === null));
    assert.equal(ofType(data, 'issue').length, 7);
  });

  test('an older br (pretty, bare array, no labels in ready) and an older bv (legacy count meanings)', () => {
    const { data, unreadable } = parsed('variant', 'legacy');
    const [repo] = ofType(data, 'repo');
    assert.deepEqual([repo!.ready_count, repo!.list_count, repo!.list_total, repo!.list_shape], [2, 3, null, 'array']);
    // open_count 12 / blocked_count 7 meant "not closed" / "not actionable"; strict counts from by_status.
    assert.deepEqual([repo!.counts_era, repo!.not_closed_count, repo!.not_actionable_count, repo!.open_count, repo!.blocked_count, repo!.actionable_count],
      ['legacy', 12, 7, 7, 3, 5]);
    assert.deepEqual([repo!.has_cycles, repo!.cycle_count, repo!.history_status], [true, 2, null]);
    const issues = ofType(data, 'issue');
    assert.deepEqual(issues.map((i) => i.id).sort(), ['api-3qd', 'api-3qd.2', 'api-7k2'], 'the closed issue is not stored');
    assert.equal(issues.find((i) => i.id === 'api-3qd')!.ready, false);
    // Nil slices (labels, reasons, quick wins, blockers) read as empty.
    assert.deepEqual(ofType(data, 'pick').map((p) => [p.kind, p.id, p.reason]), [['top_pick', 'web-2c9', '✅ Currently unclaimed - available for work'], ['recommendation', 'web-2c9', null]]);
    // This fixture set has no plan or insights from that bv: "printed nothing" is unreadable.
    assert.deepEqual(unreadable.map((e) => e.message), ['bv --robot-plan printed nothing', 'bv --robot-insights printed nothing']);
  });

  test('a degraded triage: degraded codes and dropped records kept, no claim command', () => {
    const { data } = parsed(null, 'degraded');
    const [repo] = ofType(data, 'repo');
    assert.deepEqual([repo!.degraded, repo!.load_errors, repo!.claim_top, repo!.ready_count, repo!.actionable_count, repo!.history_status],
      [['robot_triage_load_incomplete'], 1, null, null, 9, 'timeout']);
    assert.deepEqual(ofType(data, 'pick').filter((p) => p.kind === 'top_pick'), []);
    assert.equal(ofType(data, 'pick').find((p) => p.kind === 'blocker')!.actionable, false);
    assert.equal(ofType(data, 'issue').length, 0, 'no br: no issue rows');
  });

  test('an empty tracker: zero counts, nil lists empty, no issues or picks', () => {
    const { data, unreadable } = parsed('empty', 'empty');
    assert.deepEqual(unreadable, []);
    const [repo] = ofType(data, 'repo');
    assert.deepEqual([repo!.ready_count, repo!.list_count, repo!.list_total, repo!.actionable_count, repo!.data_hash, repo!.claim_top, repo!.plan_tracks, repo!.plan_highest_impact, repo!.insight_cycles, repo!.cluster_density],
      [0, 0, 0, 0, 'empty', null, 0, null, 0, 0]);
    assert.deepEqual(data.map((d) => d.type), ['repo']);
  });

  test('the tools\' own errors are data: br\'s error object (code, retryable), bv\'s "Error handling" line', () => {
    const { data, unreadable, read } = parsed('error', 'error');
    assert.deepEqual(unreadable, []);
    assert.equal(read, 5);
    assert.deepEqual(ofType(data, 'error').map((e) => [e.step, e.exit_code, e.error_kind, e.error_code, e.retryable]), [
      ['br ready --json --limit 0', 2, 'tool', 'DATABASE_LOCKED', true], ['br list --json --limit 0', 2, 'tool', 'DATABASE_LOCKED', true],
      ['bv --robot-triage', 1, 'tool', null, null], ['bv --robot-plan', 1, 'tool', null, null], ['bv --robot-insights', 1, 'tool', null, null],
    ]);
    assert.equal(ofType(data, 'error')[0]!.message, 'Database is locked by another process');
    assert.match(ofType(data, 'error')[2]!.message, /^Error handling --robot-triage: loading issues: no beads data found/);
    assert.equal(ofType(data, 'repo')[0]!.ready_count, null);
  });

  test('what vc cannot read is an error row naming the command: garbage, TOON, a wrong shape, a crash, a hang, too much output', () => {
    const unreadable = (br: string | null, bv: string | null) => parsed(br, bv).unreadable.map((e) => `${e.kind}: ${e.message}`);
    assert.deepEqual(unreadable('garbage', 'toon'), [
      'output: br ready --json --limit 0 did not print JSON: "Ready issues: api-7k2 Paginate events endpoint"',
      'output: br list --json --limit 0 did not print JSON: "Ready issues: api-7k2 Paginate events endpoint"',
      ...['--robot-triage', '--robot-plan', '--robot-insights'].map((a) => `output: bv ${a} did not print JSON: "generated_at: 2026-07-01T14:05:09Z data_hash: 3f9c2b7a1e04d8c6 triage: meta: version: 1.0.0"`),
    ]);
    const wrong = unreadable('wrongshape', 'wrongshape');
    assert.equal(wrong.length, 5);
    assert.match(wrong[0]!, /^output: br ready --json --limit 0 printed JSON of an unexpected shape: \[0\]\.id/);
    assert.match(wrong[1]!, /^output: br list --json --limit 0 printed JSON of an unexpected shape/);
    assert.match(wrong[2]!, /^output: bv --robot-triage printed JSON of an unexpected shape: triage\.quick_ref/);
    assert.match(wrong[3]!, /^output: bv --robot-plan printed JSON of an unexpected shape: plan\./);
    assert.match(wrong[4]!, /^output: bv --robot-insights printed JSON of an unexpected shape: Bottlenecks\[0\]\.ID/);
    assert.deepEqual(unreadable('crash', 'crash'), [
      'output: br ready --json --limit 0 exited 101; stderr: "schema version 9 is newer than this br (8) note: run with `RUST_BACKTRACE=1` environment variable to display a backtrace"',
      'output: br list --json --limit 0 exited 101; stderr: "schema version 9 is newer than this br (8) note: run with `RUST_BACKTRACE=1` environment variable to display a backtrace"',
      ...['--robot-triage', '--robot-plan', '--robot-insights'].map((a) => `output: bv ${a} exited 2; stderr: "main.main() /src/cmd/bv/main.go:812 +0x1d4"`),
    ]);
    const hung = repoItems({ dir: '/src/api', steps: { br_ready: { stdout: '', stderr: '', rc: 124, bytes: 0, kept: true } } }, { titles: true });
    assert.deepEqual(hung.unreadable.map((e) => `${e.kind}: ${e.message}`), ['timeout: br ready --json --limit 0 did not answer in time and was stopped']);
    const page = repoItems({ dir: '/src/api', steps: { br_list: { stdout: '{"issues":[],"total":70,"limit":50,"offset":0,"has_more":true}', stderr: '', rc: 0, bytes: 60, kept: true } } }, { titles: true });
    assert.deepEqual(page.unreadable, []);
    assert.deepEqual(page.items.map((i) => [(i.data as any).type, (i.data as any).list_total ?? (i.data as any).message]),
      [['repo', 70], ['error', 'br list returned 0 of 70 issues (has_more): the counts are incomplete']]);
    const big = repoItems({ dir: '/src/api', steps: { bv_triage: { stdout: '', stderr: '', rc: 0, bytes: 9_000_000, kept: false } } }, { titles: true });
    assert.deepEqual(big.unreadable.map((e) => `${e.kind}: ${e.message}`), ['size: bv --robot-triage printed 9000000 bytes, more than the run\'s output budget left; not read']);
  });

  test('the per-directory framing keeps each step\'s stdout and stderr byte for byte, and which steps did not run', () => {
    const m = '@@vcd-0123456789abcdef@@';
    const text = `\n${m} dir\n/a b/c\n${m} out br_ready 0 12 1\n[1,\n@@vcd-x@@ out\n]\n${m} err br_ready\nwarn: x\n${m} skip bv_triage\n`
      + `\n${m} dir\n/d\n${m} out br_list 2 9000 0\n\n${m} err br_list\n{"error":{}}`;
    assert.deepEqual(parseDirRuns(text, m), [
      { dir: '/a b/c', steps: { br_ready: { stdout: '[1,\n@@vcd-x@@ out\n]', stderr: 'warn: x', rc: 0, bytes: 12, kept: true } }, notRun: ['bv_triage'] },
      { dir: '/d', steps: { br_list: { stdout: '', stderr: '{"error":{}}', rc: 2, bytes: 9000, kept: false } }, notRun: [] },
    ]);
  });

  test('a run: an error only when nothing could be read; otherwise the unreadable become warnings', () => {
    const run = (dirs: Array<{ dir: string; steps: Record<string, DirStepResult>; notRun: string[] }>, found = dirs.length) =>
      beadsItems({ tools: { br: '/usr/bin/br', bv: '/usr/bin/bv' }, found, find: { rc: 0, stderr: '' }, dirs }, { titles: true, maxRepos: 1, findTimeoutSeconds: 10 });
    assert.throws(() => run([{ dir: '/a', steps: stepsOf('garbage', 'crash'), notRun: [] }]),
      /^Error: br ready --json --limit 0 did not print JSON: .* \(and 4 more command\(s\) that could not be read\)$/);
    const mixed = run([{ dir: '/a', steps: stepsOf('default', 'toon'), notRun: [] }, { dir: '/b', steps: {}, notRun: ['br_ready', 'bv_triage'] }], 3);
    assert.deepEqual(mixed.warnings, [
      'found 3 repositories with .beads; checked the first 2 (max_repos = 1)',
      '2 command(s) not started: the run\'s time was up (a lower bv_timeout_seconds or max_repos makes room)',
      '3 command(s) printed what vc could not read, e.g. bv --robot-triage did not print JSON: "generated_at: 2026-07-01T14:05:09Z data_hash: 3f9c2b7a1e04d8c6 triage: meta: version: 1.0.0"',
    ]);
    const [first] = mixed.items.map((i) => withNulls(beadsSchema, i.data as Record<string, unknown>));
    assert.deepEqual(first, withNulls(beadsSchema, { type: 'run', repos_found: 3, repos_checked: 2, br_installed: true, bv_installed: true }));
    // The tools' own errors everywhere: all of it is data.
    assert.equal(run([{ dir: '/a', steps: stepsOf('error', 'error'), notRun: [] }]).warnings.length, 0);
    // Nothing found: a run row and nothing else.
    assert.deepEqual(run([]).items.map((i) => (i.data as any).type), ['run']);
  });
});

// ---------------------------------------------------------------------------------------------
// End to end

interface Setup {
  dir: string;
  bin: string;
  br: FakeTool;
  bv: FakeTool;
  env: { VC_DATA_DIR: string; VC_CONFIG: string; PATH: string; BEADS_DIR: string; TOON_DEFAULT_FORMAT: string };
  code: string;
  collect(): { code: number | null; stdout: string; stderr: string };
  lastRun(): Record<string, any>;
  rows(machine?: string): Array<Record<string, any>>;
  /** Per call of br or bv: the tool, its cwd and the environment it saw. */
  seen(): Array<{ tool: string; cwd: string; format: string; beadsDir: string; rustLog: string }>;
  config(extra: string): void;
}

/** A temp home with repositories under code/, fake br and bv first on PATH, each logging its cwd. */
function setup(): Setup {
  const dir = tmpDir('vc-beads-');
  const bin = path.join(dir, 'bin');
  const code = path.join(dir, 'code');
  fs.mkdirSync(bin);
  const mk = (rel: string) => fs.mkdirSync(path.join(code, rel), { recursive: true });
  // Found: api (a .git dir) and web (a .git file, as a worktree has). Not: a repo without .beads, a
  // .beads outside any repo, one under an excluded directory, one inside a .git.
  for (const p of ['api/.git', 'api/.beads', 'api/src', 'web/.beads', 'plain/.git', 'notes/.beads', 'node_modules/dep/.git', 'node_modules/dep/.beads', 'api/.git/x/.beads']) mk(p);
  fs.writeFileSync(path.join(code, 'web', '.git'), 'gitdir: /elsewhere/.git/worktrees/web\n');
  const seenLog = path.join(bin, 'seen.log');
  fs.writeFileSync(seenLog, '', { mode: 0o666 });
  fs.chmodSync(seenLog, 0o666);
  const fakes = ['br', 'bv'].map((tool) => {
    const fake = fakeTool(bin, tool, `beads/${tool}`);
    fs.renameSync(fake.path, `${fake.path}.fake`);
    writeExecutable(bin, tool, `#!/bin/sh\nprintf '%s|%s|%s|%s|%s\\n' ${tool} "$PWD" "\${BV_OUTPUT_FORMAT:-}" "\${BEADS_DIR:-}" "\${RUST_LOG:-}" >> '${seenLog}'\nexec '${fake.path}.fake' "$@"\n`);
    return fake;
  });
  const conf = path.join(dir, 'vc.toml');
  const base = `[collectors.repos]\nroots = [${JSON.stringify(code)}]\n`;
  fs.writeFileSync(conf, base);
  // An inherited BEADS_DIR or TOON setting must not reach the tools.
  const env = { VC_DATA_DIR: path.join(dir, 'data'), VC_CONFIG: conf, PATH: `${bin}:${process.env.PATH}`, BEADS_DIR: '/wrong', TOON_DEFAULT_FORMAT: 'toon' };
  return {
    dir, bin, br: fakes[0]!, bv: fakes[1]!, env, code,
    collect: () => vc(['collect', '--source', 'beads', '--json'], env),
    lastRun: () => readRaw(env.VC_DATA_DIR, 'collector_runs', 'local').at(-1)!.data,
    rows: (machine = 'local') => readRaw(env.VC_DATA_DIR, 'beads', machine),
    seen: () => fs.readFileSync(seenLog, 'utf8').split('\n').filter(Boolean).map((l) => {
      const [tool, cwd, format, beadsDir, rustLog] = l.split('|');
      return { tool: tool!, cwd: cwd!, format: format!, beadsDir: beadsDir!, rustLog: rustLog! };
    }),
    config: (extra) => fs.writeFileSync(conf, `${base}[collectors.beads]\n${extra}\n`),
  };
}

describe('vc collect --source beads', { concurrency: true }, () => {
  test('finds the repositories with .beads under the repos roots and runs every command in each, with a clean environment', () => {
    const s = setup();
    const r = s.collect();
    assert.equal(r.code, 0, r.stderr + r.stdout);
    assert.equal(s.lastRun().status, 'ok');
    assert.deepEqual(s.lastRun().warnings, []);
    const api = path.join(s.code, 'api');
    const web = path.join(s.code, 'web');
    assert.deepEqual(s.br.calls(), [['ready', '--json', '--limit', '0'], ['list', '--json', '--limit', '0'], ['ready', '--json', '--limit', '0'], ['list', '--json', '--limit', '0']]);
    assert.deepEqual(s.bv.calls(), [['--robot-triage'], ['--robot-plan'], ['--robot-insights'], ['--robot-triage'], ['--robot-plan'], ['--robot-insights']]);
    assert.deepEqual(s.seen().map((c) => [c.tool, c.cwd]), [
      ['br', api], ['br', api], ['bv', api], ['bv', api], ['bv', api], ['br', web], ['br', web], ['bv', web], ['bv', web], ['bv', web],
    ]);
    assert.ok(s.seen().every((c) => c.beadsDir === '' && (c.tool === 'br' ? c.rustLog === 'error' : c.format === 'json')), JSON.stringify(s.seen()));
    const rows = s.rows();
    assert.equal(s.lastRun().rows, rows.length);
    assert.deepEqual(rows[0]!.data, { type: 'run', repos_found: 2, repos_checked: 2, br_installed: true, bv_installed: true });
    assert.deepEqual(rows.filter((l) => l.data.type === 'repo').map((l) => [l.data.repo, l.data.ready_count, l.data.actionable_count]), [[api, 3, 9], [web, 3, 9]]);
    assert.equal(rows.filter((l) => l.data.type === 'issue').length, 14);
    assert.equal(rows.find((l) => l.data.type === 'repo')!.raw.quick_ref.not_closed_count, 19, 'bv\'s counts kept as raw');
  });

  test('max_repos caps the repositories checked, and says so', () => {
    const s = setup();
    s.config('max_repos = 1\ninsights = false');
    assert.equal(s.collect().code, 0);
    assert.deepEqual(s.lastRun().warnings, ['found 2 repositories with .beads; checked the first 1 (max_repos = 1)']);
    assert.deepEqual(s.rows().filter((l) => l.data.type === 'repo').map((l) => l.data.repo), [path.join(s.code, 'api')]);
    assert.deepEqual(s.bv.calls(), [['--robot-triage'], ['--robot-plan']], 'insights = false');
  });

  test('absent without br and bv; with bv only, bv\'s answers', () => {
    const s = setup();
    fs.rmSync(path.join(s.bin, 'br'));
    fs.rmSync(path.join(s.bin, 'bv'));
    assert.equal(s.collect().code, 0);
    assert.equal(s.lastRun().status, 'absent');
    assert.match(s.lastRun().warnings[0], /^br and bv are not installed here/);
    assert.deepEqual(s.rows(), []);
    fs.copyFileSync(path.join(s.bin, 'bv.fake'), path.join(s.bin, 'bv'));
    fs.chmodSync(path.join(s.bin, 'bv'), 0o755);
    assert.equal(s.collect().code, 0);
    assert.equal(s.lastRun().status, 'ok');
    assert.deepEqual(s.rows().filter((l) => l.data.type !== 'pick').map((l) => [l.data.type, l.data.br_installed ?? null, l.data.ready_count ?? null, l.data.actionable_count ?? null]),
      [['run', false, null, null], ['repo', null, null, 9], ['repo', null, null, 9]]);
  });

  test('the tools\' own errors are stored as data (ok); garbage or a crash is a recorded error and stores nothing', () => {
    const s = setup();
    s.config('max_repos = 1');
    s.br.use('error');
    s.bv.use('error');
    assert.equal(s.collect().code, 0);
    assert.equal(s.lastRun().status, 'ok');
    assert.deepEqual(s.rows().filter((l) => l.data.type === 'error').map((l) => l.data.error_code ?? l.data.step), ['DATABASE_LOCKED', 'DATABASE_LOCKED', 'bv --robot-triage', 'bv --robot-plan', 'bv --robot-insights']);
    for (const c of ['garbage', 'crash']) {
      const before = s.rows().length;
      s.br.use(c);
      s.bv.use(c);
      assert.equal(s.collect().code, 1, c);
      assert.equal(s.lastRun().status, 'error', c);
      assert.match(s.lastRun().error, /^br ready --json --limit 0 (did not print JSON|exited 101).*\(and 4 more command\(s\)/, c);
      assert.equal(s.rows().length, before, `${c}: nothing stored`);
    }
  });

  test('br and bv that hang are stopped at their step timeouts: a recorded error, nothing stored', () => {
    const s = setup();
    s.config('max_repos = 1\ninsights = false\nbr_timeout_seconds = 1\nbv_timeout_seconds = 1');
    s.br.use('hang');
    s.bv.use('hang');
    const t0 = Date.now();
    assert.equal(s.collect().code, 1);
    assert.ok(Date.now() - t0 < 20_000, `took ${Date.now() - t0} ms`);
    assert.equal(s.lastRun().status, 'error');
    assert.match(s.lastRun().error, /^br ready --json --limit 0 did not answer in time and was stopped \(and 3 more/);
    assert.deepEqual(s.rows(), []);
  });
});

describe('beads over ssh', { skip: sshdAvailable() ? false : 'needs root and /usr/sbin/sshd' }, () => {
  let sshd: Sshd;
  const s = setup();
  before(async () => {
    for (const d of [s.dir, s.bin, s.code, path.join(s.code, 'api'), path.join(s.code, 'web')]) fs.chmodSync(d, 0o755);
    sshd = await startSshdWithPath(s.bin);
    fs.writeFileSync(s.env.VC_CONFIG, farMachineToml(sshd, ['[collectors.repos]', `roots = [${JSON.stringify(s.code)}]`, '[collectors.beads]', 'insights = false']));
  });
  after(() => sshd?.stop());

  test('the same rows as locally, from the remote machine', () => {
    s.bv.use('legacy');
    const r = vc(['collect', '--source', 'beads', '--json'], { ...s.env, XDG_RUNTIME_DIR: s.dir });
    assert.equal(r.code, 0, r.stderr + r.stdout);
    const rows = readRaw(s.env.VC_DATA_DIR, 'beads', 'far');
    assert.deepEqual(rows.filter((l) => l.data.type === 'repo').map((l) => [l.data.repo, l.data.ready_count, l.data.counts_era, l.data.not_closed_count]),
      [[path.join(s.code, 'api'), 3, 'legacy', 12], [path.join(s.code, 'web'), 3, 'legacy', 12]]);
    assert.deepEqual(s.seen().map((c) => c.cwd), [...Array(4).fill(path.join(s.code, 'api')), ...Array(4).fill(path.join(s.code, 'web'))]);
  });
});

// ---------------------------------------------------------------------------------------------
// Views and report

describe('beads views: given rows, expected rows', () => {
  const NOW = new Date('2026-11-24T12:00:00Z');
  const ago = (min: number) => new Date(NOW.getTime() - min * 60_000).toISOString();
  let seq = 0;
  const envelopes: Envelope[] = [];
  const runLine = (machine: string, source: string, at: string, run: string, rows: number): Envelope => ({
    v: 1, source: 'collector_runs', machine_id: machine, collected_at: at, run_id: run, collector_version: '1.0.0', schema_version: 1,
    kind: 'event', key: run, data: { source, started_at: at, ended_at: at, duration_ms: 1, bytes: 1, rows, status: 'ok', error: null, warnings: [] },
  });
  const beads = (machine: string, at: string, items: Array<Record<string, unknown>>) => {
    const run = `b-${++seq}`;
    envelopes.push(...items.map((d): Envelope => ({
      v: 1, source: 'beads', machine_id: machine, collected_at: at, run_id: run, collector_version: '1.0.0', schema_version: 1,
      kind: 'snapshot', data: storable(beadsSchema.parse(withNulls(beadsSchema, d))) as Record<string, unknown>,
    })), runLine(machine, 'beads', at, run, items.length));
  };
  const AGENT_BLANK = Object.fromEntries(Object.keys(agentsSchema.options[0].shape).filter((k) => k !== 'type').map((k) => [k, null]));
  const agents = (machine: string, at: string, cwds: string[]) => {
    const run = `a-${++seq}`;
    envelopes.push(...cwds.map((cwd, k): Envelope => ({
      v: 1, source: 'agents', machine_id: machine, collected_at: at, run_id: run, collector_version: '1.0.0', schema_version: 1, kind: 'snapshot',
      data: storable(agentsSchema.parse({ ...AGENT_BLANK, type: 'process', pid: 100 + k, ppid: 1, agent: 'claude', comm: 'claude', cwd, state: 'S', cpu_seconds: 1, started_at: ago(60) })) as Record<string, unknown>,
    })), runLine(machine, 'agents', at, run, cwds.length));
  };
  const API = '/home/dev/src/api';
  const WEB = '/home/dev/src/web';
  const OPS = '/home/dev/src/ops';
  const issue = (repo: string, id: string, status: string, priority: number, ready: boolean | null, more: Record<string, unknown> = {}) =>
    ({ type: 'issue', repo, id, title: `${id} title`, status, priority, issue_type: 'task', ready, updated_at: ago(120), dependency_count: 0, dependent_count: 0, ...more });

  // m1: an older run (ignored), then the last one: api (br, an agent in a subdirectory), web (br,
  // no agent, a cycle), ops (br failed, bv answered, bv dropped records). m2: no agents data.
  beads('m1', ago(40), [{ type: 'run', repos_found: 1, repos_checked: 1 }, { type: 'repo', repo: API, ready_count: 9, list_count: 9 }]);
  beads('m1', ago(5), [
    { type: 'run', repos_found: 3, repos_checked: 3, br_installed: true, bv_installed: true },
    { type: 'repo', repo: API, ready_count: 2, list_count: 6, actionable_count: 4, in_progress_count: 1, not_actionable_count: 2 },
    issue(API, 'a1', 'open', 1, true, { dependent_count: 3 }),
    issue(API, 'a2', 'open', 2, true),
    issue(API, 'a3', 'open', 1, false, { dependency_count: 1 }),
    issue(API, 'a4', 'blocked', 2, false, { dependent_count: 1 }),
    issue(API, 'a5', 'in_progress', 0, false),
    issue(API, 'a6', 'open', 3, false, { defer_until: '2026-12-24T00:00:00.000Z' }),
    { type: 'pick', repo: API, kind: 'top_pick', rank: 1, id: 'a1', title: 'a1 title', score: 0.7 },
    { type: 'pick', repo: API, kind: 'recommendation', rank: 1, id: 'a5', title: 'a5 title', score: 0.8 },
    { type: 'pick', repo: API, kind: 'blocker', rank: 1, id: 'a3', title: 'a3 title', unblocks: 2 },
    { type: 'repo', repo: WEB, ready_count: 1, list_count: 1, cycle_count: 2, has_cycles: true },
    issue(WEB, 'w1', 'open', 0, true),
    { type: 'pick', repo: WEB, kind: 'recommendation', rank: 1, id: 'w1', title: 'w1 title', score: 0.5 },
    { type: 'repo', repo: OPS, actionable_count: 4, in_progress_count: 1, not_closed_count: 16, not_actionable_count: 12, load_errors: 3, degraded: ['robot_triage_load_incomplete'], insight_cycles: 0 },
    { type: 'error', repo: OPS, step: 'br ready --json --limit 0', exit_code: 2, error_kind: 'tool', error_code: 'DATABASE_LOCKED', message: 'Database is locked' },
    { type: 'error', repo: OPS, step: 'br list --json --limit 0', exit_code: 2, error_kind: 'tool', error_code: 'DATABASE_LOCKED', message: 'Database is locked' },
  ]);
  agents('m1', ago(2), [`${API}/sub`, '/home/dev/src/apiary']);
  beads('m2', ago(5), [
    { type: 'run', repos_found: 1, repos_checked: 1, br_installed: true, bv_installed: false },
    { type: 'repo', repo: '/srv/x', list_count: 1 },
    issue('/srv/x', 'x1', 'open', 0, null),
  ]);

  let s: Session;
  let dir: string;
  before(async () => {
    dir = tmpDir('vc-beads-views-');
    await appendEnvelopes(dir, [...envelopes].sort((a, b) => a.collected_at.localeCompare(b.collected_at)));
    s = await openSession({ dataDir: dir, now: NOW });
  });
  after(() => s?.close());

  test('staging: the last run only; issue states; picks; errors', async () => {
    assert.deepEqual(await s.query('SELECT machine_id, name, ready_count, list_count FROM v1.beads_repo_stats ORDER BY machine_id, repo'), [
      { machine_id: 'm1', name: 'api', ready_count: 2, list_count: 6 },
      { machine_id: 'm1', name: 'ops', ready_count: null, list_count: null },
      { machine_id: 'm1', name: 'web', ready_count: 1, list_count: 1 },
      { machine_id: 'm2', name: 'x', ready_count: null, list_count: 1 },
    ]);
    assert.deepEqual(await s.query('SELECT machine_id, id, state FROM v1.beads_issues ORDER BY machine_id, id'), [
      { machine_id: 'm1', id: 'a1', state: 'ready' }, { machine_id: 'm1', id: 'a2', state: 'ready' },
      { machine_id: 'm1', id: 'a3', state: 'blocked' }, { machine_id: 'm1', id: 'a4', state: 'blocked' },
      { machine_id: 'm1', id: 'a5', state: 'in_progress' }, { machine_id: 'm1', id: 'a6', state: 'deferred' },
      { machine_id: 'm1', id: 'w1', state: 'ready' }, { machine_id: 'm2', id: 'x1', state: 'unknown' },
    ]);
    assert.deepEqual(await s.query(`SELECT kind, rank, id FROM v1.beads_picks WHERE repo = '${API}' ORDER BY kind, rank`),
      [{ kind: 'blocker', rank: 1, id: 'a3' }, { kind: 'recommendation', rank: 1, id: 'a5' }, { kind: 'top_pick', rank: 1, id: 'a1' }]);
    assert.deepEqual(await s.query('SELECT name, error_code FROM v1.beads_errors ORDER BY step'), [{ name: 'ops', error_code: 'DATABASE_LOCKED' }, { name: 'ops', error_code: 'DATABASE_LOCKED' }]);
  });

  test('beads_repos: br\'s counts where it answered, bv\'s otherwise; agents in the repository (not in a sibling); bv\'s top pick', async () => {
    assert.deepEqual(await s.query(`SELECT machine_id, name, counted_by, ready, ready_high, blocked, in_progress, deferred, not_closed, agents, top_id, cycles, errors
      FROM v1.beads_repos ORDER BY machine_id, repo`), [
      { machine_id: 'm1', name: 'api', counted_by: 'br', ready: 2, ready_high: 1, blocked: 2, in_progress: 1, deferred: 1, not_closed: 6, agents: 1, top_id: 'a1', cycles: null, errors: 0 },
      // bv: 4 actionable of which 1 in progress; not actionable 12.
      { machine_id: 'm1', name: 'ops', counted_by: 'bv', ready: 3, ready_high: null, blocked: 12, in_progress: 1, deferred: null, not_closed: 16, agents: 0, top_id: null, cycles: 0, errors: 2 },
      { machine_id: 'm1', name: 'web', counted_by: 'br', ready: 1, ready_high: 1, blocked: 0, in_progress: 0, deferred: 0, not_closed: 1, agents: 0, top_id: 'w1', cycles: 2, errors: 0 },
      // No agents data on m2: unknown, not 0. br ready not read: readiness unknown.
      { machine_id: 'm2', name: 'x', counted_by: null, ready: null, ready_high: null, blocked: null, in_progress: 0, deferred: 0, not_closed: 1, agents: null, top_id: null, cycles: null, errors: 0 },
    ]);
    assert.deepEqual(await s.query('SELECT machine_id, repos_found, ready, ready_high, blocked, errors, idle_repos_with_ready FROM v1.beads_machines ORDER BY machine_id'), [
      { machine_id: 'm1', repos_found: 3, ready: 6, ready_high: 2, blocked: 14, errors: 2, idle_repos_with_ready: 2 },
      { machine_id: 'm2', repos_found: 1, ready: null, ready_high: null, blocked: null, errors: 0, idle_repos_with_ready: 0 },
    ]);
    assert.deepEqual((await s.query('SELECT id FROM v1.beads_ready ORDER BY priority, id')).map((r) => r.id), ['w1', 'a1', 'a2']);
    assert.deepEqual((await s.query('SELECT id, dependency_count FROM v1.beads_blocked ORDER BY id')), [{ id: 'a3', dependency_count: 1 }, { id: 'a4', dependency_count: 0 }]);
  });

  test('beads factors: graded against their thresholds, in health and triage with runnable next steps', async () => {
    const factors = await s.query(`SELECT machine_id, factor_id, regexp_extract(subject, '[^/]+$') AS repo, value, severity FROM health_factors
      WHERE factor_id LIKE 'beads_%' ORDER BY machine_id, factor_id, subject`);
    assert.deepEqual(factors, [
      { machine_id: 'm1', factor_id: 'beads_blocked', repo: 'api', value: 2, severity: 'ok' },
      { machine_id: 'm1', factor_id: 'beads_blocked', repo: 'ops', value: 12, severity: 'warn' },
      { machine_id: 'm1', factor_id: 'beads_blocked', repo: 'web', value: 0, severity: 'ok' },
      { machine_id: 'm1', factor_id: 'beads_cycles', repo: 'ops', value: 0, severity: 'ok' },
      { machine_id: 'm1', factor_id: 'beads_cycles', repo: 'web', value: 2, severity: 'warn' },
      // ops: two failed commands and bv's dropped records.
      { machine_id: 'm1', factor_id: 'beads_errors', repo: 'api', value: 0, severity: 'ok' },
      { machine_id: 'm1', factor_id: 'beads_errors', repo: 'ops', value: 3, severity: 'crit' },
      { machine_id: 'm1', factor_id: 'beads_errors', repo: 'web', value: 0, severity: 'ok' },
      // web has a ready P0 and no agent; api has its agent; ops has no br readiness; m2 has no agents data.
      { machine_id: 'm1', factor_id: 'beads_idle_ready', repo: 'web', value: 1, severity: 'warn' },
      { machine_id: 'm2', factor_id: 'beads_errors', repo: 'x', value: 0, severity: 'ok' },
    ]);
    const idle = (await s.query(`SELECT summary, fix, title FROM health_factors WHERE factor_id = 'beads_idle_ready'`))[0]!;
    assert.equal(idle.summary, `${WEB}: 1 ready P0/P1 issues (1 ready in all) and no agent running there; bv's top pick: w1 w1 title`);
    assert.equal(idle.fix, 'br show w1 --json');
    assert.equal(idle.title, 'm1: 1 ready P0/P1 issues in web with no agent');
    const items = await s.query(`SELECT factor_id, severity, title, next, fix FROM v1.triage_items WHERE factor_id LIKE 'beads_%' ORDER BY rank`);
    // Within warn, by impact: the cycles half way to crit, then one idle P0 (weight 0.5), then 12 blocked (weight 0.3).
    assert.deepEqual(items.map((i) => [i.factor_id, i.severity]), [['beads_errors', 'crit'], ['beads_cycles', 'warn'], ['beads_idle_ready', 'warn'], ['beads_blocked', 'warn']]);
    assert.equal(items[0]!.fix, 'br list --json --limit 0');
    for (const i of items) {
      for (const cmd of i.next as string[]) {
        assert.match(cmd, /^vc (report beads --md|report machines --md|query "[^"]*")$/);
        const sql = /^vc query "([^"]*)"$/.exec(cmd)?.[1];
        if (sql) {
          assert.ok(sql.includes(`machine_id = 'm1'`), cmd);
          assert.ok((await s.query(sql)).length > 0, `${cmd} finds the rows it points at`);
        }
      }
    }
  });

  test('the beads report: its queries over the views, and its Markdown', async () => {
    const data = await runReportQueries('beads', s, {});
    assert.deepEqual((data.repos as any[]).map((r) => [r.machine_id, r.name]), [['m1', 'web'], ['m1', 'ops'], ['m1', 'api'], ['m2', 'x']],
      'ready work with no agent first');
    assert.deepEqual((data.ready as any[]).map((r) => r.id), ['w1', 'a1', 'a2']);
    assert.deepEqual((data.blocked as any[]).map((r) => r.id), ['a4', 'a3']);
    assert.deepEqual((data.picks as any[]).map((r) => [r.name, r.kind, r.id]), [['api', 'top_pick', 'a1'], ['api', 'recommendation', 'a5'], ['web', 'recommendation', 'w1']]);
    assert.equal((data.errors as any[]).length, 2);
    const md = beadsReport.render(data, { at: NOW, staleness: { beads: 300 }, warnings: [], options: {} });
    assert.match(md, /^# vc beads · 2026-11-24 12:00 UTC\n/);
    assert.match(md, /\| m1 \| web \| 1 \| 1 \| 0 \| 0 \| none \| w1 w1 title \| 2 cycles \| \/home\/dev\/src\/web \|/);
    assert.match(md, /\| m1 \| ops \| 3 \(bv\) \|  \| 12 \| 1 \| none \|  \| failed: br list --json --limit 0, br ready --json --limit 0; bv dropped 3 records \|/);
    assert.match(md, /## Failed commands\n/);
    const empty = beadsReport.render({ machines: [], repos: [], ready: [], blocked: [], picks: [], errors: [] }, { at: NOW, staleness: {}, warnings: [], options: {} });
    assert.match(empty, /No beads data yet/);
  });

  test('vc report beads --json: the robot envelope around the same data', () => {
    const conf = path.join(dir, 'vc.toml');
    fs.writeFileSync(conf, '[[machines]]\nid = "m1"\nssh = "m1.example"\n\n[[machines]]\nid = "m2"\nssh = "m2.example"\n');
    const r = vc(['report', 'beads', '--json'], { VC_DATA_DIR: dir, VC_CONFIG: conf });
    assert.equal(r.code, 0, r.stderr);
    const env = JSON.parse(r.stdout);
    assert.equal(env.schema_version, 'vc.beads.v1');
    assert.deepEqual(Object.keys(env.data), ['machines', 'repos', 'ready', 'blocked', 'picks', 'errors']);
    assert.deepEqual(env.data.machines.map((m: any) => [m.machine_id, m.ready, m.blocked]), [['m1', 6, 14], ['m2', null, null]]);
    assert.equal(typeof env.staleness.beads, 'number');
  });
});
