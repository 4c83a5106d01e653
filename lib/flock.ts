// flock(2) for Node, which has none: flock(1) runs on an inherited copy of the descriptor. flock
// locks belong to the open file description, which the child shares, so the lock stays held by
// this process until `fd` is closed, or the process dies, which is what makes a killed holder
// harmless: the kernel drops its locks. Asynchronous, so that a lock that never comes stalls only
// the run that waits for it, never the other collectors of the same process.
import { spawn } from 'node:child_process';

/** A wait is given up (and its flock killed) this long after flock's own -w should have ended it. */
const GRACE_MS = 2000;

function runFlock(args: string[], fd: number, what: string, waitMs: number, signal?: AbortSignal): Promise<number> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(new Error(`cannot lock ${what}: the run was stopped`));
      return;
    }
    const child = spawn('flock', [...args, '3'], { stdio: ['ignore', 'ignore', 'pipe', fd], timeout: waitMs + GRACE_MS, killSignal: 'SIGKILL' });
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => { stderr += d.toString(); });
    const onAbort = () => child.kill('SIGKILL');
    signal?.addEventListener('abort', onAbort, { once: true });
    child.on('error', (err) => {
      signal?.removeEventListener('abort', onAbort);
      reject(new Error(`cannot lock ${what}: flock(1) failed to run: ${err.message}`));
    });
    child.on('close', (code, sig) => {
      signal?.removeEventListener('abort', onAbort);
      if (signal?.aborted) reject(new Error(`cannot lock ${what}: the run was stopped`));
      else if (sig) reject(new Error(`cannot lock ${what}: flock(1) hung and was killed after ${Math.round((waitMs + GRACE_MS) / 1000)}s`));
      else if (code === null) reject(new Error(`cannot lock ${what}: flock(1) ended without a status`));
      else if (code > 1 || (code === 1 && stderr.trim())) reject(new Error(`cannot lock ${what}: ${stderr.trim() || `flock exit ${code}`}`));
      else resolve(code);
    });
  });
}

/** Waits up to `waitSeconds` for an exclusive lock on `fd`; throws naming `what` if it cannot. */
export async function lockExclusive(fd: number, what: string, waitSeconds: number, signal?: AbortSignal): Promise<void> {
  const code = await runFlock(['-x', '-w', String(waitSeconds)], fd, what, waitSeconds * 1000, signal);
  if (code !== 0) throw new Error(`cannot lock ${what} within ${waitSeconds}s`);
}

/** Takes an exclusive lock on `fd` if it is free right now; false if someone holds it. */
export async function tryLockExclusive(fd: number, what: string): Promise<boolean> {
  return (await runFlock(['-n', '-x'], fd, what, 0)) === 0;
}
