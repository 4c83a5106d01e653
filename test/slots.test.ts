// A machine's collector slots (lib/slots.ts): at most N runs at once, the others waiting their
// turn in memory rather than trying the lock files (each try spawns flock(1)) every 100 ms; a
// wait past its time fails naming the machine. The lock files are real, taken by the real flock.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { withMachineSlot } from '../lib/slots.ts';
import { tmpDir, writeExecutable } from './helpers.ts';

/** flock(1) on PATH that counts its calls, then runs the real one. */
function countingFlock(): { calls: () => number; restore: () => void } {
  const dir = tmpDir('vc-slots-bin-');
  const log = path.join(dir, 'calls');
  fs.writeFileSync(log, '');
  writeExecutable(dir, 'flock', `#!/bin/sh\necho x >> '${log}'\nexec /usr/bin/flock "$@"\n`);
  const saved = process.env.PATH;
  process.env.PATH = `${dir}:${saved}`;
  return { calls: () => fs.readFileSync(log, 'utf8').split('\n').filter(Boolean).length, restore: () => { process.env.PATH = saved; } };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('six runs on two slots: two at a time, the others wait their turn without polling the lock files', async () => {
  const data = tmpDir('vc-slots-');
  const flock = countingFlock();
  try {
    let running = 0;
    let most = 0;
    const order: number[] = [];
    await Promise.all(Array.from({ length: 6 }, (_, k) => withMachineSlot(data, 'm1', 2, 30_000, async () => {
      running++;
      most = Math.max(most, running);
      order.push(k);
      await sleep(300);
      running--;
    })));
    assert.equal(most, 2);
    assert.deepEqual(order, [0, 1, 2, 3, 4, 5], 'turns are taken in the order asked for');
    // One try per run, and a second where the first slot file was still held: no polling.
    assert.ok(flock.calls() <= 12, `${flock.calls()} flock calls`);
  } finally {
    flock.restore();
  }
});

test('a run that cannot get a turn in time fails naming the machine; the others are not held up', async () => {
  const data = tmpDir('vc-slots-');
  const slow = withMachineSlot(data, 'm2', 1, 30_000, () => sleep(800));
  const started = Date.now();
  await assert.rejects(withMachineSlot(data, 'm2', 1, 200, async () => 'never'), /machine m2 stayed busy: 1 collectors were already running on it/);
  assert.ok(Date.now() - started < 700, 'given up at its wait, not when the slot freed');
  await slow;
  assert.equal(await withMachineSlot(data, 'm2', 1, 1000, async () => 'after'), 'after', 'the turn given up is not lost');
});
