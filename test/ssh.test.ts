// Remote machines over ssh, against a real OpenSSH server on loopback (test/sshd.ts): one
// `vc collect` pass over a fleet of well- and badly-behaved machines, then what got stored and
// what the reports, triage and `vc machines` say about each. The machines:
//   local      this machine, no ssh
//   healthy    a normal login (key `ok`)
//   closed     a port with nothing listening
//   refused    a key the server does not accept
//   tarpit     a TCP listener that accepts and never speaks (ssh waits for its ConnectTimeout)
//   hangs      a forced command that sleeps for an hour
//   garbage    a forced command that prints text that is not vc's script output (with ANSI escapes)
//   forged     a forced command that prints well-framed sections under a guessed nonce
//   flood      a forced command that prints 40 MB
//   drop       a forced command that runs vc's script, passes on part of its output and then
//              kills its own sshd connection mid-transfer
//   hostile    a forced command that prints ANSI/OSC escapes on stderr and exits 1
//   hostile255 the same, exiting 255 (the status ssh uses for its own failures)
// Needs root (sshd, a login user): skipped with a message otherwise; CI runs it as root.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { repoRoot } from '../lib/paths.ts';
import { COLLECTOR_NAMES, type CollectorName } from '../lib/catalog.ts';
import { COLLECTOR_CODE } from '../lib/collectors.ts';
import { reposSchema } from '../lib/sources/repos.ts';
import { MACHINE_ID } from '../lib/config.ts';
import { readRaw, tmpDir, withNulls, writeExecutable } from './helpers.ts';
import { freePort, SSH_USER, servedBy, sshdAvailable, startSshd, type Sshd } from './sshd.ts';

const SKIP = sshdAvailable() ? false
  : 'needs root and /usr/sbin/sshd (Debian openssh-server) to run a real sshd on loopback; run as root, as .ci/run does';
if (SKIP) console.log(`# ssh.test.ts skipped: ${SKIP}`);

/** vc's own collectors: the ones this pass runs (see the config below). */
const SOURCES: CollectorName[] = ['sys', 'repos', 'agents', 'tools'];
const CONNECT_TIMEOUT_S = 3;
const COLLECT_TIMEOUT_S = 15;
const MAX_OUTPUT = 4 * 1024 * 1024;
/** lib/exec.ts: after a kill, how long it waits for pipes an escaped grandchild still holds. */
const PIPE_GRACE_MS = 2000;
/**
 * Time a run may take beyond what it waits for (a connect timeout, a collector timeout): process
 * start, the handshake, parsing, on a small CI machine that this very pass loads (4 collector
 * processes, dozens of ssh clients, a flood of output).
 */
const SLACK_MS = 8000;
const UNREACHABLE = ['closed', 'refused', 'tarpit'] as const;
const BAD_FORCED = ['hangs', 'garbage', 'forged', 'flood', 'drop', 'hostile', 'hostile255'] as const;
const ESC = '\u001b';

// A token of this run: in the hang's command line (to find its processes) and in file names.
const TOKEN = String(100000 + (randomBytes(3).readUIntBE(0, 3) % 900000));
const HANG_CMD = `sleep 3600 0.${TOKEN}`;
const FORGED_NONCE = 'deadbeefdeadbeef';

interface VcRun { code: number | null; stdout: string; stderr: string; ms: number; startedAt: number }

let sshd: Sshd | null = null;
let tarpit: net.Server | null = null;
const tarpitSockets = new Set<net.Socket>();
let closedPort = 0;
let root = '';
let data = '';
let env: NodeJS.ProcessEnv = {};
let controlDirPath = '';
let repoRootDir = '';
let remoteHomeRoot = '';
let pass: VcRun;
let runs: Array<Record<string, any>> = [];
let baseline: VcRun;
let baselineRuns: Array<Record<string, any>> = [];
/** Non-sshd processes of the login user that were left after the pass (sampled in before()). */
let remoteLeftovers: Array<{ pid: number; args: string }> = [];
/** Our local processes (those with our VC_DATA_DIR in their environment) left after the pass. */
let localLeftovers: Array<{ pid: number; args: string }> = [];

/** bin/vc without blocking the event loop (the tarpit listener lives in this process). */
function vcAsync(args: string[], extraEnv: NodeJS.ProcessEnv = {}, envBase = env): Promise<VcRun> {
  const startedAt = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn(path.join(repoRoot, 'bin', 'vc'), args, { env: { ...process.env, ...envBase, ...extraEnv }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (s: string) => { stdout += s; });
    child.stderr.setEncoding('utf8').on('data', (s: string) => { stderr += s; });
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr, ms: Date.now() - startedAt, startedAt }));
  });
}

/** Every process: pid, uid, command line (NULs as spaces), and whether its environment holds `envNeedle`. */
function processes(envNeedle?: string): Array<{ pid: number; uid: number; args: string; comm: string; hasEnv: boolean }> {
  const out = [];
  for (const p of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(p) || Number(p) === process.pid) continue;
    try {
      const args = fs.readFileSync(`/proc/${p}/cmdline`, 'latin1').replace(/\0+$/, '').replace(/\0/g, ' ');
      const comm = fs.readFileSync(`/proc/${p}/comm`, 'utf8').trim();
      const uid = Number(/^Uid:\s+(\d+)/m.exec(fs.readFileSync(`/proc/${p}/status`, 'utf8'))![1]);
      let hasEnv = false;
      if (envNeedle) {
        try { hasEnv = fs.readFileSync(`/proc/${p}/environ`, 'latin1').split('\0').includes(envNeedle); } catch { /* not readable */ }
      }
      out.push({ pid: Number(p), uid, args, comm, hasEnv });
    } catch { /* exited meanwhile */ }
  }
  return out;
}

const userUid = () => Number(execFileSync('id', ['-u', SSH_USER], { encoding: 'utf8' }).trim());

/** The login user's processes other than sshd's own (its shells and commands). */
function remoteCommands(): Array<{ pid: number; args: string }> {
  const uid = userUid();
  // Only this test's server's sessions: other test files may run their own sshd for the same user.
  return processes().filter((p) => p.uid === uid && !/^sshd/.test(p.comm) && !/^sshd/.test(p.args) && p.args !== '' && servedBy(sshd!, p.pid))
    .map(({ pid, args }) => ({ pid, args }));
}

