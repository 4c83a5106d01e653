import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { execArgv, execFailure } from '../lib/exec.ts';
import { tmpDir } from './helpers.ts';

const limits = { timeoutMs: 5000, maxBytes: 10 * 1024 * 1024 };

test('multi-byte text split across pipe chunks comes back whole', async () => {
  const file = path.join(tmpDir(), 'utf8.txt');
  const text = 'é漢🙂'.repeat(60_000); // ~540 KB: many 64 KiB chunks, boundaries inside characters
  fs.writeFileSync(file, text);
  const r = await execArgv(['cat', file], limits);
  assert.equal(r.code, 0);
  assert.equal(r.stdout, text);
  assert.equal(r.bytes, Buffer.byteLength(text));
});

test('a timeout kills every process the command started, even one in a process group of its own', async () => {
  const marker = `vc-exec-test-${process.pid}-${Date.now()}`;
  // coreutils timeout puts its command in a new process group: a group kill alone misses it.
  const r = await execArgv(['sh', '-c', `timeout 60 sh -c 'exec -a ${marker} sleep 60'; sleep 60`], { ...limits, timeoutMs: 500 });
  assert.equal(r.timedOut, true);
  assert.match(execFailure('the test command', r, { ...limits, timeoutMs: 500 })!, /timed out after 0\.5s and was killed/);
  assert.ok(r.durationMs < 3000, `took ${r.durationMs} ms`);
  await new Promise((res) => setTimeout(res, 200));
  const left = fs.readdirSync('/proc').filter((p) => /^\d+$/.test(p)).filter((p) => {
    try { return fs.readFileSync(`/proc/${p}/cmdline`, 'utf8').includes(marker); } catch { return false; }
  });
  assert.deepEqual(left, [], 'no process of the command survives');
});

test('output past the cap stops the command and says so', async () => {
  const r = await execArgv(['yes'], { ...limits, maxBytes: 100_000 });
  assert.equal(r.overflow, true);
  assert.ok(r.bytes > 100_000 && r.bytes < 1_000_000);
  assert.match(execFailure('yes', r, { ...limits, maxBytes: 100_000 })!, /printed more than 100000 bytes \(the output cap\)/);
});

test('a command that closes its stdin before reading the input (EPIPE) is a result, not a crash', async () => {
  // 4 MiB does not fit a pipe: the write is still going when the command closes its end.
  const r = await execArgv(['sh', '-c', 'exec 0<&-; echo closed early'], { input: 'x'.repeat(4 << 20), timeoutMs: 10_000, maxBytes: 1 << 20 });
  assert.equal(r.code, 0);
  assert.equal(r.stdout, 'closed early\n');
});
