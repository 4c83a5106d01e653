// The synthetic fleet with the tool suite's recorded runs replayed (fixtures/fleet.ts toolRuns):
// which machines get which tool, times moved with the run, events new in each run, and the
// views reading the replayed rows as they read a real collection.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { writeFleet } from '../fixtures/fleet.ts';
import { readRaw, tmpDir, vc } from './helpers.ts';
import { recordToolRuns } from './tool-runs.ts';

const END = new Date('2026-05-04T12:00:00Z');

test('the fleet replays the recorded tool runs on the machines that have each tool', () => {
  const runs = recordToolRuns();
  const dir = tmpDir('vc-fleet-');
  writeFleet(dir, { machines: 2, days: 1, seed: 4, end: END, toolRuns: runs });
  // demo-01 has the even half's tools (caut, not rch), demo-02 the odd half's (rch, not caut).
  assert.ok(readRaw(dir, 'caut', 'demo-01').length > 0);
  assert.equal(readRaw(dir, 'caut', 'demo-02').length, 0);
  assert.ok(readRaw(dir, 'rch', 'demo-02').length > 0);
  assert.equal(readRaw(dir, 'rch', 'demo-01').length, 0);
  const runsOf = (machine: string, source: string) =>
    readRaw(dir, 'collector_runs', machine).filter((l) => l.data.source === source).map((l) => l.data.status);
  assert.ok(runsOf('demo-01', 'caut').every((s) => s === 'ok'));
  assert.ok(runsOf('demo-02', 'caut').every((s) => s === 'absent'));

  // The newest caut run: the recorded lines, every time in them moved so that caut's output was
  // generated as the run began (its reset times ahead of it as far as they were).
  const recorded = runs.caut!;
  const lines = readRaw(dir, 'caut', 'demo-01');
  const newest = lines.filter((l) => l.run_id === lines.at(-1)!.run_id);
  assert.equal(newest[0]!.collected_at, END.toISOString());
  assert.equal(newest.find((l) => l.data.type === 'run')!.data.generated_at, END.toISOString());
  const delta = END.getTime() - Date.parse((recorded.find((l) => (l.data as any).type === 'run')!.data as any).generated_at);
  const moved = (v: string | null) => (v === null ? null : new Date(Date.parse(v) + delta).toISOString());
  const recordedProvider = recorded.find((l) => (l.data as any).provider === 'claude')!.data as Record<string, any>;
  const provider = newest.find((l) => l.data.provider === 'claude')!.data;
  assert.equal(provider.primary_resets_at, moved(recordedProvider.primary_resets_at));
  assert.equal(provider.provider, recordedProvider.provider);

  // Events (dcg's denies) are new in each run that replays them: no key is stored twice.
  const dcg = [...readRaw(dir, 'dcg', 'demo-01'), ...readRaw(dir, 'dcg', 'demo-02')];
  assert.ok(dcg.length > 0);
  assert.equal(new Set(dcg.map((l) => `${l.machine_id} ${l.key}`)).size, dcg.length);

  // The views read them as they read a collection: rch's latest status of demo-02, as of the end.
  fs.writeFileSync(path.join(dir, 'vc.toml'), '');
  const env = { VC_DATA_DIR: dir, VC_CONFIG: path.join(dir, 'vc.toml') };
  const q = vc(['query', '--format', 'json', '--as-of', END.toISOString(), "SELECT machine_id, max(collected_at) AS at FROM v1.rch_latest GROUP BY ALL"], env);
  assert.equal(q.code, 0, q.stderr);
  assert.deepEqual(JSON.parse(q.stdout).data.rows, [{ machine_id: 'demo-02', at: END.toISOString() }]);
});
