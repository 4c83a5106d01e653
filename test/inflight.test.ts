// In-flight notes (lib/inflight.ts): a note a process never finished writing (killed between the
// write and the rename) names a run that never began, and goes once its writer is gone.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { markInflight, orphanedRuns } from '../lib/inflight.ts';
import { tmpDir } from './helpers.ts';

test('notes left half-way by a dead writer go; a live writer\'s and a fresh unreadable one stay', () => {
  const data = tmpDir('vc-inflight-');
  markInflight(data, [{ run_id: 'r-live', source: 'sys', machine_id: 'm1', started_at: new Date().toISOString() }]);
  const dir = path.join(data, 'state', 'inflight');
  const note = JSON.parse(fs.readFileSync(path.join(dir, 'r-live.json'), 'utf8'));
  const deadPid = spawnSync('true').pid!; // ended, and reaped
  fs.writeFileSync(path.join(dir, 'r-dead.json.tmp'), JSON.stringify({ ...note, run_id: 'r-dead', pid: deadPid, pid_start: null }));
  fs.writeFileSync(path.join(dir, 'r-writing.json.tmp'), JSON.stringify({ ...note, run_id: 'r-writing' }));
  fs.writeFileSync(path.join(dir, 'r-torn-old.json.tmp'), '{"run_id":"r-to');
  const old = new Date(Date.now() - 120_000);
  fs.utimesSync(path.join(dir, 'r-torn-old.json.tmp'), old, old);
  fs.writeFileSync(path.join(dir, 'r-torn-new.json.tmp'), '{"run_id":"r-to');

  assert.deepEqual(orphanedRuns(data), [], 'this process is alive: its run is no orphan');
  assert.deepEqual(fs.readdirSync(dir).sort(), ['r-live.json', 'r-torn-new.json.tmp', 'r-writing.json.tmp']);
});
