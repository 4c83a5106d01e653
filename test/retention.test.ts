// vc retention (lib/retention.ts): nothing goes without a policy; a dry run lists exactly what an
// apply deletes; raw files go only once compacted, and then no answer changes; an expired day goes
// whole; bad policies and a damaged policy file are refused, deleting nothing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { openSession, type Row } from '../lib/duck.ts';
import { compactStore } from '../lib/compact.ts';
import { applyRetention, retentionFile, retentionPlan, setPolicy } from '../lib/retention.ts';
import { writeFleet } from '../fixtures/fleet.ts';
import { tmpDir, vc } from './helpers.ts';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { storageSchemas } from '../lib/schemas-storage.ts';

/** Validates a --json output against its robot-docs schema. */
function assertSchema(name: string, out: unknown): void {
  const ajv = new Ajv2020({ strict: true });
  addFormats.default(ajv);
  const validate = ajv.compile(storageSchemas()[name]!);
  assert.ok(validate(out), `${name}: ${JSON.stringify(validate.errors)}`);
}

const END = new Date('2026-03-10T12:00:00Z');
const LATER = new Date('2026-03-12T12:00:00Z');

function files(dir: string): string[] {
  return fs.existsSync(dir) ? (fs.readdirSync(dir, { recursive: true }) as string[]).filter((f) => fs.statSync(path.join(dir, f)).isFile()).sort() : [];
}

async function history(dataDir: string): Promise<Row[]> {
  const s = await openSession({ dataDir, now: LATER, recent: [] });
  try {
    const out: Row[] = [];
    for (const v of ['sys', 'agents', 'collector_runs']) out.push(...await s.query(`SELECT '${v}' AS v, day, machine_id, count(*) AS n FROM ${v} GROUP BY ALL ORDER BY ALL`));
    return out;
  } finally {
    s.close();
  }
}

async function compact(dataDir: string, now: Date) {
  const s = await openSession({ dataDir, recent: [] });
  try {
    return await compactStore(dataDir, s, { now });
  } finally {
    s.close();
  }
}

test('retention: nothing without a policy; raw files go once compacted with no answer changed; expired days go whole', async () => {
  const dir = tmpDir('vc-retention-');
  writeFleet(dir, { machines: 2, days: 3, seed: 5, end: END });
  const before = await history(dir);
  const all = files(dir);

  // No policy: nothing is planned, nothing deleted.
  assert.deepEqual(retentionPlan(dir, LATER), { deletions: [], kept: [] });
  assert.deepEqual((await applyRetention(dir, LATER)).deletions, []);
  assert.deepEqual(files(dir), all);

  // sys keeps raw NDJSON 1 day: before compaction every old file is kept, and says why.
  await setPolicy(dir, 'sys', 1, null);
  const early = retentionPlan(dir, LATER);
  assert.deepEqual(early.deletions, []);
  assert.ok(early.kept.length > 0 && early.kept.every((k) => k.source === 'sys' && k.why.includes('not compacted')));

  await compact(dir, LATER);
  const dry = retentionPlan(dir, LATER);
  // Exactly the sys raw files of days ended at least a day before: 03-07 .. 03-10 (03-10 ended 03-11 00:00).
  assert.deepEqual([...new Set(dry.deletions.map((d) => d.day))].sort(), ['2026-03-07', '2026-03-08', '2026-03-09', '2026-03-10']);
  assert.ok(dry.deletions.every((d) => d.source === 'sys' && d.why === 'raw compacted' && d.path.startsWith('raw/sys/')));
  const applied = await applyRetention(dir, LATER);
  assert.deepEqual(applied.deletions, dry.deletions);
  for (const d of dry.deletions) assert.ok(!fs.existsSync(path.join(dir, d.path)), `${d.path} should be gone`);
  assert.deepEqual(await history(dir), before, 'answers after raw files were retired');

  // Every source keeps compacted days 3 days: at 03-12 12:00, days ended 3+ days before go whole.
  await setPolicy(dir, 'all', null, 3);
  const expiring = retentionPlan(dir, LATER);
  assert.deepEqual([...new Set(expiring.deletions.map((d) => d.day))].sort(), ['2026-03-07', '2026-03-08']);
  assert.ok(expiring.deletions.some((d) => d.path.startsWith('parquet/agents/date=2026-03-07/')) && expiring.deletions.some((d) => d.path.startsWith('raw/agents/')));
  // sys's own policy (raw only) wins over all's: no sys day expires.
  assert.ok(expiring.deletions.every((d) => d.source !== 'sys'));
  await applyRetention(dir, LATER);
  const after = await history(dir);
  assert.deepEqual(after, before.filter((r) => r.v === 'sys' || !['2026-03-07', '2026-03-08'].includes(String(r.day))));
});

