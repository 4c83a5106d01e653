// Remote machines through the system ssh: BatchMode (never a prompt), a connect timeout, keep-alives,
// and one shared connection per machine (ControlMaster=auto + ControlPersist, socket in a private
// dir), so a pass pays one handshake per machine, not one per collector. The caller's exec adds
// the hard wall-clock timeout and the output cap.
import crypto from 'node:crypto';
import path from 'node:path';
import type { Config, Machine } from './config.ts';
import { execArgv, type ExecOptions, type ExecResult } from './exec.ts';
import { expandHome, privateRuntimeDir } from './paths.ts';

export interface SshEndpoint {
  user: string | null;
  host: string;
  port: number | null;
}

/** Splits a validated `[user@]host[:port]` (host may be an [IPv6] literal). */
export function parseSshTarget(target: string): SshEndpoint {
  const m = /^(?:([^@]+)@)?(\[[^\]]+\]|[^:]+)(?::(\d+))?$/.exec(target);
  if (!m) throw new Error(`not an ssh target: ${JSON.stringify(target)}`);
  const port = m[3] === undefined ? null : Number(m[3]);
  if (port !== null && (port < 1 || port > 65535)) throw new Error(`ssh port out of range in ${JSON.stringify(target)}`);
  return { user: m[1] ?? null, host: m[2]!.replace(/^\[|\]$/g, ''), port };
}

/**
 * The directory of the shared-connection sockets: private to this user, since anyone who can
 * reach a socket can run commands on the machine behind it.
 */
export const controlDir = (): string => privateRuntimeDir('vc-ssh', 'keep ssh sockets');

/** ssh's options for a machine, before the destination. */
function connectionOptions(config: Config, machine: Machine): string[] {
  const s = config.ssh;
  const { port } = parseSshTarget(machine.ssh);
  return [
    ...(s.config_file ? ['-F', expandHome(s.config_file)] : []),
    '-o', 'BatchMode=yes',
    '-o', `ConnectTimeout=${s.connect_timeout_seconds}`,
    '-o', `ServerAliveInterval=${s.server_alive_interval_seconds}`,
    '-o', 'ServerAliveCountMax=3',
    ...(machine.identity_file ? ['-i', expandHome(machine.identity_file), '-o', 'IdentitiesOnly=yes'] : []),
    ...(machine.proxy_jump ? ['-J', machine.proxy_jump] : []),
    ...(port !== null ? ['-p', String(port)] : []),
  ];
}

/**
 * The shared-connection socket of a machine: its id plus a hash of how it is reached, so a
 * changed key or port never reuses a connection made with the old ones. (ssh's own %C would let
 * two machine ids that differ only in their key share one connection.)
 */
function controlPath(config: Config, machine: Machine): string {
  const hash = crypto.createHash('sha256').update(JSON.stringify([machine.ssh, connectionOptions(config, machine)])).digest('hex').slice(0, 12);
  return path.join(controlDir(), `${machine.id}-${hash}`);
}

/** The full ssh command that runs `sh -s` on the machine (the script comes on stdin). */
export function sshArgv(config: Config, machine: Machine): string[] {
  const { user, host } = parseSshTarget(machine.ssh);
  return [
    'ssh', ...connectionOptions(config, machine),
    '-o', 'ControlMaster=auto',
    '-o', `ControlPersist=${config.ssh.control_persist_seconds}`,
    '-o', `ControlPath=${controlPath(config, machine)}`,
    // `--` ends the options: nothing after it can be taken for one.
    '--', user ? `${user}@${host}` : host, 'sh -s',
  ];
}

/**
 * What the script writes to stderr before anything else, so a failed run tells whether it got
 * as far as the machine: a connection that drops mid-run is not a machine ssh could not reach.
 */
const STARTED_LINE = 'vc: the script started on this machine';

export interface SshResult extends ExecResult {
  /** The script started on the machine (its first line reached us), or output came back. */
  reached: boolean;
}

/** Runs a POSIX sh script on the machine over ssh. Exit 255 is ssh's own failure (see sshFailure). */
export async function runOverSsh(config: Config, machine: Machine, script: string, opts: Omit<ExecOptions, 'input'>): Promise<SshResult> {
  const r = await execArgv(sshArgv(config, machine), { ...opts, input: `echo '${STARTED_LINE}' >&2\n${script}` });
  const at = r.stderr.indexOf(`${STARTED_LINE}\n`);
  const stderr = at < 0 ? r.stderr : r.stderr.slice(0, at) + r.stderr.slice(at + STARTED_LINE.length + 1);
  return { ...r, stderr, reached: at >= 0 || r.stdout.length > 0 };
}

/** ssh's last words on stderr (what it says when it fails), without its routine warnings. */
function sshWords(r: ExecResult): string {
  const lines = r.stderr.split('\n').map((l) => l.trim()).filter((l) => l && !/^Warning: Permanently added/.test(l));
  return lines.slice(-2).join(' | ').slice(0, 300);
}

/**
 * A run that ended with exit 255, ssh's own failure status: either ssh never reached the machine
 * ("connect to host ... Connection refused", "Permission denied (publickey)", ...), in its own
 * words, or the connection broke after the script started (or the script itself exited 255).
 * Null if the run did not end that way.
 */
export function sshFailure(r: SshResult): { unreachable: boolean; reason: string } | null {
  if (r.code !== 255) return null;
  if (!r.reached) return { unreachable: true, reason: sshWords(r) || 'ssh failed (exit 255) without saying why' };
  return {
    unreachable: false,
    reason: `ssh exited 255 after the script started on the machine (the connection dropped, or the script exited 255), ${r.bytes} bytes in${sshWords(r) ? `: ${sshWords(r)}` : ''}`,
  };
}
