// At most N collectors at once on one machine, across all the collector processes of a pass:
// N lock files per machine, a collector holds one while it works. A shared ssh connection serves
// at most sshd's MaxSessions (10 by default) at a time, and a small machine should not run every
// probe at once either.
import fs from 'node:fs';
import path from 'node:path';
import { tryLockExclusive } from './flock.ts';
import { stateDir } from './paths.ts';

const POLL_MS = 100;

/** Runs `fn` holding one of the machine's `slots` slots; waits up to `waitMs` for one to free. */
export async function withMachineSlot<T>(dataDir: string, machineId: string, slots: number, waitMs: number, fn: () => Promise<T>): Promise<T> {
  const dir = path.join(stateDir(dataDir), 'slots', machineId);
  fs.mkdirSync(dir, { recursive: true });
  const deadline = Date.now() + waitMs;
  for (;;) {
    for (let k = 0; k < slots; k++) {
      const fd = fs.openSync(path.join(dir, `${k}.lock`), 'a');
      let held = false;
      try {
        held = await tryLockExclusive(fd, `slot ${k} of machine ${machineId}`);
        if (held) return await fn();
      } finally {
        fs.closeSync(fd); // releases the slot (or drops a descriptor we did not lock)
      }
    }
    if (Date.now() >= deadline) throw new Error(`machine ${machineId} stayed busy: ${slots} collectors were already running on it for ${Math.round(waitMs / 1000)}s`);
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
}
