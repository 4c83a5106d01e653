// `vc collect` end to end (bin/vc, real collectors as separate processes) in a temp HOME, data
// dir and config: the runs it records, a failing, a hanging and a wedged collector (killed by the
// runner), flag validation, --due, and bounded concurrency. Fake programs first on PATH make the
// sys collector misbehave; the others must not notice.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { COLLECTOR_NAMES } from '../lib/catalog.ts';
import { spawn, spawnSync } from 'node:child_process';
import { repoRoot } from '../lib/paths.ts';
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

/**
 * A run's status in a healthy pass here: the temp HOME has no agent logs, so their collectors find
 * nothing to read (absent); the others collect.
 */
/** How a run ends on the test machine: vc's own collectors find data; the agents' logs and the upstream tools are not there. */
const normal = (source: string) => (['sys', 'repos', 'agents', 'tools'].includes(source) ? 'ok' : 'absent');

/** The recorded runs of one pass, one per source (of `sources`), by source. */
function bySource(runs: Array<Record<string, any>>, sources: readonly string[] = SOURCES): Record<string, Record<string, any>> {
  const out: Record<string, Record<string, any>> = {};
  for (const r of runs) {
    assert.equal(out[r.data.source], undefined, `${r.data.source} recorded twice: ${JSON.stringify(runs.map((x) => x.data))}`);
    out[r.data.source] = r;
  }
  assert.deepEqual(Object.keys(out).sort(), [...sources].sort());
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

/** A fake flock: logs who called it and for which file, then (unless told to wedge for that file) runs the real one. */
const flockWrapper = (log: string, wedge = '') => `#!/bin/sh
cmd=$(tr '\\0' ' ' < /proc/$PPID/cmdline)
file=$(readlink /proc/$$/fd/3)
printf '%s %s %s\\n' "$PPID" "$file" "$cmd" >> ${JSON.stringify(log)}
${wedge ? `case "$file" in *${wedge}*) exec sleep 97.31 ;; esac` : ''}
exec /usr/bin/flock "$@"
`;

/**
 * The collectors each process ran, from the fake flock's log of every lock taken: a child
 * collector process (lib/collect-host.ts) ran its --job arguments (with the run ids recorded), the
 * vc process itself the rest. Every data append came from the process that ran that collector.
 */
function collectorProcesses(log: string, runs: Record<string, Record<string, any>>): string[][] {
  const procs = new Map<number, { jobs: string[] | null; data: Set<string> }>();
  for (const l of fs.readFileSync(log, 'utf8').trim().split('\n')) {
    const [pid, file, ...words] = l.split(' ');
    const cmd = words.join(' ');
    const hosted = cmd.includes('lib/collect-host.ts');
    assert.ok(hosted || cmd.includes('bin/vc.mjs collect'), l);
    const jobs = hosted ? [...cmd.matchAll(/--job ([a-z-]+):local:(\S+)/g)].map((m) => {
      assert.equal(m[2], runs[m[1]!]!.run_id, `the job of ${m[1]} has its recorded run id`);
      return m[1]!;
    }) : null;
    const proc = procs.get(Number(pid)) ?? { jobs, data: new Set<string>() };
    procs.set(Number(pid), proc);
    const data = /\/raw\/([^/]+)\/machine=/.exec(file!)?.[1];
    if (data && data !== 'collector_runs') proc.data.add(data);
  }
  const elsewhere = [...procs.values()].flatMap((p) => p.jobs ?? []);
  return [...procs.values()].map((p) => {
    const ran = (p.jobs ?? SOURCES.filter((s) => !elsewhere.includes(s))).sort();
    for (const d of p.data) assert.ok(ran.includes(d), `${d} appended from the process that ran it`);
    return ran;
  }).sort((a, b) => a[0]!.localeCompare(b[0]!));
}