const runsOf = (list: Array<Record<string, any>>, machine: string) => list.filter((r) => r.machine_id === machine);
const runOf = (list: Array<Record<string, any>>, machine: string, source: string) => {
  const found = list.filter((r) => r.machine_id === machine && r.source === source);
  assert.equal(found.length, 1, `one ${source} run of ${machine} in ${JSON.stringify(list.map((r) => [r.machine_id, r.source]))}`);
  return found[0]!;
};
const describeRuns = (list: Array<Record<string, any>>) => JSON.stringify(list.map((r) => ({ s: r.source, st: r.status, ms: r.duration_ms, e: r.error })));

/** The control sockets of a machine in our private socket dir. */
const socketsOf = (machine: string) => (fs.existsSync(controlDirPath) ? fs.readdirSync(controlDirPath) : [])
  .filter((f) => f.startsWith(`${machine}-`) && !f.includes('.')).map((f) => path.join(controlDirPath, f));

/** `ssh -O check` on a control socket: the master's pid, or null if no master answers. */
function masterPid(socket: string): number | null {
  const r = spawnSync('ssh', ['-F', '/dev/null', '-o', `ControlPath=${socket}`, '-O', 'check', 'vc-control-check'], { encoding: 'utf8', timeout: 10_000 });
  if (r.status !== 0) return null;
  const m = /pid=(\d+)/.exec(r.stderr);
  return m ? Number(m[1]) : null;
}

/** Every line of every file under raw/: must parse as a JSON object and end with a newline. */
function scanRaw(dir: string): { files: number; lines: number; bad: string[] } {
  const bad: string[] = [];
  let files = 0;
  let lines = 0;
  const walk = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) { walk(p); continue; }
      files++;
      const text = fs.readFileSync(p, 'utf8');
      if (text.length > 0 && !text.endsWith('\n')) bad.push(`${p}: does not end with a newline`);
      for (const [i, line] of text.split('\n').entries()) {
        if (line === '') continue;
        lines++;
        try {
          const v = JSON.parse(line);
          if (!v || typeof v !== 'object' || v.v !== 1 || typeof v.source !== 'string') bad.push(`${p}:${i + 1}: not an envelope`);
        } catch {
          bad.push(`${p}:${i + 1}: not JSON: ${line.slice(0, 80)}`);
        }
      }
    }
  };
  if (fs.existsSync(dir)) walk(dir);
  return { files, lines, bad };
}

/** Makes a git repository with 2 commits, 1 modified file, 1 staged new file and 2 untracked files. */
function makeRepo(dir: string): void {
  fs.mkdirSync(dir, { recursive: true });
  const git = (...args: string[]) => execFileSync('git', args, {
    cwd: dir, encoding: 'utf8',
    env: { ...process.env, HOME: root, GIT_CONFIG_NOSYSTEM: '1', GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@e', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@e' },
  });
  git('init', '-q', '-b', 'main');
  fs.writeFileSync(path.join(dir, 'a.txt'), 'a\n');
  fs.writeFileSync(path.join(dir, 'b.txt'), 'b\n');
  git('add', 'a.txt', 'b.txt');
  git('commit', '-q', '-m', 'first commit');
  fs.writeFileSync(path.join(dir, 'b.txt'), 'b2\n');
  git('commit', '-q', '-am', 'second commit');
  fs.writeFileSync(path.join(dir, 'a.txt'), 'a changed\n'); // modified, not staged
  fs.writeFileSync(path.join(dir, 'c.txt'), 'c\n');
  git('add', 'c.txt'); // staged new file
  fs.writeFileSync(path.join(dir, 'u1.txt'), 'u\n'); // untracked
  fs.writeFileSync(path.join(dir, 'u2.txt'), 'u\n');
}

/** chown -R to the login user (git refuses a repository of another owner), dirs 0755, files 0644. */
function handToUser(dir: string): void {
  execFileSync('chown', ['-R', `${SSH_USER}:`, dir]);
  execFileSync('find', [dir, '-type', 'd', '-exec', 'chmod', '0755', '{}', '+']);
  execFileSync('find', [dir, '-type', 'f', '-exec', 'chmod', '0644', '{}', '+']);
}

