// flock(2) for Node, which has none: flock(1) runs on an inherited copy of the descriptor. flock
// locks belong to the open file description, which the child shares, so the lock stays held by
// this process until `fd` is closed, or the process dies, which is what makes a killed holder
// harmless: the kernel drops its locks.
import { spawnSync } from 'node:child_process';

/** Waits up to `waitSeconds` for an exclusive lock on `fd`; throws naming `what` if it cannot. */
export function lockExclusive(fd: number, what: string, waitSeconds: number): void {
  const r = spawnSync('flock', ['-x', '-w', String(waitSeconds), '3'], { stdio: ['ignore', 'ignore', 'pipe', fd] });
  if (r.error) throw new Error(`cannot lock ${what}: flock(1) failed to run: ${r.error.message}`);
  if (r.status !== 0) throw new Error(`cannot lock ${what} within ${waitSeconds}s: ${r.stderr.toString().trim() || `flock exit ${r.status}`}`);
}

/** Takes an exclusive lock on `fd` if it is free right now; false if someone holds it. */
export function tryLockExclusive(fd: number, what: string): boolean {
  const r = spawnSync('flock', ['-n', '-x', '3'], { stdio: ['ignore', 'ignore', 'pipe', fd] });
  if (r.error) throw new Error(`cannot lock ${what}: flock(1) failed to run: ${r.error.message}`);
  return r.status === 0;
}