test('retention: a damaged policy file deletes nothing and names the line; bad settings are refused', async () => {
  const dir = tmpDir('vc-retention-bad-');
  writeFleet(dir, { machines: 1, days: 2, seed: 5, end: END });
  await compact(dir, LATER);
  await setPolicy(dir, 'all', 1, null);
  fs.appendFileSync(retentionFile(dir), '{"ts":"x","source":"sys","raw_days":-3,"compacted_days":null}\n');
  const all = files(dir);
  assert.throws(() => retentionPlan(dir, LATER), /retention\.jsonl line 2: raw_days/);
  await assert.rejects(applyRetention(dir, LATER), /line 2/);
  assert.deepEqual(files(dir), all);

  const env = { VC_DATA_DIR: tmpDir('vc-retention-cli-'), VC_CONFIG: '/dev/null' };
  for (const [args, message] of [
    [['retention', 'set', 'nosuch', '--raw-days', '3'], /unknown source "nosuch"/],
    [['retention', 'set', 'sys', '--raw-days', 'three'], /--raw-days "three" is not a number of days/],
    [['retention', 'set', 'sys', '--raw-days', '7', '--compacted-days', '3'], /--compacted-days 3 is less than --raw-days 7/],
    [['retention', 'set', 'sys'], /say what to keep/],
  ] as const) {
    const r = vc([...args], env);
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, message);
  }
  assert.ok(!fs.existsSync(retentionFile(env.VC_DATA_DIR)), 'refused settings write nothing');
});

test('vc retention set, show and apply --dry-run through the CLI', () => {
  const env = { VC_DATA_DIR: tmpDir('vc-retention-cli-'), VC_CONFIG: '/dev/null' };
  writeFleet(env.VC_DATA_DIR, { machines: 1, days: 3, seed: 2, end: new Date(Date.now() - 4 * 86_400_000) });
  const compacted = vc(['compact', '--json'], env);
  assert.equal(compacted.code, 0, compacted.stderr);
  assertSchema('compact', JSON.parse(compacted.stdout));
  const set = vc(['retention', 'set', 'agents', '--raw-days', '2', '--json'], env);
  assert.equal(set.code, 0, set.stderr);
  assertSchema('retention_set', JSON.parse(set.stdout));
  const show = JSON.parse(vc(['retention', 'show', '--json'], env).stdout);
  assertSchema('retention', show);
  assert.equal(show.schema_version, 'vc.retention.v1');
  assert.deepEqual(show.data.policies.find((p: Row) => p.source === 'agents'), { source: 'agents', raw_days: 2, compacted_days: null, from: 'source', set_at: show.data.policies.find((p: Row) => p.source === 'agents').set_at });
  const raw = files(path.join(env.VC_DATA_DIR, 'raw', 'agents'));
  const dry = JSON.parse(vc(['retention', 'apply', '--dry-run', '--json'], env).stdout);
  assert.equal(dry.data.dry_run, true);
  assertSchema('retention_apply', dry);
  assert.deepEqual(dry.data.deletions.map((d: Row) => d.path).sort(), raw.map((f) => path.join('raw', 'agents', f)).sort());
  assert.deepEqual(files(path.join(env.VC_DATA_DIR, 'raw', 'agents')), raw, 'a dry run deletes nothing');
  const md = vc(['retention', 'apply'], env);
  assert.equal(md.code, 0, md.stderr);
  assert.match(md.stdout, new RegExp(`Deleted ${raw.length} files`));
  assert.deepEqual(files(path.join(env.VC_DATA_DIR, 'raw', 'agents')), []);
});
