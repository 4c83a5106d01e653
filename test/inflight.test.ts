// In-flight notes (lib/inflight.ts): a note a process never finished writing (killed between the
// write and the rename) names a run that never began, and goes once its writer is gone.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { markInflight, orphanedRuns } from '../lib/inflight.ts';
import { tmpDir } from './helpers.ts';

test('notes left half-way by a dead writer go; a live writer\'s and a fresh unnamed one stay', () => {
  const data = tmpDir('vc-inflight-');
  markInflight(data, [{ run_id: 'r-live', source: 'sys', machine_id: 'm1', started_at: new Date().toISOString() }]);
  const dir = path.join(data, 'state', 'inflight');
  const deadPid = spawnSync('true').pid!; // ended, and reaped
  // Killed before it wrote a byte, or mid-way: the writer's pid is in the name.
  fs.writeFileSync(path.join(dir, `r-dead.json.${deadPid}.tmp`), '');
  fs.writeFileSync(path.join(dir, `r-writing.json.${process.pid}.tmp`), '{"run_id":"r-wri');
  // Without a writer in the name: gone once older than any write takes.
  fs.writeFileSync(path.join(dir, 'r-old.json.tmp'), '');
  const old = new Date(Date.now() - 120_000);
  fs.utimesSync(path.join(dir, 'r-old.json.tmp'), old, old);
  fs.writeFileSync(path.join(dir, 'r-new.json.tmp'), '');

  assert.deepEqual(orphanedRuns(data), [], 'this process is alive: its run is no orphan');
  assert.deepEqual(fs.readdirSync(dir).sort(), ['r-live.json', 'r-new.json.tmp', `r-writing.json.${process.pid}.tmp`]);
});
