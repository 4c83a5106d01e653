// `vc collect` end to end (bin/vc, real collectors as separate processes) in a temp HOME, data
// dir and config: the runs it records, a failing, a hanging and a wedged collector (killed by the
// runner), flag validation, --due, and bounded concurrency. Fake programs first on PATH make the
// sys collector misbehave; the others must not notice.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { COLLECTOR_NAMES } from '../lib/catalog.ts';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { readRaw, tmpDir, vc, writeExecutable } from './helpers.ts';

const base = fs.realpathSync(tmpDir('vc-runner-'));
const SOURCES = COLLECTOR_NAMES;

interface Env {
  root: string;
  data: string;
  bin: string;
  env: NodeJS.ProcessEnv;
  runs(): Array<Record<string, any>>;
}

let envN = 0;
/**
 * A fresh temp HOME, data dir, fake-program dir (first on PATH) and vc.toml whose repos roots are
 * a small tree with one git repository. `toml` is appended to the config.
 */
function setup(toml = '', fakes: Record<string, string> = {}): Env {
  const root = path.join(base, `e${envN++}`);
  const dirs = ['home', 'data', 'bin', 'tmux', 'tree/proj'].map((d) => path.join(root, d));
  for (const d of dirs) fs.mkdirSync(d, { recursive: true });
  const [home, data, bin, tmux, repo] = dirs as [string, string, string, string, string];
  const git = spawnSync('git', ['init', '-q', repo], { env: { ...process.env, HOME: home }, encoding: 'utf8' });
  assert.equal(git.status, 0, git.stderr);
  const conf = path.join(root, 'vc.toml');
  fs.writeFileSync(conf, `[collectors.repos]\nroots = [${JSON.stringify(path.join(root, 'tree'))}]\n${toml}`);
  for (const [name, body] of Object.entries(fakes)) writeExecutable(bin, name, body);
  return {
    root, data, bin,
    // TMUX='' and a private TMUX_TMPDIR keep the agents collector off any real tmux server.
    env: { HOME: home, VC_DATA_DIR: data, VC_CONFIG: conf, PATH: `${bin}:${process.env.PATH}`, TMUX_TMPDIR: tmux, TMUX: '', NO_COLOR: '1' },
    runs: () => readRaw(data, 'collector_runs', 'local'),
  };
}

/** The recorded runs of one pass, one per source, by source. */
function bySource(runs: Array<Record<string, any>>): Record<string, Record<string, any>> {
  const out: Record<string, Record<string, any>> = {};
  for (const r of runs) {
    assert.equal(out[r.data.source], undefined, `${r.data.source} recorded twice: ${JSON.stringify(runs.map((x) => x.data))}`);
    out[r.data.source] = r;
  }
  assert.deepEqual(Object.keys(out).sort(), [...SOURCES].sort());
  return out;
}

/** Our processes whose command line contains `marker` (pids, for cleanup and for stray checks). */
function processesWith(marker: string): number[] {
  const r = spawnSync('pgrep', ['-f', '--', marker], { encoding: 'utf8' });
  return r.stdout.split('\n').filter(Boolean).map(Number).filter((pid) => pid !== process.pid);
}

/** Kills (by pid) processes a test left behind, so one failure does not leak into the next test. */
function killAll(pids: number[]): void {
  for (const pid of pids) {
    try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ }
  }
}

/** A fake flock: logs who called it, then (unless told to wedge this caller) runs the real one. */
const flockWrapper = (log: string, wedge = '') => `#!/bin/sh
cmd=$(tr '\\0' ' ' < /proc/$PPID/cmdline)
printf '%s %s\\n' "$PPID" "$cmd" >> ${JSON.stringify(log)}
${wedge ? `case "$cmd" in *${wedge}*) exec sleep 97.31 ;; esac` : ''}
exec /usr/bin/flock "$@"
`;