before(async () => {
  if (SKIP) return;
  root = fs.realpathSync(tmpDir('vc-ssh-'));
  fs.chmodSync(root, 0o755);
  data = path.join(root, 'data');
  const home = path.join(root, 'home');
  const run = path.join(root, 'run'); // XDG_RUNTIME_DIR: our own socket dir, so we can inspect it
  for (const d of [home, run, path.join(root, 'tmux')]) fs.mkdirSync(d, { mode: 0o700 });
  controlDirPath = path.join(run, `vc-ssh-${process.getuid!()}`);

  // Scripts the forced commands run (they need bytes a forced command in authorized_keys cannot hold).
  const scripts = path.join(root, 'scripts');
  fs.mkdirSync(scripts, { mode: 0o755 });
  const garbage = writeExecutable(scripts, 'garbage.sh',
    `#!/bin/sh\nprintf '\\033[1;31mWelcome to a hostile shell\\033[0m\\nthis is not vc output\\n@@vc-0000@@ begin nothing\\n'\nexit 0\n`);
  // Well-framed sections for every name vc's scripts use, under a nonce the remote had to guess.
  const sectionNames = ['host', 'tools', 'loadavg', 'uptime', 'meminfo', 'env', 'roots', 'discover', 'repos', 'procs', 'ps', 'clk'];
  const forged = writeExecutable(scripts, 'forged.sh', `#!/bin/sh\n${sectionNames.map((n) =>
    `printf '\\n@@vc-${FORGED_NONCE}@@ begin ${n}\\nFORGED-${TOKEN}\\n@@vc-${FORGED_NONCE}@@ end ${n} 0\\n'`).join('\n')}\nexit 0\n`);
  const hostileText = `printf '\\033]0;pwned-title\\007\\033[2J\\033[31mHOSTILE-${TOKEN}\\033[0m \\033[5mblink\\033[0m\\r\\n' >&2`;
  const hostile = writeExecutable(scripts, 'hostile.sh', `#!/bin/sh\n${hostileText}\nexit 1\n`);
  const hostile255 = writeExecutable(scripts, 'hostile255.sh', `#!/bin/sh\n${hostileText}\nexit 255\n`);

  sshd = await startSshd([
    { name: 'ok' },
    { name: 'hang', forcedCommand: HANG_CMD },
    { name: 'garbage', forcedCommand: `sh ${garbage}` },
    { name: 'forged', forcedCommand: `sh ${forged}` },
    { name: 'flood', forcedCommand: 'yes vc-flood-output-line | head -c 40000000' },
    // vc's own script, minus its last line, at most 20000 bytes of it; then the session's sshd
    // (the forced command's parent) is killed, a second later so what it passed on has left: the
    // connection drops mid-transfer.
    { name: 'drop', forcedCommand: "sh -s | sed '$d' | head -c 20000; sleep 1; kill -9 $PPID" },
    { name: 'hostile', forcedCommand: `sh ${hostile}` },
    { name: 'hostile255', forcedCommand: `sh ${hostile255}` },
    { name: 'refused', authorized: false },
  ]);
  tarpit = net.createServer((sock) => { tarpitSockets.add(sock); sock.on('error', () => {}); sock.on('close', () => tarpitSockets.delete(sock)); });
  await new Promise<void>((resolve) => tarpit!.listen(0, '127.0.0.1', resolve));
  const tarpitPort = (tarpit.address() as net.AddressInfo).port;
  closedPort = await freePort();

  // Repositories: one under an absolute root readable by the login user, one under a root relative
  // to $HOME, which exists only in the login user's home (so only a remote run can find it).
  repoRootDir = path.join(root, 'repos');
  makeRepo(path.join(repoRootDir, 'project'));
  handToUser(repoRootDir);
  const remoteHome = execFileSync('sh', ['-c', `getent passwd ${SSH_USER} | cut -d: -f6`], { encoding: 'utf8' }).trim();
  remoteHomeRoot = path.join(remoteHome, `vc-ssh-home-${TOKEN}`);
  makeRepo(path.join(remoteHomeRoot, 'homeproject'));
  handToUser(remoteHomeRoot);

  const machine = (id: string, key: string, port = sshd!.port) =>
    `[[machines]]\nid = "${id}"\nssh = "${SSH_USER}@127.0.0.1:${port}"\nidentity_file = ${JSON.stringify(sshd!.keys[key])}\n`;
  const toml = [
    `[ssh]\nconfig_file = ${JSON.stringify(sshd.clientConfig)}\nconnect_timeout_seconds = ${CONNECT_TIMEOUT_S}\ncontrol_persist_seconds = 120\n`,
    `[collect]\ntimeout_seconds = ${COLLECT_TIMEOUT_S}\nmax_output_bytes = ${MAX_OUTPUT}\n`,
    `[collectors.repos]\nroots = [${JSON.stringify(repoRootDir)}, "vc-ssh-home-${TOKEN}"]\n`,
    // The agent-log collectors over ssh are tested in test/usage.test.ts, the upstream tools' in
    // their own tests (on this same sshd); here they would only add load to a pass whose timings
    // are asserted.
    ...COLLECTOR_NAMES.filter((c) => !SOURCES.includes(c)).map((c) => `[collectors.${c}]\nenabled = false\n`),
    '[[machines]]\nid = "local"\nssh = "local"\n',
    machine('healthy', 'ok'),
    machine('closed', 'ok', closedPort),
    machine('refused', 'refused'),
    machine('tarpit', 'ok', tarpitPort),
    machine('hangs', 'hang'),
    machine('garbage', 'garbage'),
    machine('forged', 'forged'),
    machine('flood', 'flood'),
    machine('drop', 'drop'),
    machine('hostile', 'hostile'),
    machine('hostile255', 'hostile255'),
  ].join('\n');
  const conf = path.join(root, 'vc.toml');
  fs.writeFileSync(conf, toml);
  env = {
    VC_DATA_DIR: data, VC_CONFIG: conf, HOME: home, XDG_RUNTIME_DIR: run,
    TMUX: '', TMUX_TMPDIR: path.join(root, 'tmux'), NO_COLOR: '1',
  };

  // A pass of only the well-behaved machines first, in a data dir of its own: the yardstick for
  // "the bad machines did not delay the healthy ones". Its sockets live elsewhere too.
  const baseRun = path.join(root, 'base-run');
  fs.mkdirSync(baseRun, { mode: 0o700 });
  baseline = await vcAsync(['collect', '--json', '--machine', 'local,healthy'],
    { VC_DATA_DIR: path.join(root, 'base-data'), XDG_RUNTIME_DIR: baseRun });
  baselineRuns = baseline.code === 0 ? JSON.parse(baseline.stdout).data.runs : [];

  // The pass under test.
  pass = await vcAsync(['collect', '--json']);
  try {
    runs = JSON.parse(pass.stdout).data.runs;
  } catch {
    runs = [];
    console.log(`# the pass printed no runs (exit ${pass.code}): ${pass.stderr.slice(0, 2000)} ${pass.stdout.slice(0, 500)}`);
  }
  // One line per machine, for whoever reads the test log.
  for (const id of [...new Set(runs.map((r) => r.machine_id as string))]) {
    console.log(`# ${id}: ${runsOf(runs, id).map((r) => `${r.source} ${r.status} ${r.duration_ms}ms`).join(', ')}`);
  }
  console.log(`# the pass took ${pass.ms} ms; local+healthy alone took ${baseline.ms} ms`);
  // What the pass left running: locally (by our data dir in the environment) and on the "remote".
  // (A master renames itself with setproctitle, which overwrites its environment: it is found by
  // its title, which names its socket in our private dir.)
  localLeftovers = processes(`VC_DATA_DIR=${data}`).filter((p) => p.hasEnv || p.args.includes(`${controlDirPath}/`))
    .map(({ pid, args }) => ({ pid, args }));
  const deadline = Date.now() + 5000;
  do {
    remoteLeftovers = remoteCommands();
    if (remoteLeftovers.every((p) => p.args.includes(TOKEN))) break;
    await new Promise((r) => setTimeout(r, 250));
  } while (Date.now() < deadline);
});

