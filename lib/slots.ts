// At most N collectors at once on one machine, across all the collector processes of a pass:
// N lock files per machine, a collector holds one while it works. A shared ssh connection serves
// at most sshd's MaxSessions (10 by default) at a time, and a small machine should not run every
// probe at once either.
import fs from 'node:fs';
import path from 'node:path';
import { tryLockExclusive } from './flock.ts';
import { stateDir } from './paths.ts';

const POLL_MS = 100;

/**
 * This process's runs per machine: only as many as there are slots try the lock files at once.
 * Each try spawns flock(1); twenty collectors of one pass polling four slots spawned hundreds a
 * second, which took more of a 2-core machine than the collectors did.
 */
const inProcess = new Map<string, { held: number; waiting: Array<() => void> }>();

/** Waits (until `deadline`) for one of this process's `slots` turns at `key`; resolves to its release. */
function takeTurn(key: string, slots: number, deadline: number, busy: () => Error): Promise<() => void> {
  let turns = inProcess.get(key);
  if (!turns) inProcess.set(key, (turns = { held: 0, waiting: [] }));
  const t = turns;
  // A turn given back goes straight to the next waiter, so no newcomer can slip in between.
  const release = () => {
    const next = t.waiting.shift();
    if (next) next();
    else t.held--;
  };
  if (t.held < slots) {
    t.held++;
    return Promise.resolve(release);
  }
  return new Promise((resolve, reject) => {
    const handOver = () => {
      clearTimeout(timer);
      resolve(release);
    };
    const timer = setTimeout(() => {
      t.waiting.splice(t.waiting.indexOf(handOver), 1);
      reject(busy());
    }, Math.max(0, deadline - Date.now()));
    t.waiting.push(handOver);
  });
}

/** Runs `fn` holding one of the machine's `slots` slots; waits up to `waitMs` for one to free. */
export async function withMachineSlot<T>(dataDir: string, machineId: string, slots: number, waitMs: number, fn: () => Promise<T>): Promise<T> {
  const dir = path.join(stateDir(dataDir), 'slots', machineId);
  fs.mkdirSync(dir, { recursive: true });
  const deadline = Date.now() + waitMs;
  const busy = () => new Error(`machine ${machineId} stayed busy: ${slots} collectors were already running on it for ${Math.round(waitMs / 1000)}s`);
  const release = await takeTurn(dir, slots, deadline, busy);
  try {
    return await holdingSlotFile(dir, machineId, slots, deadline, busy, fn);
  } finally {
    release();
  }
}

/** Runs `fn` holding one of the slot lock files in `dir` (other processes of the pass hold the rest). */
async function holdingSlotFile<T>(dir: string, machineId: string, slots: number, deadline: number, busy: () => Error, fn: () => Promise<T>): Promise<T> {
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
    if (Date.now() >= deadline) throw busy();
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
}
