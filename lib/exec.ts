// Running a command with the limits every source needs: a hard wall-clock timeout that kills the
// whole process group, and an output cap, so that no upstream program can hang or flood vc.
import fs from 'node:fs';
import { $ } from 'zx/core';
import { shQuote } from './shell.ts';

export interface ExecOptions {
  timeoutMs: number;
  /** Cap on stdout + stderr bytes; past it the process group is killed and `overflow` is set. */
  maxBytes: number;
  input?: string;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Aborting kills the command's whole session, as a timeout does (the run it belongs to was given up). */
  signal?: AbortSignal;
}

export interface ExecResult {
  code: number | null;
  signal: string | null;
  stdout: string;
  stderr: string;
  /** Bytes of stdout + stderr received (counted up to the point the cap stopped the process). */
  bytes: number;
  durationMs: number;
  timedOut: boolean;
  overflow: boolean;
  /** The program could not be started at all (e.g. not installed). */
  spawnError: string | null;
}

/** After a kill, how long to wait for pipes held open by escaped grandchildren before giving up on them. */
const PIPE_GRACE_MS = 2000;

/**
 * Kills every process of the session `sid`. The child is started as a session leader (detached),
 * and a process group kill is not enough: coreutils `timeout`, used inside collector scripts, puts
 * its command in a group of its own, which would outlive the kill and hold our pipes open.
 */
function killSession(sid: number): void {
  try { process.kill(-sid, 'SIGKILL'); } catch { /* group already gone */ }
  let pids: string[] = [];
  try {
    pids = fs.readdirSync('/proc').filter((p) => /^\d+$/.test(p));
  } catch {
    return; // no /proc: the group kill is all there is
  }
  for (const pid of pids) {
    try {
      const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
      // Fields after the command name: state ppid pgrp session ...
      const session = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[3]);
      if (session === sid) process.kill(Number(pid), 'SIGKILL');
    } catch { /* exited meanwhile, or not ours to read */ }
  }
}

/** Runs argv (no shell interpretation of its words) under the limits in `opts`. */
export async function execArgv(argv: readonly string[], opts: ExecOptions): Promise<ExecResult> {
  const started = performance.now();
  const proc = $({
    // Plain sh that execs the command at once. zx's default, bash, reads ~/.bashrc when its stdin
    // is a socket (node's pipes are socketpairs; bash takes that for sshd), so a user's slow
    // bashrc would run before every command vc starts.
    shell: '/bin/sh',
    prefix: 'exec ',
    postfix: '',
    quote: shQuote,
    nothrow: true,
    quiet: true,
    verbose: false,
    detached: true, // its own session, so a kill reaches every process it started
    input: opts.input,
    env: opts.env ?? process.env,
    cwd: opts.cwd,
  })`${argv}`;
  // A command that exits (or a connection that drops) before reading all its input makes the
  // write fail with EPIPE, emitted on stdin a tick later: its exit status and output say what
  // happened; unhandled, the error would end the whole vc process.
  proc.stdin?.on('error', () => {});

  let bytes = 0;
  let overflow = false;
  let timedOut = false;
  let killed = false;
  let graceTimer: NodeJS.Timeout | undefined;

  const killGroup = () => {
    if (killed) return;
    killed = true;
    if (proc.pid) killSession(proc.pid);
    // A grandchild that left the group may still hold our pipes open; stop waiting for it.
    graceTimer = setTimeout(() => {
      proc.stdout.destroy();
      proc.stderr.destroy();
    }, PIPE_GRACE_MS);
  };
  // The raw bytes, decoded once at the end: zx decodes chunk by chunk, which breaks a multi-byte
  // character that straddles two chunks into replacement characters.
  const stdout: Buffer[] = [];
  const stderr: Buffer[] = [];
  const collect = (into: Buffer[]) => (chunk: Buffer) => {
    bytes += chunk.length;
    into.push(chunk);
    if (bytes > opts.maxBytes && !overflow) {
      overflow = true;
      killGroup();
    }
  };
  proc.stdout.on('data', collect(stdout));
  proc.stderr.on('data', collect(stderr));
  const timer = setTimeout(() => {
    timedOut = true;
    killGroup();
  }, opts.timeoutMs);
  const onAbort = () => {
    timedOut = true;
    killGroup();
  };
  if (opts.signal?.aborted) onAbort();
  else opts.signal?.addEventListener('abort', onAbort, { once: true });

  const out = await proc;
  clearTimeout(timer);
  opts.signal?.removeEventListener('abort', onAbort);
  clearTimeout(graceTimer);
  const stderrText = Buffer.concat(stderr).toString('utf8');
  const spawnError = out.exitCode === null && out.signal === null && !killed ? out.stderr || 'could not start' : execError(argv[0]!, out.exitCode, stderrText);
  return {
    code: out.exitCode,
    signal: out.signal,
    stdout: Buffer.concat(stdout).toString('utf8'),
    stderr: stderrText,
    bytes,
    durationMs: Math.round(performance.now() - started),
    timedOut,
    overflow,
    spawnError,
  };
}

/**
 * sh's own words when its `exec` of the program failed (exit 127: not found, 126: not
 * executable), or null: the program ran.
 */
function execError(program: string, code: number | null, stderr: string): string | null {
  if ((code !== 127 && code !== 126) || !/^[^\n]*\bsh: \d+: exec: [^\n]*: (not found|Permission denied)\n?$/.test(stderr)) return null;
  return code === 127 ? `${program}: No such file or directory` : `${program}: Permission denied (not executable)`;
}

/** One line saying why a command did not succeed, or null if it did. */
export function execFailure(what: string, r: ExecResult, opts: Pick<ExecOptions, 'timeoutMs' | 'maxBytes'>): string | null {
  if (r.timedOut) return `${what} timed out after ${opts.timeoutMs / 1000}s and was killed`;
  if (r.overflow) return `${what} printed more than ${opts.maxBytes} bytes (the output cap) and was killed`;
  if (r.spawnError) return `${what} could not be started: ${r.spawnError.trim()}`;
  if (r.code !== 0) {
    const tail = r.stderr.trim().split('\n').slice(-3).join(' | ').slice(0, 500);
    return `${what} exited with ${r.code ?? `signal ${r.signal}`}${tail ? `: ${tail}` : ''}`;
  }
  return null;
}