after(() => {
  if (SKIP) return;
  // The shared connections: ask each master to exit, then kill anything of ours that is left.
  for (const dir of [controlDirPath, path.join(root, 'base-run', `vc-ssh-${process.getuid!()}`)]) {
    if (!fs.existsSync(dir)) continue;
    for (const f of fs.readdirSync(dir)) {
      spawnSync('ssh', ['-F', '/dev/null', '-o', `ControlPath=${path.join(dir, f)}`, '-O', 'exit', 'vc-control-exit'], { timeout: 5000, stdio: 'ignore' });
    }
  }
  for (const p of processes(`XDG_RUNTIME_DIR=${path.join(root, 'run')}`)) {
    if (p.hasEnv || p.args.includes(`${root}/`)) try { process.kill(p.pid, 'SIGKILL'); } catch { /* gone */ }
  }
  for (const s of tarpitSockets) s.destroy();
  tarpit?.close();
  sshd?.stop(); // also kills every process of the login user (the hang's sleeps)
  if (remoteHomeRoot) fs.rmSync(remoteHomeRoot, { recursive: true, force: true });
});

describe('vc collect over ssh: one pass over good and bad machines', { skip: SKIP }, () => {
  test('the pass ends, exits 1 (some runs failed), and records one run per machine and collector', () => {
    assert.equal(pass.code, 1, `exit ${pass.code}\n${pass.stderr}\n${pass.stdout.slice(0, 2000)}`);
    const ids = ['local', 'healthy', ...UNREACHABLE, ...BAD_FORCED];
    for (const id of ids) {
      assert.deepEqual(runsOf(runs, id).map((r) => r.source).sort(), [...SOURCES].sort(), `${id}: ${describeRuns(runsOf(runs, id))}`);
      const recorded = readRaw(data, 'collector_runs', id);
      assert.deepEqual(recorded.map((l) => l.run_id).sort(), runsOf(runs, id).map((r) => r.run_id).sort(), `${id}: the printed runs are the recorded ones`);
      for (const l of recorded) {
        const printed = runs.find((r) => r.run_id === l.run_id)!;
        assert.equal(l.data.status, printed.status);
        assert.equal(l.data.error ?? null, printed.error);
      }
    }
    // Bounded by the slowest machine's timeout (hangs), not by the sum of them: 12 machines and 8 in
    // flight per collector make at most two waves.
    assert.ok(pass.ms < 2 * COLLECT_TIMEOUT_S * 1000 + 15_000, `the pass took ${pass.ms} ms`);
  });

  test('healthy: every collector ok, and the samples are the remote ones', () => {
    for (const s of SOURCES) {
      const r = runOf(runs, 'healthy', s);
      assert.equal(r.status, 'ok', `${s}: ${r.error}`);
      assert.equal(r.error, null);
      assert.ok(r.bytes > 0, `${s} read nothing`);
    }
    for (const r of runsOf(runs, 'local')) assert.equal(r.status, 'ok', `local ${r.source}: ${r.error}`);

    // tools: the host, and sh-level tools found by command -v in the login user's environment.
    const [tools] = readRaw(data, 'tools', 'healthy');
    assert.ok(tools);
    assert.equal(tools.data.hostname, os.hostname());
    assert.equal(tools.data.arch, os.arch() === 'x64' ? 'x86_64' : tools.data.arch);
    const found = new Map((tools.data.tools as Array<{ name: string; path?: string }>).map((t) => [t.name, t.path ?? null]));
    for (const t of ['ps', 'find', 'git']) {
      const where = spawnSync('sh', ['-c', `command -v ${t}`], { encoding: 'utf8' }).stdout.trim();
      if (where) assert.match(found.get(t) ?? '', /^\//, `${t} exists here (${where}) but the remote probe did not find it`);
    }

    // repos: both repositories, with the right counts. The one under "$HOME"/vc-ssh-home-... exists
    // only in the login user's home: proof the script ran there, as that user.
    const repos = readRaw(data, 'repos', 'healthy').map((l) => withNulls(reposSchema, l.data));
    assert.deepEqual(repos.map((r) => r.path).sort(), [path.join(remoteHomeRoot, 'homeproject'), path.join(repoRootDir, 'project')].sort());
    for (const r of repos) {
      assert.equal(r.error, null, `${r.path}: ${r.error}`);
      assert.equal(r.branch, 'main');
      assert.equal(r.detached, false);
      assert.equal(r.upstream, null);
      assert.equal(r.ahead, null);
      assert.equal(r.dirty_files, 2, 'a.txt modified + c.txt added');
      assert.equal(r.staged_files, 1, 'c.txt');
      assert.equal(r.untracked_files, 2);
      assert.equal(r.conflicted_files, 0);
      assert.equal(r.last_commit_subject, 'second commit');
      assert.match(r.head, /^[0-9a-f]{40}$/);
    }
    assert.equal(repos.find((r) => r.path.endsWith('/project'))!.name, 'project');
    const localRepos = readRaw(data, 'repos', 'local').map((l) => l.data.path);
    assert.ok(!localRepos.includes(path.join(remoteHomeRoot, 'homeproject')), 'the local run must not see the login user\'s home');

    // sys: the same kernel's view (loopback), so the machine-wide figures agree with local's.
    const [sys] = readRaw(data, 'sys', 'healthy');
    const [localSys] = readRaw(data, 'sys', 'local');
    assert.ok(sys && localSys);
    assert.equal(sys.data.cpu_count, localSys.data.cpu_count);
    assert.equal(sys.data.mem_total_bytes, localSys.data.mem_total_bytes);
    assert.ok(sys.data.filesystems.length > 0);
    assert.ok(sys.data.process_count > 0);
  });

  test('healthy: stored lines are well-formed envelopes of their run, valid against the schema', async () => {
    for (const s of SOURCES) {
      const run = runOf(runs, 'healthy', s);
      const lines = readRaw(data, s, 'healthy');
      assert.equal(lines.length, run.rows, `${s}: ${lines.length} lines, run says ${run.rows}`);
      // No tmux or agent logs on the test host: agents and the log collectors may store nothing.
      if (['sys', 'repos', 'tools'].includes(s)) assert.ok(lines.length > 0, `${s} stored nothing`);
      for (const l of lines) {
        assert.equal(l.v, 1);
        assert.equal(l.source, s);
        assert.equal(l.machine_id, 'healthy');
        assert.equal(l.run_id, run.run_id);
        assert.ok(['snapshot', 'event'].includes(l.kind));
        assert.ok(!Number.isNaN(Date.parse(l.collected_at)));
        const { schema } = await COLLECTOR_CODE[s]();
        schema.parse(withNulls(schema as any, l.data));
      }
    }
  });

  test('shared connections: the socket dir is private, healthy has a live master, and a second pass reuses it', async () => {
    const st = fs.lstatSync(controlDirPath);
    assert.ok(st.isDirectory());
    assert.equal(st.mode & 0o777, 0o700, `socket dir mode ${(st.mode & 0o777).toString(8)}`);
    assert.equal(st.uid, process.getuid!());
    const sockets = socketsOf('healthy');
    assert.equal(sockets.length, 1, `healthy's sockets: ${JSON.stringify(fs.readdirSync(controlDirPath))}`);
    assert.ok(fs.lstatSync(sockets[0]!).isSocket());
    const pid1 = masterPid(sockets[0]!);
    assert.ok(pid1, 'ssh -O check: no master behind healthy\'s socket after the pass');
    assert.match(fs.readFileSync(`/proc/${pid1}/cmdline`, 'latin1'), /\[mux\]/, 'the master is an ssh mux master');
    // Machines ssh never reached have no socket left behind.
    for (const id of ['closed', 'refused', 'tarpit']) assert.deepEqual(socketsOf(id), [], `${id} left a socket`);

    const second = await vcAsync(['collect', '--json', '--machine', 'healthy']);
    assert.equal(second.code, 0, second.stderr + second.stdout.slice(0, 1000));
    const again = JSON.parse(second.stdout).data.runs as Array<Record<string, any>>;
    for (const r of again) assert.equal(r.status, 'ok', `${r.source}: ${r.error}`);
    assert.deepEqual(socketsOf('healthy'), sockets, 'the same socket');
    assert.equal(masterPid(sockets[0]!), pid1, 'the same master process served the second pass: no new connection');
    const ms = (list: Array<Record<string, any>>) => SOURCES.map((s) => runOf(list, 'healthy', s).duration_ms);
    console.log(`# healthy run durations (sys, repos, agents, tools): first pass ${ms(runs).join('/')} ms, second pass ${ms(again).join('/')} ms`);
  });

  test('closed, refused, tarpit: unreachable with ssh\'s reason, each costing at most its connect timeout, nothing stored', () => {
    const reasons: Record<string, RegExp> = {
      closed: new RegExp(`port ${closedPort}: Connection refused`),
      refused: /Permission denied \(publickey\)/,
      tarpit: /timed out/i,
    };
    for (const id of UNREACHABLE) {
      for (const r of runsOf(runs, id)) {
        assert.equal(r.status, 'unreachable', `${id} ${r.source}: ${r.status} ${r.error}`);
        assert.match(r.error, /^machine unreachable: /);
        assert.match(r.error, reasons[id]!, `${id} ${r.source}`);
        assert.equal(r.rows, 0);
        assert.ok(r.duration_ms <= CONNECT_TIMEOUT_S * 1000 + SLACK_MS, `${id} ${r.source} took ${r.duration_ms} ms (connect timeout ${CONNECT_TIMEOUT_S} s)`);
      }
      for (const s of SOURCES) assert.deepEqual(readRaw(data, s, id), [], `${id}: ${s} stored`);
    }
    // The tarpit really held ssh until its ConnectTimeout.
    for (const r of runsOf(runs, 'tarpit')) assert.ok(r.duration_ms >= CONNECT_TIMEOUT_S * 1000 - 300, `tarpit ${r.source}: ${r.duration_ms} ms`);
  });

  test('hangs: every run is a timeout within the collector timeout plus the pipe grace; nothing stored', () => {
    for (const r of runsOf(runs, 'hangs')) {
      assert.equal(r.status, 'timeout', `${r.source}: ${r.status} ${r.error}`);
      assert.match(r.error, new RegExp(`timed out after ${COLLECT_TIMEOUT_S}s`));
      assert.ok(r.duration_ms >= COLLECT_TIMEOUT_S * 1000, `${r.source}: ${r.duration_ms} ms`);
      assert.ok(r.duration_ms <= COLLECT_TIMEOUT_S * 1000 + PIPE_GRACE_MS + SLACK_MS, `${r.source}: ${r.duration_ms} ms`);
    }
    for (const s of SOURCES) assert.deepEqual(readRaw(data, s, 'hangs'), []);
  });

  test('no process of the pass is left running here, except the shared-connection masters', () => {
    const nonMasters = localLeftovers.filter((p) => !/^ssh: .*\[mux\]$/.test(p.args));
    assert.deepEqual(nonMasters, [], 'local processes of the pass still running after vc collect returned');
    // At most one master per remote machine that ssh reached.
    const masters = localLeftovers.map((p) => /^ssh: (\S+) \[mux\]$/.exec(p.args)?.[1]).filter(Boolean) as string[];
    assert.equal(new Set(masters).size, masters.length, `two masters on one socket: ${JSON.stringify(masters)}`);
    for (const m of masters) assert.ok(!/\/(closed|refused|tarpit)-/.test(m), `a master for an unreachable machine: ${m}`);
    // The scan does see our processes: healthy's master is one of them.
    assert.ok(masters.some((m) => path.basename(m).startsWith('healthy-')), `healthy's master not found among ${JSON.stringify(localLeftovers)}`);
  });

  test('on the remote side, only the hung forced command outlives the pass, at most one per timed-out run', () => {
    // sshd does not signal a command without a tty when its channel closes, and a forced command
    // never runs vc's script: after vc kills its ssh client, nothing vc controls can end the
    // remote `sleep`. What must hold: every other session ended (no `sh -s` of vc's script, no
    // flood, no drop pipeline), and the leftovers are bounded by the runs that timed out.
    // The scan sees the login user's processes: the masters' connections are served by sshd as that user.
    assert.ok(processes().some((p) => p.uid === userUid() && /^sshd/.test(p.args)), 'no sshd process of the login user: the scan is blind');
    const others = remoteLeftovers.filter((p) => !p.args.includes(TOKEN));
    assert.deepEqual(others, [], `remote processes left by the pass: ${JSON.stringify(remoteLeftovers)}`);
    const sleeps = remoteLeftovers.filter((p) => p.args === HANG_CMD);
    assert.ok(sleeps.length <= runsOf(runs, 'hangs').length, `${sleeps.length} hung sleeps for ${runsOf(runs, 'hangs').length} timed-out runs`);
    console.log(`# remote leftovers after the pass: ${remoteLeftovers.length} (${sleeps.length} hung sleeps; killed by the test's cleanup)`);
  });

  test('garbage and forged: an error saying the machine did not run vc\'s script; nothing stored', () => {
    for (const id of ['garbage', 'forged']) {
      for (const r of runsOf(runs, id)) {
        assert.equal(r.status, 'error', `${id} ${r.source}: ${r.status} ${r.error}`);
        assert.match(r.error, /did not run vc's script/, `${id} ${r.source}`);
        assert.equal(r.rows, 0);
      }
      for (const s of SOURCES) assert.deepEqual(readRaw(data, s, id), [], `${id}: ${s} stored`);
    }
    // The forged sections' text reached no stored line, not even through another machine.
    const all = execFileSync('sh', ['-c', `grep -rl ${JSON.stringify(`FORGED-${TOKEN}`)} ${JSON.stringify(data)} || true`], { encoding: 'utf8' });
    assert.equal(all.trim(), '', 'forged text was stored');
  });

  test('flood: an error naming the output cap, within the timeout; nothing stored', () => {
    for (const r of runsOf(runs, 'flood')) {
      assert.equal(r.status, 'error', `${r.source}: ${r.status} ${r.error}`);
      assert.match(r.error, new RegExp(`more than ${MAX_OUTPUT} bytes \\(the output cap\\)`));
      assert.ok(r.bytes > MAX_OUTPUT && r.bytes < MAX_OUTPUT + 4 * 1024 * 1024, `${r.source} counted ${r.bytes} bytes`);
      assert.ok(r.duration_ms < COLLECT_TIMEOUT_S * 1000, `${r.source}: ${r.duration_ms} ms`);
    }
    for (const s of SOURCES) assert.deepEqual(readRaw(data, s, 'flood'), []);
  });

  test('drop: the forced command really drops the connection mid-transfer', () => {
    // Straight ssh, no shared connection: part of the output arrives, then ssh reports the drop.
    const script = 'i=0; while [ $i -lt 5000 ]; do echo "line $i"; i=$((i+1)); done; echo END';
    const r = spawnSync('ssh', ['-F', sshd!.clientConfig, '-i', sshd!.keys.drop!, '-o', 'BatchMode=yes', '-p', String(sshd!.port),
      '--', `${SSH_USER}@127.0.0.1`, 'sh -s'], { input: script, encoding: 'utf8', timeout: 20_000 });
    assert.equal(r.status, 255, `ssh exit ${r.status}: ${r.stderr}`);
    assert.match(r.stderr, /closed by remote host|Connection .*(closed|reset)|Broken pipe/i);
    assert.ok(r.stdout.length > 0 && r.stdout.length <= 20000, `${r.stdout.length} bytes arrived`);
    assert.ok(!r.stdout.includes('END'), 'the whole output arrived');
  });

  test('drop: every run failed (the output was cut), nothing stored', () => {
    for (const r of runsOf(runs, 'drop')) {
      assert.notEqual(r.status, 'ok', `${r.source}: ok on a dropped connection`);
      assert.ok(['error', 'unreachable'].includes(r.status), `${r.source}: ${r.status}`);
      // ssh's words for the drop (a shared connection's client only knows that it failed), or the
      // harness's for an output cut short.
      assert.match(r.error, /closed by remote host|Connection .*(closed|reset)|exited 255 after the script started|exited with|no "[a-z_0-9]+" section|did not get that far/i, `${r.source}: ${r.error}`);
      assert.equal(r.rows, 0);
    }
    // Output did arrive before the drop (one run's drop kills the shared connection, so the others
    // may get nothing at all).
    assert.ok(runsOf(runs, 'drop').some((r) => r.bytes > 0), `nothing arrived before the drop: ${describeRuns(runsOf(runs, 'drop'))}`);
    for (const s of SOURCES) assert.deepEqual(readRaw(data, s, 'drop'), []);
  });

  test('drop: a connection dropped mid-transfer is an error, not "unreachable": the machine was reached and ran the script', () => {
    const got = Object.fromEntries(runsOf(runs, 'drop').map((r) => [r.source, r.status]));
    assert.deepEqual(got, Object.fromEntries(SOURCES.map((s) => [s, 'error'])), describeRuns(runsOf(runs, 'drop')));
  });

  test('no partial or malformed line anywhere in the data dir', () => {
    const scan = scanRaw(path.join(data, 'raw'));
    assert.ok(scan.files > 0 && scan.lines > 0);
    assert.deepEqual(scan.bad, []);
  });

  test('the bad machines did not delay the healthy ones', () => {
    assert.equal(baseline.code, 0, `baseline pass: ${baseline.stderr}`);
    for (const s of SOURCES) {
      const r = runOf(runs, 'healthy', s);
      const b = runOf(baselineRuns, 'healthy', s);
      const hang = runOf(runs, 'hangs', s);
      // Not queued behind the hung machine, and done before its timeout fired: within the same
      // collector process, the healthy run started before the hung one ended and ended well before.
      assert.ok(Date.parse(r.started_at) < Date.parse(hang.ended_at), `healthy ${s} waited for hangs to time out`);
      assert.ok(Date.parse(r.ended_at) < Date.parse(hang.started_at) + COLLECT_TIMEOUT_S * 1000,
        `healthy ${s} ended ${Date.parse(r.ended_at) - Date.parse(hang.started_at)} ms after hangs' run started (its timeout: ${COLLECT_TIMEOUT_S} s)`);
      // In absolute terms: well inside its own timeout, and not many times slower than without the
      // bad machines (only the machine's CPU, which this pass loads, may slow it).
      assert.ok(r.duration_ms < (COLLECT_TIMEOUT_S * 1000) * 0.75, `healthy ${s} took ${r.duration_ms} ms`);
      assert.ok(r.duration_ms < b.duration_ms + 6000, `healthy ${s} took ${r.duration_ms} ms, ${b.duration_ms} ms without the bad machines`);
      const endedAfter = Date.parse(r.ended_at) - pass.startedAt;
      assert.ok(endedAfter < COLLECT_TIMEOUT_S * 1000 + SLACK_MS, `healthy ${s} ended ${endedAfter} ms into the pass`);
    }
  });
});

describe('what the reports say', { skip: SKIP }, () => {
  const json = async (args: string[], envBase = env) => {
    const r = await vcAsync([...args, '--json'], {}, envBase);
    assert.equal(r.code, 0, `vc ${args.join(' ')}: ${r.stderr}`);
    return JSON.parse(r.stdout);
  };

  test('vc report machines --json: reachability, reasons and since-when', async () => {
    const machines = (await json(['report', 'machines'])).data.machines as Array<Record<string, any>>;
    const byId = new Map(machines.map((m) => [m.machine_id, m]));
    assert.equal(byId.get('local')?.reachability, 'local');
    assert.equal(byId.get('healthy')?.reachability, 'reachable');
    assert.equal(byId.get('healthy')?.unreachable_reason, null);
    assert.equal(byId.get('healthy')?.unreachable_since, null);
    const firstStart = (id: string) => runsOf(runs, id).map((r) => Date.parse(r.started_at)).sort((a, b) => a - b)[0]!;
    for (const id of UNREACHABLE) {
      const m = byId.get(id);
      assert.ok(m, `${id} missing`);
      assert.equal(m.reachability, 'unreachable', id);
      const error = runsOf(runs, id).map((r) => r.error as string);
      assert.ok(error.some((e) => e === `machine unreachable: ${m.unreachable_reason}`), `${id}: reason ${JSON.stringify(m.unreachable_reason)} is none of ${JSON.stringify(error)}`);
      assert.equal(Date.parse(m.unreachable_since), firstStart(id), `${id}: unreachable since its first failed run`);
      assert.equal(m.last_ok_at, null);
    }
    assert.match(byId.get('closed')!.unreachable_reason, /Connection refused/);
    assert.match(byId.get('refused')!.unreachable_reason, /Permission denied \(publickey\)/);
    assert.match(byId.get('tarpit')!.unreachable_reason, /timed out/i);
    // Machines ssh reached are not "unreachable" (garbage, forged, flood, hangs, hostile, drop ran something).
    for (const id of ['garbage', 'forged', 'flood', 'hangs', 'hostile', 'drop']) assert.notEqual(byId.get(id)?.reachability, 'unreachable', id);
  });

  test('vc report triage --json: one freshness item per unreachable machine, titled with the reason', async () => {
    const [machines, triage] = await Promise.all([json(['report', 'machines']), json(['report', 'triage'])]);
    const reason = new Map((machines.data.machines as Array<Record<string, any>>).map((m) => [m.machine_id, m.unreachable_reason]));
    const items = triage.data.items as Array<Record<string, any>>;
    for (const id of UNREACHABLE) {
      const mine = items.filter((i) => i.machine_id === id && i.factor_id === 'freshness');
      assert.equal(mine.length, 1, `${id}: ${JSON.stringify(items.filter((i) => i.machine_id === id).map((i) => i.title))}`);
      assert.equal(mine[0]!.title, `${id}: unreachable (${reason.get(id)})`);
      assert.equal(mine[0]!.severity, 'crit', 'never collected successfully');
      assert.ok(mine[0]!.next.length > 0);
    }
    assert.ok(!items.some((i) => i.machine_id === 'healthy' && i.factor_id === 'freshness'), 'healthy is fresh');
  });

  test('triage\'s next commands quote the machine id and run as written', async () => {
    // On a copy of the data: the suggested `vc collect` adds runs.
    const copy = path.join(root, 'data-next');
    fs.cpSync(data, copy, { recursive: true });
    const copyEnv = { ...env, VC_DATA_DIR: copy };
    const items = (await json(['report', 'triage'], copyEnv)).data.items as Array<Record<string, any>>;
    const bin = path.join(root, 'bin');
    fs.mkdirSync(bin, { recursive: true });
    if (!fs.existsSync(path.join(bin, 'vc'))) fs.symlinkSync(path.join(repoRoot, 'bin', 'vc'), path.join(bin, 'vc'));
    const checked = new Set<string>();
    for (const id of UNREACHABLE) {
      const item = items.find((i) => i.machine_id === id && i.factor_id === 'freshness')!;
      assert.ok(item, id);
      for (const cmd of item.next as string[]) {
        assert.match(cmd, /^vc /);
        // Where the id appears, it is inside single quotes (an SQL literal), or a whole shell word
        // that a valid machine id is (no quoting needed, nothing for sh to expand).
        const unquoted = cmd.replace(/'[^']*'/g, "''");
        for (const word of unquoted.split(/\s+/)) {
          if (word.includes(id)) assert.ok(word === id && MACHINE_ID.test(word), `${cmd}: ${id} appears unquoted in ${JSON.stringify(word)}`);
        }
        // sh sees the id as exactly one argument, or inside one argument within '...'.
        const argv = spawnSync('sh', ['-c', `vc() { for a; do printf '%s\\0' "$a"; done; }; ${cmd}`], { encoding: 'utf8' }).stdout.split('\0').slice(0, -1);
        for (const a of argv) if (a.includes(id)) assert.ok(a === id || a.includes(`'${id}'`), `${cmd}: argument ${JSON.stringify(a)}`);
        assert.ok(argv.some((a) => a === id || a.includes(`'${id}'`)) || !cmd.includes(id), `${cmd}: the id got lost: ${JSON.stringify(argv)}`);
        if (checked.has(cmd)) continue;
        checked.add(cmd);
        const r = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
          const child = spawn('sh', ['-c', cmd], { env: { ...process.env, ...copyEnv, PATH: `${bin}:${process.env.PATH}` }, stdio: ['ignore', 'pipe', 'pipe'] });
          let stdout = '';
          let stderr = '';
          child.stdout.setEncoding('utf8').on('data', (s: string) => { stdout += s; });
          child.stderr.setEncoding('utf8').on('data', (s: string) => { stderr += s; });
          child.once('close', (code) => resolve({ code, stdout, stderr }));
        });
        if (/^vc collect /.test(cmd)) {
          // It collects that machine now; it is still unreachable, so exit 1 (never 2: bad usage).
          assert.equal(r.code, 1, `${cmd}\n${r.stderr}`);
          assert.match(r.stdout, new RegExp(`${id}[^\\n]*unreachable`), `${cmd}\nstderr: ${r.stderr}`);
        } else {
          assert.equal(r.code, 0, `${cmd}\n${r.stderr}`);
        }
        assert.ok(r.stdout.length > 0, cmd);
        if (/^vc query /.test(cmd)) assert.match(r.stdout, /unreachable/, `${cmd}: the runs it lists`);
      }
    }
  });

  test('vc machines probe healthy closed: exit 1, tools found on healthy, the reason for closed; vc machines list shows both', async () => {
    const copy = path.join(root, 'data-probe');
    fs.cpSync(data, copy, { recursive: true });
    const copyEnv = { ...env, VC_DATA_DIR: copy };
    const r = await vcAsync(['machines', 'probe', 'healthy', 'closed', '--json'], {}, copyEnv);
    assert.equal(r.code, 1, r.stderr + r.stdout.slice(0, 1000));
    const out = JSON.parse(r.stdout);
    assert.equal(out.schema_version, 'vc.machines.v1');
    const probe = out.data.probe as Array<Record<string, any>>;
    assert.deepEqual(probe.map((o) => o.machine_id).sort(), ['closed', 'healthy']);
    assert.ok(probe.every((o) => o.source === 'tools'));
    assert.equal(probe.find((o) => o.machine_id === 'healthy')!.status, 'ok');
    const closed = probe.find((o) => o.machine_id === 'closed')!;
    assert.equal(closed.status, 'unreachable');
    assert.match(closed.error, /Connection refused/);
    const machines = out.data.machines as Array<Record<string, any>>;
    assert.deepEqual(machines.map((m) => m.machine_id).sort(), ['closed', 'healthy'], 'only the probed machines');
    const healthy = machines.find((m) => m.machine_id === 'healthy')!;
    assert.equal(healthy.reachability, 'reachable');
    assert.equal(healthy.hostname, os.hostname());
    for (const t of ['ps', 'find', 'git']) {
      if (spawnSync('sh', ['-c', `command -v ${t}`]).status === 0) assert.ok(healthy.tools_present.includes(t), `${t} not in ${JSON.stringify(healthy.tools_present)}`);
    }
    assert.ok(Date.parse(healthy.tools_probed_at) >= r.startedAt - 1000, 'the probe\'s own tools sample');
    const cm = machines.find((m) => m.machine_id === 'closed')!;
    assert.equal(cm.reachability, 'unreachable');
    assert.match(cm.unreachable_reason, /Connection refused/);
    assert.equal(cm.tools_present, null, 'never probed successfully');

    const list = await vcAsync(['machines', 'list'], {}, copyEnv);
    assert.equal(list.code, 0, list.stderr);
    const row = (id: string) => list.stdout.split('\n').find((l) => l.startsWith(`| ${id} |`)) ?? '';
    assert.match(row('healthy'), /\| reachable \|/);
    assert.match(row('healthy'), /\bps\b.*\bfind\b|\bfind\b.*\bps\b/);
    assert.match(row('closed'), /unreachable since \d{4}-\d\d-\d\d.*Connection refused/);
    assert.match(row('local'), /\| local \|/);
    assert.ok(!list.stdout.includes(ESC));
  });

  test('hostile text from a machine is stripped from what is rendered; stored as data, never as markup', async () => {
    // The hostile runs carry the remote's escapes in their error (as JSON text, which is safe).
    const hostile = runOf(runs, 'hostile', 'tools');
    assert.notEqual(hostile.status, 'ok');
    assert.match(hostile.error, new RegExp(`HOSTILE-${TOKEN}`), 'the remote\'s message is kept');
    const h255 = runOf(runs, 'hostile255', 'tools');
    assert.notEqual(h255.status, 'ok');
    assert.match(h255.error, new RegExp(`HOSTILE-${TOKEN}`));
    assert.ok(!h255.error.includes(ESC), 'an ssh failure reason is sanitized before it is stored');
    for (const s of SOURCES) assert.deepEqual(readRaw(data, s, 'hostile'), []);

    for (const args of [['report', 'machines', '--md'], ['report', 'triage', '--md'], ['report', 'health', '--md'], ['machines', 'list']]) {
      const r = await vcAsync(args);
      assert.equal(r.code, 0, `vc ${args.join(' ')}: ${r.stderr}`);
      assert.ok(r.stdout.includes(`HOSTILE-${TOKEN}`) || args[1] === 'triage', `vc ${args.join(' ')} does not show the hostile machines' errors`);
      assert.ok(!r.stdout.includes(ESC), `vc ${args.join(' ')}: an ESC byte in the output`);
      assert.ok(!/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/.test(r.stdout), `vc ${args.join(' ')}: a control character in the output`);
      assert.ok(!r.stderr.includes(ESC), `vc ${args.join(' ')}: an ESC byte on stderr`);
    }
    // vc collect's own table (not --json), for a hostile machine, on a copy of the data.
    const copy = path.join(root, 'data-hostile');
    fs.cpSync(data, copy, { recursive: true });
    const r = await vcAsync(['collect', '--machine', 'hostile,hostile255', '--source', 'tools'], {}, { ...env, VC_DATA_DIR: copy });
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stdout, /hostile255/);
    assert.match(r.stdout, new RegExp(`HOSTILE-${TOKEN}`));
    assert.ok(!r.stdout.includes(ESC) && !r.stderr.includes(ESC), 'an ESC byte in vc collect\'s table');
  });

  test('vc collect --machine A --machine B collects both machines (the flag is documented as repeatable)', async () => {
    const copy = path.join(root, 'data-repeat');
    fs.cpSync(data, copy, { recursive: true });
    const r = await vcAsync(['collect', '--json', '--machine', 'closed', '--machine', 'refused', '--source', 'tools', '--source', 'repos'], {}, { ...env, VC_DATA_DIR: copy });
    assert.notEqual(r.code, 2, r.stderr);
    const got = (JSON.parse(r.stdout).data.runs as Array<Record<string, any>>).map((o) => `${o.machine_id} ${o.source}`).sort();
    assert.deepEqual(got, ['closed repos', 'closed tools', 'refused repos', 'refused tools']);
  });
});
