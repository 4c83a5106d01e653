// A real OpenSSH server on a loopback port for tests: its own host key, client keys (each maybe
// with a forced command, or not authorised at all), an ssh_config for the client side, and a
// dedicated login user whose shell is /bin/sh (a lean remote account: no rc files on every
// command). Needs root (sshd, useradd) and Debian's openssh-server, which .ci/run installs.
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';

export const SSH_USER = 'vc-ssh-test';
const SSH_HOME = `/var/lib/${SSH_USER}`;

export interface KeySpec {
  name: string;
  /** sshd runs this instead of whatever the client asked for. */
  forcedCommand?: string;
  /** false: the key exists but the server does not accept it. */
  authorized?: boolean;
}

export interface Sshd {
  port: number;
  user: string;
  /** The client's ssh_config: known host key, IdentitiesOnly, no prompts. */
  clientConfig: string;
  /** Private key file of each KeySpec, by name. */
  keys: Record<string, string>;
  /** `user@127.0.0.1:port`, for vc.toml. */
  target: string;
  dir: string;
  stop(): void;
}

export const sshdAvailable = () => fs.existsSync('/usr/sbin/sshd') && process.getuid?.() === 0;

/** A loopback port nothing listens on (just now). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

async function waitForPort(port: number, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    const ok = await new Promise<boolean>((resolve) => {
      const sock = net.connect(port, '127.0.0.1', () => { sock.destroy(); resolve(true); });
      sock.once('error', () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`sshd did not listen on port ${port} within ${ms} ms`);
}

/** The login user: a system account with /bin/sh and a home of its own. */
function ensureUser(): void {
  try {
    execFileSync('id', [SSH_USER], { stdio: 'ignore' });
  } catch {
    execFileSync('useradd', ['--system', '--shell', '/bin/sh', '--home-dir', SSH_HOME, '--create-home', SSH_USER], { stdio: 'pipe' });
  }
  // A new system account is locked ('!' in shadow), and sshd without PAM refuses locked accounts:
  // '*' means no password, yet not locked, so keys work.
  execFileSync('usermod', ['-p', '*', SSH_USER]);
  fs.mkdirSync(SSH_HOME, { recursive: true });
  execFileSync('chown', [SSH_USER, SSH_HOME]);
}

/** Whether a process's environment holds `marker` (NAME=value). */
function hasMarker(pid: number | string, marker: string): boolean {
  try {
    return fs.readFileSync(`/proc/${pid}/environ`, 'latin1').split('\0').includes(marker);
  } catch {
    return false; // gone meanwhile
  }
}

/** Whether a process belongs to one of this server's sessions (see SetEnv below). */
export const servedBy = (sshd: Sshd, pid: number): boolean => hasMarker(pid, `VC_SSHD=${path.basename(sshd.dir)}`);

/** Kills every process whose environment holds `marker`. */
function killMarked(marker: string): void {
  for (const pid of fs.readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    if (hasMarker(pid, marker)) {
      try { process.kill(Number(pid), 'SIGKILL'); } catch { /* gone meanwhile */ }
    }
  }
}

/** Kills every process with `file` open. */
function killHolding(file: string): void {
  for (const pid of fs.readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    let fds: string[] = [];
    try { fds = fs.readdirSync(`/proc/${pid}/fd`); } catch { continue; }
    const holds = fds.some((fd) => {
      try { return fs.readlinkSync(`/proc/${pid}/fd/${fd}`) === file; } catch { return false; }
    });
    if (holds) try { process.kill(Number(pid), 'SIGKILL'); } catch { /* gone meanwhile */ }
  }
}

