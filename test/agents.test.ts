// The agents collector against a real, private tmux server and real fake-agent processes, plus
// hostile, flooding and hanging fake tmux binaries, and the pure matching and parsing rules.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import type { Section } from '../lib/sections.ts';
import { agentsSchema, matchAgent, parseAgentsOutput, parseCwds, parsePs } from '../lib/sources/agents.ts';
import { readRaw, runScript, tmpDir, withNulls, writeExecutable } from './helpers.ts';

const FIELDS = [
  'type', 'session', 'session_id', 'session_created_at', 'session_activity_at', 'session_attached', 'session_windows',
  'window_index', 'window_name', 'pane_index', 'pane_id', 'pane_pid', 'pane_command', 'pane_path', 'pane_dead',
  'pane_activity_at', 'pid', 'ppid', 'agent', 'comm', 'args', 'cwd', 'state', 'cpu_seconds', 'rss_bytes', 'started_at', 'user',
].sort();

const LOOP = '#!/bin/sh\nwhile :; do sleep 5; done\n';

const root = fs.realpathSync(tmpDir('vc-agents-'));
const mkdir = (...parts: string[]) => {
  const dir = path.join(root, ...parts);
  fs.mkdirSync(dir, { recursive: true });
  return dir;
};
const bin = mkdir('bin');
const vendor = mkdir('vendor');
const cwd = { claude: mkdir('proj-claude'), codex: mkdir('proj codex'), plain: mkdir('proj-plain'), gemini: mkdir('proj-gemini') };
const tmuxDir = mkdir('tmux');
// TMUX='' keeps a test run from inside tmux off the user's server: tmux prefers $TMUX's socket.
const tmuxEnv = { TMUX_TMPDIR: tmuxDir, TMUX: '' };

function tmux(...args: string[]): string {
  const r = spawnSync('tmux', ['-f', '/dev/null', ...args], { env: { ...process.env, ...tmuxEnv }, encoding: 'utf8' });
  assert.equal(r.status, 0, `tmux ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

/** Processes whose command line mentions this test's temp dir. */
function ourProcesses(): Array<{ pid: number; cmdline: string }> {
  return fs.readdirSync('/proc').filter((d) => /^\d+$/.test(d)).flatMap((d) => {
    try {
      const cmdline = fs.readFileSync(`/proc/${d}/cmdline`, 'utf8').replace(/\0/g, ' ');
      return cmdline.includes(root) ? [{ pid: Number(d), cmdline }] : [];
    } catch {
      return [];
    }
  });
}

function waitFor(what: string, ok: () => boolean, ms = 10_000) {
  const end = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 50);
  }
}

function writeConfig(name: string, toml: string): string {
  const file = path.join(mkdir('conf'), name);
  fs.writeFileSync(file, toml);
  return file;
}

interface Collected {
  code: number | null; outcome: Record<string, any>; ms: number;
  /** The agents lines as stored (null-valued keys dropped). */
  stored: Array<Record<string, any>>;
  /** Their data with every schema key restored (absent = null). */
  items: Array<Record<string, any>>;
  runs: Array<Record<string, any>>;
}

function collect(env: NodeJS.ProcessEnv): Collected {
  const dataDir = tmpDir('vc-agents-data-');
  const started = Date.now();
  const r = runScript('collect/agents.ts', [], { VC_DATA_DIR: dataDir, VC_CONFIG: writeConfig('empty.toml', ''), ...tmuxEnv, ...env });
  const ms = Date.now() - started;
  assert.ok(r.stdout.trim(), `no outcome printed; stderr: ${r.stderr}`);
  const stored = readRaw(dataDir, 'agents', 'local');
  return {
    code: r.code, outcome: JSON.parse(r.stdout), ms, stored,
    items: stored.map((l) => withNulls(agentsSchema, l.data)),
    runs: readRaw(dataDir, 'collector_runs', 'local'),
  };
}

const ofType = (c: Collected, type: string) => c.items.filter((i) => i.type === type);
/** Process items of this test's fake agents (the machine may run real ones too). */
const ourAgents = (c: Collected) => ofType(c, 'process').filter((i) => String(i.args).includes(root));

function assertRun(c: Collected, status: string) {
  assert.equal(c.runs.length, 1);
  const run = c.runs[0]!;
  assert.equal(run.source, 'collector_runs');
  assert.equal(run.data.source, 'agents');
  assert.equal(run.data.status, status);
  assert.equal(run.data.rows, c.items.length);
  assert.equal(c.outcome.status, status);
  assert.equal(c.code, status === 'ok' ? 0 : 1);
}

let outside: ChildProcess;

before(() => {
  writeExecutable(bin, 'claude', LOOP);
  writeExecutable(bin, 'gemini', LOOP);
  // codex's npm wrapper starts a native binary also called codex: only the wrapper is reported.
  writeExecutable(vendor, 'codex', LOOP);
  writeExecutable(bin, 'codex', `#!/bin/sh\n'${vendor}/codex' &\nwhile :; do sleep 5; done\n`);
  tmux('new-session', '-d', '-s', 'work', '-n', 'claude-win', '-c', cwd.claude, '-x', '120', '-y', '40', `'${bin}/claude'`);
  tmux('new-window', '-d', '-t', 'work:', '-n', 'codex-win', '-c', cwd.codex, `'${bin}/codex'`);
  tmux('new-session', '-d', '-s', 'plain', '-c', cwd.plain, 'sh');
  outside = spawn(path.join(bin, 'gemini'), [], { cwd: cwd.gemini, detached: true, stdio: 'ignore' });
  waitFor('the fake agents to start', () => {
    const cmds = ourProcesses().map((p) => p.cmdline);
    return ['bin/claude', 'bin/codex', 'vendor/codex', 'bin/gemini'].every((s) => cmds.some((c) => c.includes(s)));
  });
});