describe('vc collect', () => {
  test('a normal pass runs every collector in the vc process itself, and records one ok run each', () => {
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
      assert.equal(run.data.status, normal(s), `${s}: ${run.data.error}`);
      assert.equal(run.data.error ?? null, null);
      const printed = out.data.runs.find((o: any) => o.source === s);
      assert.equal(printed.run_id, run.run_id, `${s}: the printed run is the recorded one`);
      assert.equal(printed.status, normal(s));
    }
    assert.ok(runs.sys!.data.rows > 0);
    assert.equal(runs.sys!.data.rows, readRaw(e.data, 'sys', 'local').length);
    assert.equal(runs.repos!.data.rows, 1, 'the one repository under the configured root');
    assert.equal(readRaw(e.data, 'repos', 'local')[0]!.data.path, path.join(e.root, 'tree', 'proj'));
    assert.deepEqual(collectorProcesses(log, runs), [[...SOURCES].sort()], 'every collector ran in the one process');
    assert.deepEqual(fs.readdirSync(path.join(e.data, 'state', 'inflight')), [], 'every run cleared its in-flight note');
  });

  test('[collect] processes = 3 spreads the collectors over three processes: this one and two more', () => {
    const e = setup('[collect]\nprocesses = 3\n');
    const log = path.join(e.root, 'flock.log');
    writeExecutable(e.bin, 'flock', flockWrapper(log));
    const r = vc(['collect', '--json'], e.env);
    assert.equal(r.code, 0, r.stderr + r.stdout);
    const runs = bySource(e.runs());
    for (const s of SOURCES) assert.equal(runs[s]!.data.status, normal(s), `${s}: ${runs[s]!.data.error}`);
    const groups = collectorProcesses(log, runs);
    assert.equal(groups.length, 3);
    assert.deepEqual(groups.flat().sort(), [...SOURCES].sort(), 'each collector in exactly one process');
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

  test('a run wedged on a lock that never comes is given up at its timeout; the others in its process are not held up', () => {
    const e = setup('[collectors.sys]\ntimeout_seconds = 2\n');
    const log = path.join(e.root, 'flock.log');
    // flock wedges when asked for sys's data file (the lock of its append) and works for everyone else.
    writeExecutable(e.bin, 'flock', flockWrapper(log, '/raw/sys/'));
    const t0 = Date.now();
    // vc's own collectors only: twenty more starting at once could keep sys from its append within 2 s on a busy machine.
    const own = ['sys', 'repos', 'agents', 'tools'];
    const r = vc(['collect', '--json', ...own.flatMap((s) => ['--source', s])], e.env);
    const wall = Date.now() - t0;
    try {
      assert.equal(r.code, 1, r.stderr + r.stdout);
      assert.ok(fs.readFileSync(log, 'utf8').includes('/raw/sys/'), 'the sys collector did reach its append');
      const runs = bySource(e.runs(), own);
      const sys = runs.sys!;
      assert.equal(sys.data.status, 'timeout');
      assert.match(sys.data.error, /^sys timed out after 2s and was given up/);
      assert.ok(sys.data.duration_ms >= 2000 && sys.data.duration_ms < 6000, `${sys.data.duration_ms} ms`);
      assert.ok(wall < 30_000, `vc collect took ${wall} ms`);
      const printed = JSON.parse(r.stdout).data.runs.find((o: any) => o.source === 'sys');
      assert.equal(printed.run_id, sys.run_id);
      assert.equal(printed.status, 'timeout');
      assert.deepEqual(readRaw(e.data, 'sys', 'local'), [], 'the wedged append never wrote');
      for (const s of own.filter((x) => x !== 'sys')) assert.equal(runs[s]!.data.status, normal(s), `${s}: ${runs[s]!.data.error}`);
      assert.deepEqual(processesWith('sleep 97.31'), [], 'the wedged flock was killed with its run');
      const dir = path.join(e.data, 'raw', 'collector_runs', 'machine=local');
      for (const f of fs.readdirSync(dir)) assert.ok(fs.readFileSync(path.join(dir, f), 'utf8').endsWith('\n'));
    } finally {
      killAll(processesWith('sleep 97.31'));
    }
  });

  /** Starts `vc collect --json`; resolves its exit code and stdout when it ends. */
  function startCollect(e: Env, args: string[] = []) {
    const child = spawn(path.join(repoRoot, 'bin', 'vc'), ['collect', '--json', ...args], { env: { ...process.env, ...e.env } });
    let stdout = '';
    child.stdout.on('data', (d: Buffer) => { stdout += d.toString(); });
    const done = new Promise<{ code: number | null; signal: string | null; stdout: string }>((res) => child.on('close', (code, signal) => res({ code, signal, stdout })));
    return { pid: child.pid!, done };
  }

  /** Waits for a process of ours whose command line holds both strings; its pid. */
  async function waitForProcess(marker: string, also: string): Promise<number> {
    for (let i = 0; i < 500; i++) {
      const pid = processesWith(marker).find((p) => {
        try { return fs.readFileSync(`/proc/${p}/cmdline`, 'utf8').includes(also); } catch { return false; }
      });
      if (pid !== undefined) return pid;
      await new Promise((res) => setTimeout(res, 20));
    }
    throw new Error(`no process with ${marker} and ${also}`);
  }

  test('a child collector process that stops responding is killed after its timeout plus grace; each run it had not recorded is recorded as a timeout, the others are not held up', async () => {
    // (Slots enough for all: the stopped process keeps its own, and the others must not wait for them.)
    const e = setup('[collect]\ntimeout_seconds = 2\nprocesses = 2\ncollectors_per_machine = 64\n');
    const t0 = Date.now();
    const pass = startCollect(e);
    const host = await waitForProcess('collect-host.ts', e.env.VC_CONFIG!);
    process.kill(host, 'SIGSTOP');
    const hosted = [...fs.readFileSync(`/proc/${host}/cmdline`, 'utf8').matchAll(/--job\0([a-z-]+):/g)].map((m) => m[1]!);
    const { code, stdout } = await pass.done;
    const wall = Date.now() - t0;
    assert.equal(code, 1);
    assert.ok(wall >= 14_000 && wall < 24_000, `vc collect took ${wall} ms for a 2 x 2 s + 10 s backstop`);
    assert.deepEqual(JSON.parse(stdout).data.runs.filter((o: any) => o.status === 'timeout').map((o: any) => o.source).sort(), [...hosted].sort());
    const runs = bySource(e.runs());
    assert.ok(hosted.length > 0 && hosted.length < SOURCES.length, `some collectors ran in the child: ${hosted}`);
    for (const s of SOURCES) {
      if (hosted.includes(s)) assert.match(runs[s]!.data.error, new RegExp(`^collector ${s}: its process killed after 14s \\(the collector timeout plus grace\\)`));
      else assert.equal(runs[s]!.data.status, normal(s), `${s} ran in the vc process: ${runs[s]!.data.error}`);
    }
    assert.equal(fs.existsSync(`/proc/${host}`), false, 'the stopped process was killed');
  });

  test('a vc process that stops responding is killed by its watchdog; the next pass records the runs it left', async () => {
    const e = setup('[collect]\ntimeout_seconds = 2\n');
    const t0 = Date.now();
    const pass = startCollect(e);
    // Stopped once its runs are under way (noted in flight, its watchdog started before that).
    const inflight = path.join(e.data, 'state', 'inflight');
    for (let i = 0; i < 500 && !(fs.existsSync(inflight) && fs.readdirSync(inflight).length); i++) await new Promise((res) => setTimeout(res, 10));
    process.kill(pass.pid, 'SIGSTOP');
    // Should the watchdog fail, the test does not hang: it kills the process itself, and fails.
    const backstop = setTimeout(() => process.kill(pass.pid, 'SIGKILL'), 60_000);
    const first = await pass.done;
    clearTimeout(backstop);
    const wall = Date.now() - t0;
    assert.equal(first.signal, 'SIGKILL', 'the watchdog killed it');
    assert.ok(wall >= 24_000 && wall < 40_000, `killed after ${wall} ms for a 2 x 2 s + 10 s backstop and 10 s more`);
    const left = fs.readdirSync(path.join(e.data, 'state', 'inflight')).length;
    assert.ok(left > 0, 'runs it never recorded are noted');
    const next = vc(['collect', '--json', '--source', 'tools'], e.env);
    assert.equal(next.code, 0, next.stderr);
    // A collector process of the killed pass may still record its own run meanwhile: the next
    // pass records the rest, each once.
    const recorded = /recorded (\d+) runs? of an earlier pass/.exec(JSON.parse(next.stdout).warnings.join('\n'));
    assert.ok(recorded, next.stdout);
    const killed = e.runs().filter((r) => r.data.status === 'killed');
    assert.equal(killed.length, Number(recorded[1]));
    assert.ok(killed.length > 0 && killed.length <= left, `${killed.length} recorded as killed of ${left} left`);
    for (const r of killed) assert.match(r.data.error, /the vc process running it \(pid \d+\) ended before the run was recorded/);
    assert.deepEqual(fs.readdirSync(path.join(e.data, 'state', 'inflight')), []);
  });

  test('runs of a vc process killed outright (SIGKILL) are recorded by the next pass, once', async () => {
    const e = setup('', { df: '#!/bin/sh\nexec sleep 5.77\n' });
    try {
      const pass = startCollect(e, ['--source', 'sys']);
      await waitForProcess('sleep 5.77', '5.77');
      process.kill(pass.pid, 'SIGKILL');
      await pass.done;
      const next = vc(['collect', '--json', '--source', 'tools'], e.env);
      assert.equal(next.code, 0, next.stderr);
      const again = vc(['collect', '--json', '--source', 'tools'], e.env);
      assert.deepEqual(JSON.parse(again.stdout).warnings, [], 'recorded once');
      const sys = e.runs().filter((r) => r.data.source === 'sys');
      assert.equal(sys.length, 1);
      assert.equal(sys[0]!.data.status, 'killed');
      assert.match(sys[0]!.data.error, /^collector sys: the vc process running it/);
    } finally {
      killAll(processesWith('sleep 5.77'));
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