export async function startSshd(keys: KeySpec[]): Promise<Sshd> {
  ensureUser();
  fs.mkdirSync('/run/sshd', { recursive: true }); // sshd's privilege separation directory
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vc-sshd-'));
  // sshd reads the authorized keys as the login user: the directory must be readable by it.
  fs.chmodSync(dir, 0o755);
  const keygen = (file: string) => execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', path.basename(file), '-f', file]);
  keygen(path.join(dir, 'host_key'));
  const authorized: string[] = [];
  const keyFiles: Record<string, string> = {};
  for (const k of keys) {
    const file = path.join(dir, `key-${k.name}`);
    keygen(file);
    keyFiles[k.name] = file;
    const pub = fs.readFileSync(`${file}.pub`, 'utf8').trim();
    if (k.authorized !== false) authorized.push(k.forcedCommand ? `command=${JSON.stringify(k.forcedCommand)} ${pub}` : pub);
  }
  fs.writeFileSync(path.join(dir, 'authorized_keys'), `${authorized.join('\n')}\n`, { mode: 0o644 });
  const port = await freePort();
  const config = path.join(dir, 'sshd_config');
  fs.writeFileSync(config, [
    `Port ${port}`, 'ListenAddress 127.0.0.1', `HostKey ${path.join(dir, 'host_key')}`,
    `AuthorizedKeysFile ${path.join(dir, 'authorized_keys')}`, `AllowUsers ${SSH_USER}`,
    'PasswordAuthentication no', 'KbdInteractiveAuthentication no', 'PubkeyAuthentication yes',
    'StrictModes no', 'UsePAM no', 'PrintMotd no', 'PrintLastLog no', 'UseDNS no', 'X11Forwarding no',
    'MaxStartups 200:30:400', 'MaxSessions 32', `PidFile ${path.join(dir, 'sshd.pid')}`, 'LogLevel ERROR',
    // Marks every process of this server's sessions, so stop() kills these and no other test's.
    `SetEnv VC_SSHD=${path.basename(dir)}`,
  ].join('\n') + '\n');
  // The log is a file, not a pipe to us: a session outlives the server while a client's shared
  // connection holds it, and a pipe it inherited would keep this test process waiting for it.
  const logFile = path.join(dir, 'sshd.log');
  const sshd: ChildProcess = spawn('/usr/sbin/sshd', ['-D', '-E', logFile, '-f', config], { stdio: 'ignore', detached: true });
  sshd.unref();
  try {
    await waitForPort(port, 5000);
  } catch (err) {
    sshd.kill('SIGKILL');
    throw new Error(`${(err as Error).message}: ${fs.existsSync(logFile) ? fs.readFileSync(logFile, 'utf8') : ''}`);
  }
  const hostPub = fs.readFileSync(path.join(dir, 'host_key.pub'), 'utf8').trim().split(' ').slice(0, 2).join(' ');
  fs.writeFileSync(path.join(dir, 'known_hosts'), `[127.0.0.1]:${port} ${hostPub}\n`);
  const clientConfig = path.join(dir, 'ssh_config');
  fs.writeFileSync(clientConfig, [
    'Host *', `  UserKnownHostsFile ${path.join(dir, 'known_hosts')}`, '  StrictHostKeyChecking yes',
    '  IdentitiesOnly yes', '  LogLevel ERROR',
  ].join('\n') + '\n');
  const stop = () => {
    try { process.kill(-sshd.pid!, 'SIGKILL'); } catch { /* gone */ }
    // The sessions' processes go too, also the ones orphaned by a dropped connection; other
    // servers' (tests run side by side) stay.
    killMarked(`VC_SSHD=${path.basename(dir)}`);
    // The sessions' own sshd processes hold the log open: without them the clients' shared
    // connections close too.
    killHolding(logFile);
    fs.rmSync(dir, { recursive: true, force: true });
  };
  process.once('exit', stop);
  return { port, user: SSH_USER, clientConfig, keys: keyFiles, target: `${SSH_USER}@127.0.0.1:${port}`, dir, stop };
}

/** A loopback sshd whose logins find `bin` first on their PATH: fake upstream tools, remotely. */
export const startSshdWithPath = (bin: string): Promise<Sshd> =>
  startSshd([{ name: 'ok', forcedCommand: `PATH=${bin}:$PATH exec sh -s` }]);

/** vc.toml lines naming the sshd's login as machine "far" (after `sections`, e.g. a collector's). */
export const farMachineToml = (sshd: Sshd, sections: readonly string[] = []): string => [
  '[ssh]', `config_file = ${JSON.stringify(sshd.clientConfig)}`, ...sections,
  '[[machines]]', 'id = "far"', `ssh = ${JSON.stringify(sshd.target)}`, `identity_file = ${JSON.stringify(sshd.keys.ok)}`,
].join('\n');