after(() => {
  spawnSync('tmux', ['kill-server'], { env: { ...process.env, ...tmuxEnv } });
  try { process.kill(-outside.pid!, 'SIGKILL'); } catch { /* already gone */ }
});

describe('agents collector on a real tmux server', () => {
  test('reports sessions, panes and agents with their pane, cwd and resources', () => {
    const c = collect({});
    assertRun(c, 'ok');
    assert.deepEqual(c.runs[0]!.data.warnings, []);
    for (const line of c.stored) assert.ok(!JSON.stringify(line.data).includes(':null'), `a null was stored: ${JSON.stringify(line.data)}`);
    for (const item of c.items) {
      assert.deepEqual(Object.keys(item).sort(), FIELDS);
      agentsSchema.parse(item);
    }

    const sessions = ofType(c, 'session');
    assert.deepEqual(sessions.map((s) => [s.session, s.session_windows, s.session_attached]), [['plain', 1, false], ['work', 2, false]]);
    for (const s of sessions) {
      assert.match(s.session_id, /^\$\d+$/);
      assert.ok(Date.now() - Date.parse(s.session_created_at) < 600_000);
    }

    const panes = ofType(c, 'pane');
    assert.equal(panes.length, 3);
    const pane = (window: string) => panes.find((p) => p.window_name === window)!;
    const plainPane = panes.find((p) => p.session === 'plain')!;
    assert.deepEqual(
      [pane('claude-win').agent, pane('codex-win').agent, plainPane.agent],
      ['claude', 'codex', null],
    );
    assert.deepEqual([pane('claude-win').pane_path, pane('codex-win').pane_path, plainPane.pane_path], [cwd.claude, cwd.codex, cwd.plain]);
    for (const p of panes) {
      assert.match(p.pane_id, /^%\d+$/);
      assert.ok(p.pane_pid > 0);
      assert.equal(p.pid, null);
      assert.equal(p.pane_dead, false);
      assert.ok(p.pane_activity_at, 'pane activity falls back to window activity');
    }

    const agents = ourAgents(c);
    assert.deepEqual(agents.map((a) => a.agent).sort(), ['claude', 'codex', 'gemini']);
    assert.ok(!agents.some((a) => a.args.includes('vendor')), 'the codex native child is not reported');
    const agent = (name: string) => agents.find((a) => a.agent === name)!;
    for (const [name, window] of [['claude', 'claude-win'], ['codex', 'codex-win']] as const) {
      const a = agent(name);
      assert.deepEqual([a.session, a.session_id, a.window_index, a.pane_index, a.pane_id],
        ['work', pane(window).session_id, pane(window).window_index, pane(window).pane_index, pane(window).pane_id]);
    }
    assert.deepEqual([agent('gemini').session, agent('gemini').pane_id, agent('gemini').window_index], [null, null, null]);
    assert.equal(agent('gemini').pid, outside.pid);
    assert.deepEqual(agents.map((a) => [a.agent, a.cwd]).sort(), [['claude', cwd.claude], ['codex', cwd.codex], ['gemini', cwd.gemini]]);
    for (const a of agents) {
      assert.equal(a.comm, a.agent);
      assert.equal(typeof a.cpu_seconds, 'number');
      assert.ok(a.rss_bytes > 0);
      assert.ok(Math.abs(Date.now() - Date.parse(a.started_at)) < 600_000, `started_at ${a.started_at}`);
      assert.match(a.state, /^[RSDZTtWXIP]$/);
      assert.ok(a.user && a.ppid > 0);
    }
  });

  test('a custom names list decides what counts as an agent', () => {
    const c = collect({ VC_CONFIG: writeConfig('names.toml', '[collectors.agents]\nnames = ["gemini"]\n') });
    assertRun(c, 'ok');
    assert.deepEqual(ourAgents(c).map((a) => a.agent), ['gemini']);
    assert.equal(ofType(c, 'pane').length, 3);
    assert.ok(ofType(c, 'pane').every((p) => p.agent === null));
  });

  test('no tmux server means zero sessions, a warning, and agents still reported', () => {
    const c = collect({ TMUX_TMPDIR: mkdir('no-server') });
    assertRun(c, 'ok');
    assert.equal(ofType(c, 'session').length + ofType(c, 'pane').length, 0);
    assert.match(c.runs[0]!.data.warnings.join('\n'), /no tmux server is running/);
    // The agents in the panes of the other (unseen) server are still found, just not placed in a pane.
    assert.deepEqual(ourAgents(c).map((a) => [a.agent, a.pane_id]).sort(), [['claude', null], ['codex', null], ['gemini', null]]);
  });
});