describe('vc collect', () => {
  test('a normal pass runs every collector, each as its own process, and records one ok run each', () => {
    const e = setup();
    const log = path.join(e.root, 'flock.log');
    writeExecutable(e.bin, 'flock', flockWrapper(log));
    const r = vc(['collect', '--json'], e.env);
    assert.equal(r.code, 0, r.stderr + r.stdout);
    const out = JSON.parse(r.stdout);
    assert.equal(out.schema_version, 'vc.collect.v1');
    assert.ok(!Number.isNaN(Date.parse(out.generated_at)));
    assert.deepEqual(out.warnings, []);
    assert.equal(out.data.data_dir, e.data);
    assert.deepEqual(out.data.runs.map((o: any) => o.source).sort(), [...SOURCES].sort());

    const runs = bySource(e.runs());
    for (const s of SOURCES) {
      const run = runs[s]!;
      assert.equal(run.data.status, 'ok', `${s}: ${run.data.error}`);
      assert.equal(run.data.error ?? null, null);
      const printed = out.data.runs.find((o: any) => o.source === s);
      assert.equal(printed.run_id, run.run_id, `${s}: the printed run is the recorded one`);
      assert.equal(printed.status, 'ok');
    }
    assert.ok(runs.sys!.data.rows > 0);
    assert.equal(runs.sys!.data.rows, readRaw(e.data, 'sys', 'local').length);
    assert.equal(runs.repos!.data.rows, 1, 'the one repository under the configured root');
    assert.equal(readRaw(e.data, 'repos', 'local')[0]!.data.path, path.join(e.root, 'tree', 'proj'));

    // Every collector appended from its own process: collect/<source>.ts --run-id <its run>, distinct pids.
    const callers = fs.readFileSync(log, 'utf8').trim().split('\n').map((l) => ({ pid: Number(l.split(' ')[0]), cmd: l }));
    const pids = SOURCES.map((s) => {
      const mine = callers.filter((c) => c.cmd.includes(`collect/${s}.ts`));
      assert.ok(mine.length > 0, `no append from a collect/${s}.ts process: ${JSON.stringify(callers)}`);
      for (const c of mine) assert.ok(c.cmd.includes(`--run-id ${runs[s]!.run_id}`), c.cmd);
      assert.equal(new Set(mine.map((c) => c.pid)).size, 1);
      return mine[0]!.pid;
    });
    assert.equal(new Set(pids).size, SOURCES.length, 'one process per collector');
  });

  test('a collector that fails is recorded with a clear error and does not stop the others; exit 1', () => {
    const e = setup('', { df: '#!/bin/sh\necho "this is not df output"\necho "%%% garbage %%%"\nexit 0\n' });
    const r = vc(['collect'], e.env);
    assert.equal(r.code, 1, r.stderr + r.stdout);
    const runs = bySource(e.runs());
    assert.equal(runs.sys!.data.status, 'error');
    assert.match(runs.sys!.data.error, /\bdf\b/, 'the error names the program');
    assert.match(runs.sys!.data.error, /no filesystems/);
    assert.equal(runs.sys!.data.rows, 0);
    assert.deepEqual(readRaw(e.data, 'sys', 'local'), [], 'nothing stored for the failed run');
    assert.equal(runs.repos!.data.status, 'ok');
    assert.equal(runs.agents!.data.status, 'ok');
    assert.ok(readRaw(e.data, 'repos', 'local').length > 0);
    assert.match(r.stdout, /sys\s*│\s*error/, 'the table shows the failed run');
  });

  test('a collector whose program hangs is recorded as a timeout within about its timeout; the others are ok', () => {
    const e = setup('[collectors.sys]\ntimeout_seconds = 2\n', { df: '#!/bin/sh\nexec sleep 96.42\n' });
    const t0 = Date.now();
    const r = vc(['collect'], e.env);
    const wall = Date.now() - t0;
    try {
      assert.equal(r.code, 1, r.stderr + r.stdout);
      const runs = bySource(e.runs());
      assert.equal(runs.sys!.data.status, 'timeout');
      assert.match(runs.sys!.data.error, /timed out after 2s/);
      assert.ok(runs.sys!.data.duration_ms >= 2000, `${runs.sys!.data.duration_ms} ms`);
      // 2 s timeout, up to 2 s for pipes an escaped grandchild holds (lib/exec.ts), some slack.
      assert.ok(runs.sys!.data.duration_ms < 6000, `sys took ${runs.sys!.data.duration_ms} ms for a 2 s timeout`);
      assert.ok(wall < 20_000, `vc collect took ${wall} ms`);
      assert.equal(runs.repos!.data.status, 'ok');
      assert.equal(runs.agents!.data.status, 'ok');
      assert.deepEqual(readRaw(e.data, 'sys', 'local'), []);
    } finally {
      killAll(processesWith('sleep 96.42'));
    }
  });

  test('a timed-out collector leaves no process behind', () => {
    const e = setup('[collectors.sys]\ntimeout_seconds = 2\n', { df: '#!/bin/sh\nexec sleep 95.53\n' });
    try {
      const r = vc(['collect', '--source', 'sys'], e.env);
      assert.equal(r.code, 1, r.stderr + r.stdout);
      assert.equal(e.runs()[0]!.data.status, 'timeout');
      assert.deepEqual(processesWith('sleep 95.53'), [], 'the hung df (a sleep) is still running after vc collect returned');
      assert.deepEqual(processesWith('timeout 10 df'), [], 'its timeout(1) is still running after vc collect returned');
    } finally {
      killAll([...processesWith('sleep 95.53'), ...processesWith('timeout 10 df')]);
    }
  });

  test('a collector wedged before it can record its run is killed by the runner after timeout + grace and recorded as a timeout', () => {
    const e = setup('[collectors.sys]\ntimeout_seconds = 2\n');
    const log = path.join(e.root, 'flock.log');
    // flock wedges when the sys collector calls it (its data append), and works for everyone else.
    writeExecutable(e.bin, 'flock', flockWrapper(log, 'collect/sys.ts'));
    const t0 = Date.now();
    const r = vc(['collect', '--json'], e.env);
    const wall = Date.now() - t0;
    try {
      assert.equal(r.code, 1, r.stderr + r.stdout);
      assert.ok(fs.readFileSync(log, 'utf8').includes('collect/sys.ts'), 'the sys collector did reach its append');
      const runs = bySource(e.runs());
      const sys = runs.sys!;
      assert.equal(sys.data.status, 'timeout');
      assert.match(sys.data.error, /^collector sys killed after \d+s \(collector timeout plus grace\)/);
      assert.ok(sys.data.duration_ms >= 12_000 && sys.data.duration_ms < 20_000, `${sys.data.duration_ms} ms`);
      assert.ok(wall < 30_000, `vc collect took ${wall} ms`);
      const printed = JSON.parse(r.stdout).data.runs.find((o: any) => o.source === 'sys');
      assert.equal(printed.run_id, sys.run_id);
      assert.equal(printed.status, 'timeout');
      assert.deepEqual(readRaw(e.data, 'sys', 'local'), [], 'the wedged append never wrote');
      assert.equal(runs.repos!.data.status, 'ok');
      assert.equal(runs.agents!.data.status, 'ok');
      // The whole process group went: the wedged flock (a sleep) and the collector itself.
      assert.deepEqual(processesWith('sleep 97.31'), [], 'the wedged flock is still running');
      assert.deepEqual(processesWith(`--run-id ${sys.run_id}`), [], 'the sys collector is still running');
      // The store is whole: every collector_runs line parses (readRaw did) and the file ends in a newline.
      const dir = path.join(e.data, 'raw', 'collector_runs', 'machine=local');
      for (const f of fs.readdirSync(dir)) assert.ok(fs.readFileSync(path.join(dir, f), 'utf8').endsWith('\n'));
    } finally {
      killAll(processesWith('sleep 97.31'));
    }
  });

  test('a job whose --due bookkeeping fails (its last-start note cannot be written) still runs, and so do the others', () => {
    const e = setup();
    // A non-empty directory where sys's last-start note goes: renaming the note onto it fails, as root too.
    fs.mkdirSync(path.join(e.data, 'state', 'last-start', 'local', 'sys.json', 'occupied'), { recursive: true });
    const r = vc(['collect', '--json'], e.env);
    assert.equal(r.code, 0, r.stderr);
    const runs = bySource(e.runs());
    assert.equal(runs.sys!.data.status, 'ok');
    assert.equal(runs.repos!.data.status, 'ok');
    assert.equal(runs.agents!.data.status, 'ok');
    assert.equal(JSON.parse(r.stdout).data.runs.length, SOURCES.length, 'the pass still reports all its runs');
  });

  test('--source and --machine: unknown names exit 2 naming the choices, and run nothing', () => {
    const e = setup();
    const bad = vc(['collect', '--source', 'sys,nope'], e.env);
    assert.equal(bad.code, 2, bad.stderr);
    assert.match(bad.stderr, /unknown collector "nope"/);
    assert.match(bad.stderr, /sys, repos, agents/);
    const badMachine = vc(['collect', '--machine', 'elsewhere'], e.env);
    assert.equal(badMachine.code, 2, badMachine.stderr);
    assert.match(badMachine.stderr, /unknown machine "elsewhere"/);
    assert.match(badMachine.stderr, /configured: local/);
    assert.deepEqual(e.runs(), [], 'nothing ran');
    assert.ok(!fs.existsSync(path.join(e.data, 'raw')));

    const one = vc(['collect', '--source', 'agents', '--machine', 'local', '--json'], e.env);
    assert.equal(one.code, 0, one.stderr);
    assert.deepEqual(JSON.parse(one.stdout).data.runs.map((o: any) => o.source), ['agents']);
    assert.deepEqual(e.runs().map((r) => r.data.source), ['agents']);
  });

  test('--due runs what is due, then nothing within the interval', () => {
    const e = setup();
    const first = vc(['collect', '--due'], e.env);
    assert.equal(first.code, 0, first.stderr + first.stdout);
    assert.equal(e.runs().length, SOURCES.length);
    const second = vc(['collect', '--due'], e.env);
    assert.equal(second.code, 0, second.stderr);
    assert.equal(second.stdout.trim(), 'nothing due');
    assert.equal(e.runs().length, SOURCES.length, 'no new runs');
    const json = vc(['collect', '--due', '--json'], e.env);
    assert.equal(json.code, 0, json.stderr);
    assert.deepEqual(JSON.parse(json.stdout).data.runs, []);
    // Without --due everything runs again.
    const all = vc(['collect', '--source', 'agents'], e.env);
    assert.equal(all.code, 0, all.stderr);
    assert.equal(e.runs().length, SOURCES.length + 1);
  });

  /** The recorded runs of one pass, sorted by start: [source, start ms, end ms]. */
  function spans(e: Env): Array<[string, number, number]> {
    return e.runs().map((r): [string, number, number] => [r.data.source, Date.parse(r.data.started_at), Date.parse(r.data.ended_at)])
      .sort((a, b) => a[1] - b[1]);
  }
  // A sys that takes a second longer (a slow df) makes any overlap certain when runs may overlap.
  const slowDf = { df: '#!/bin/sh\nsleep 1\nexec /usr/bin/df "$@"\n' };

  test('[collect] collectors_per_machine = 1: the runs on a machine do not overlap in time', () => {
    const e = setup('[collect]\ncollectors_per_machine = 1\n', slowDf);
    const r = vc(['collect'], e.env);
    assert.equal(r.code, 0, r.stderr + r.stdout);
    const s = spans(e);
    assert.equal(s.length, SOURCES.length);
    for (let i = 1; i < s.length; i++) {
      assert.ok(s[i - 1]![2] <= s[i]![1], `${s[i]![0]} started before ${s[i - 1]![0]} ended: ${JSON.stringify(s)}`);
    }
  });

  test('[collect] collectors_per_machine = 3 (the control): the same runs do overlap', () => {
    const e = setup('[collect]\ncollectors_per_machine = 3\n', slowDf);
    const r = vc(['collect'], e.env);
    assert.equal(r.code, 0, r.stderr + r.stdout);
    const s = spans(e);
    assert.ok(s.some((a, i) => s.some((b, j) => i !== j && a[1] < b[2] && b[1] < a[2])), `no two runs overlapped: ${JSON.stringify(s)}`);
  });
});