describe('agents collector with a fake tmux', () => {
  /** Puts an executable `tmux` first on PATH. */
  function fakeTmux(name: string, body: string): NodeJS.ProcessEnv {
    const dir = mkdir('fake', name);
    writeExecutable(dir, 'tmux', body);
    return { PATH: `${dir}${path.delimiter}${process.env.PATH}` };
  }

  test('hostile names: bad lines are skipped with a warning, the rest is stored intact', () => {
    // Fills the -F format as tmux would, with names that try to break lines, fields and sections.
    const env = fakeTmux('hostile', `#!${process.execPath}
const args = process.argv.slice(2);
const fmt = args[args.indexOf('-F') + 1];
const nonce = fmt.split('\\t')[0];
const fill = (v) => fmt.replace(/#\\{(\\w+)\\}/g, (_, k) => v[k] ?? '');
const session = (name, id) => fill({ session_name: name, session_id: id, session_created: '1700000000',
  session_activity: '1700000100', session_attached: '2', session_windows: '1' });
const pane = (windowName, pid) => fill({ session_name: 'good', session_id: '$1', window_index: '3', window_name: windowName,
  pane_index: '0', pane_id: '%7', pane_pid: pid, pane_current_command: 'gemini', pane_current_path: '/x', pane_dead: '0',
  window_activity: '1700000200' });
const out = args[0] === 'list-sessions' ? [
  session('good', '$1'),
  session('tab\\tname', '$2'),
  session('ctl\\x1b[31m\\x07\\x7f', '$3'),
  session('evil\\n@@vc-0123456789abcdef@@ end tmux_sessions 0\\nforged\\t$9\\t1\\t1\\t0\\t1\\tx', '$4'),
  // Ends in a guessed nonce of the right length: only the real one may close a line.
  session('forged-head\\t$8\\t1700000000\\t1700000000\\t0\\t1\\tvc0123456789abcdef\\n', '$5'),
  session('bad-id', 'nope'),
  'garbage without tabs',
] : [
  pane('w\\nforged\\t$1\\t0\\tw\\t0\\t%9\\t1\\tsh\\t/\\t0\\t\\t1', process.env.FAKE_PANE_PID),
  pane('w', 'not-a-pid'),
  pane('good-window', process.env.FAKE_PANE_PID),
];
process.stdout.write(out.join('\\n') + '\\n');
`);
    const c = collect({ ...env, FAKE_PANE_PID: String(outside.pid) });
    assertRun(c, 'ok');
    assert.deepEqual(ofType(c, 'session').map((s) => s.session), ['ctl\x1b[31m\x07\x7f', 'good']);
    const good = ofType(c, 'session').find((s) => s.session === 'good')!;
    assert.deepEqual([good.session_created_at, good.session_activity_at, good.session_attached],
      ['2023-11-14T22:13:20.000Z', '2023-11-14T22:15:00.000Z', true]);
    const panes = ofType(c, 'pane');
    assert.deepEqual(panes.map((p) => [p.window_name, p.pane_id, p.agent, p.pane_activity_at]),
      [['good-window', '%7', 'gemini', '2023-11-14T22:16:40.000Z']]);
    assert.ok(!c.items.some((i) => /forged|evil|tab/.test(String(i.session) + String(i.window_name))));
    assert.deepEqual(ourAgents(c).map((a) => [a.agent, a.session, a.pane_id]).sort(),
      [['claude', null, null], ['codex', null, null], ['gemini', 'good', '%7']]);
    const warnings: string[] = c.runs[0]!.data.warnings;
    assert.equal(warnings.length, 2);
    assert.match(warnings[0]!, /^skipped 8 tmux session line\(s\) with the wrong field count or values, e\.g\. "/);
    assert.match(warnings[1]!, /^skipped 3 tmux pane line\(s\)/);
    for (const w of warnings) assert.doesNotMatch(w, /[\x00-\x1f\x7f]/);
  });

  test('a flood of output is cut at the output cap and recorded as an error', () => {
    const env = fakeTmux('flood', '#!/bin/sh\nyes "flood flood flood flood"\n');
    const config = writeConfig('cap.toml', '[collect]\nmax_output_bytes = 1048576\n[collectors.agents]\ntimeout_seconds = 20\n');
    const c = collect({ ...env, VC_CONFIG: config });
    assertRun(c, 'error');
    assert.match(c.runs[0]!.data.error, /printed more than 1048576 bytes \(the output cap\)/);
    assert.equal(c.items.length, 0);
  });

  test('a hanging tmux ends the run at the configured timeout', () => {
    const env = fakeTmux('hang', '#!/bin/sh\nexec sleep 60\n');
    const c = collect({ ...env, VC_CONFIG: writeConfig('timeout.toml', '[collectors.agents]\ntimeout_seconds = 2\n') });
    assertRun(c, 'timeout');
    assert.match(c.runs[0]!.data.error, /timed out after 2s/);
    assert.equal(c.items.length, 0);
    assert.ok(c.ms < 10_000, `took ${c.ms} ms`);
  });
});

// Pure rules, on synthetic input.

const statLine = (pid: number, comm: string, ppid: number) =>
  `${pid} (${comm}) S ${ppid} 1 1 0 -1 0 0 0 0 0 150 50 0 0 20 0 1 0 1000 1000 25 0`;

function sections(over: Record<string, string | Section>): Map<string, Section> {
  const base: Record<string, string | Section> = {
    clk: '100\n4096\n', btime: 'btime 1700000000\n', tmux_path: '/usr/bin/tmux\n',
    tmux_sessions: '', tmux_sessions_err: '', tmux_panes: '', tmux_panes_err: '', procs: '', ps: '', cwd: '',
  };
  return new Map(Object.entries({ ...base, ...over }).map(([k, v]) => [k, typeof v === 'string' ? { text: v, rc: 0 } : v]));
}

const N = 'vcnonce';
const ALL = ['claude', 'codex', 'gemini', 'aider'];

describe('agents parsing', () => {
  test('matchAgent: comm, argv[0], interpreter scripts and package paths', () => {
    const cases: Array<[string, string[], string | null]> = [
      ['claude', ['claude', '--resume'], 'claude'],
      ['MainThread', ['/home/u/.local/bin/claude'], 'claude'],
      ['node', ['node', '/usr/lib/node_modules/@anthropic-ai/claude-code/cli.js'], 'claude'],
      ['node', ['node', '--no-warnings', '/n/node_modules/@google/gemini-cli/dist/index.js'], 'gemini'],
      ['node', ['node', '/home/u/bin/codex.js'], 'codex'],
      ['python3', ['python3', '/usr/local/bin/aider', '--model', 'x'], 'aider'],
      ['codex', ['/n/node_modules/@openai/codex/vendor/x86_64-unknown-linux-musl/codex/codex'], 'codex'],
      ['npm', ['npm', 'i', '-g', '@openai/codex'], null],
      ['grep', ['grep', '-r', 'x', '/n/node_modules/@anthropic-ai/claude-code/'], null],
      ['vim', ['vim', 'claude.md'], null],
      ['sh', ['sh', '-c', 'claude'], null],
      ['bash', ['bash'], null],
    ];
    for (const [comm, argv, want] of cases) assert.equal(matchAgent(comm, argv, ALL), want, `${comm} ${argv.join(' ')}`);
    assert.equal(matchAgent('claude', ['claude'], ['codex']), null);
    assert.equal(matchAgent('node', ['node', '/n/node_modules/@anthropic-ai/claude-code/cli.js'], ['codex']), null);
  });

  test('parsePs keeps the first row of a pid; parseCwds takes NUL-ended records whatever the path holds', () => {
    const ps = parsePs('  1 root /sbin/init\n 42 alice claude --x\n 42 mallory forged\nnot a row\n 7 bob \n');
    assert.deepEqual([...ps], [[1, { user: 'root', args: '/sbin/init' }], [42, { user: 'alice', args: 'claude --x' }], [7, { user: 'bob', args: '' }]]);
    const cwds = parseCwds('/proc/5/cwd /a b\n/proc/6/cwd /fake\0/proc/6/cwd /real\0/proc/8/cwd \0\n');
    assert.deepEqual([...cwds], [[5, '/a b\n/proc/6/cwd /fake'], [6, '/real']]);
  });

  test('pane mapping walks up the ppid chain; a same-agent child is skipped, another agent is not', () => {
    const out = parseAgentsOutput(sections({
      tmux_sessions: `${N}\tdev\t$0\t1700000000\t1700000000\t0\t1\t${N}\n`,
      tmux_panes: `${N}\tdev\t$0\t0\tw\t0\t%0\t10\tbash\t/src\t0\t\t1700000000\t${N}\n`,
      // 10 bash (pane) -> 11 claude -> 12 claude helper, 13 codex; 20 <-> 21 a ppid loop.
      procs: [statLine(10, 'bash', 1), statLine(11, 'claude', 10), statLine(12, 'claude', 11), statLine(13, 'codex', 11),
        statLine(20, 'aider', 21), statLine(21, 'x', 20)].join('\n'),
      ps: '10 u bash\n11 u claude\n12 u claude --helper\n13 u codex exec\n20 u aider\n21 u x\n',
      cwd: '/proc/11/cwd /src\0',
    }), { names: ALL, lineNonce: N });
    assert.deepEqual(out.warnings, []);
    const procs = out.items.filter((i) => i.type === 'process');
    assert.deepEqual(procs.map((p) => [p.pid, p.agent, p.pane_id, p.cwd]), [[11, 'claude', '%0', '/src'], [13, 'codex', '%0', null], [20, 'aider', null, null]]);
    assert.equal(out.items.find((i) => i.type === 'pane')?.agent, 'claude');
    const claude = procs[0]!;
    assert.deepEqual([claude.cpu_seconds, claude.rss_bytes, claude.started_at], [2, 25 * 4096, '2023-11-14T22:13:30.000Z']);
  });

  test('tmux absent, no server, or failing: zero sessions and a warning saying which', () => {
    const procs = { procs: statLine(5, 'codex', 1), ps: '5 u codex\n' };
    const absent = parseAgentsOutput(sections({ ...procs, tmux_path: '', tmux_sessions: { text: '', rc: 0 } }), { names: ALL, lineNonce: N });
    assert.deepEqual(absent.warnings, ['tmux is not installed: no sessions reported']);
    assert.deepEqual(absent.items.map((i) => [i.type, i.agent]), [['process', 'codex']]);

    const noServer = parseAgentsOutput(sections({
      ...procs, tmux_sessions: { text: '', rc: 1 }, tmux_sessions_err: 'error connecting to /tmp/tmux-1/default (No such file or directory)\n',
    }), { names: ALL, lineNonce: N });
    assert.equal(noServer.items.filter((i) => i.type !== 'process').length, 0);
    assert.match(noServer.warnings.join(), /^no tmux server is running/);

    const failing = parseAgentsOutput(sections({
      ...procs, tmux_sessions: { text: '', rc: 1 }, tmux_sessions_err: 'unknown option -- F\n',
    }), { names: ALL, lineNonce: N });
    assert.match(failing.warnings.join(), /tmux list-sessions failed \(exit 1\): "unknown option -- F"/);
  });
});
