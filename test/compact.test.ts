// vc compact (lib/compact.ts): every query answers the same from a compacted store as from the
// same lines never compacted, before, during and after compaction, after a pass killed at any
// step, with lines arriving late, raw files retired, a manifest damaged and malformed lines.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { spawn, spawnSync } from 'node:child_process';
import { openSession, type Row } from '../lib/duck.ts';
import { compactStore, type CompactResult } from '../lib/compact.ts';
import { appendEnvelopes } from '../lib/store.ts';
import { rawFile, repoRoot } from '../lib/paths.ts';
import { parquetRoot } from '../lib/compacted.ts';
import type { Envelope } from '../lib/envelope.ts';
import { writeFleet } from '../fixtures/fleet.ts';
import { tmpDir, tsxLoader } from './helpers.ts';

const END = new Date('2026-03-10T12:00:00Z');
/** Compaction at END: 03-08 and 03-09 are closed, 03-10 is open. */
const OPEN_NOW = END;
/** A day later: 03-10 is closed too. */
const LATER = new Date('2026-03-11T12:00:00Z');

/** Two stores holding the same lines: `plain` is never compacted and is the oracle. */
function stores(): { plain: string; comp: string; machines: string[] } {
  const plain = tmpDir('vc-compact-plain-');
  const { machines } = writeFleet(plain, { machines: 2, days: 2, seed: 7, end: END });
  const comp = tmpDir('vc-compact-');
  fs.cpSync(path.join(plain, 'raw'), path.join(comp, 'raw'), { recursive: true });
  return { plain, comp, machines };
}

const HISTORY = ['sys', 'agents', 'repos', 'collector_runs', 'tools', 'claude_logs'];

/**
 * What a user would see: history per day and machine, the recent window, a silent machine's last
 * sample and (with `factors`, the costly part) the health factors.
 */
async function answers(dataDir: string, at = END, factors = false): Promise<{ rows: Record<string, Row[]>; warnings: string[] }> {
  const s = await openSession({ dataDir, now: at, machines: [] });
  try {
    const rows: Record<string, Row[]> = {};
    rows.history = await s.query(HISTORY.map((v) => `SELECT '${v}' AS v, day, machine_id, count(*) AS n, count(DISTINCT run_id) AS runs, max(collected_at) AS last
      FROM ${v} GROUP BY ALL`).join(' UNION ALL ') + ' ORDER BY ALL');
    rows.load = await s.query(`SELECT day, machine_id, round(sum(load5), 6) AS load5 FROM sys GROUP BY ALL ORDER BY ALL`);
    // The window's rows (a raw file's cut may keep more before it: the views bound their own windows).
    rows.recent = await s.query(['sys', 'agents', 'repos', 'collector_runs'].map((v) => `SELECT '${v}' AS v, machine_id, count(*) AS n,
      min(collected_at) AS first, max(collected_at) AS last FROM ${v}_recent WHERE collected_at >= vc_recent_since() GROUP BY ALL`).join(' UNION ALL ') + ' ORDER BY ALL');
    rows.silent = await s.query(`SELECT machine_id, collected_at, load5 FROM v1.latest_sys WHERE machine_id = 'silent-01'`);
    if (factors) rows.factors = await s.query(`SELECT machine_id, factor_id, subject, value, severity, summary FROM v1.health_factors ORDER BY ALL`);
    return { rows, warnings: s.warnings };
  } finally {
    s.close();
  }
}

async function assertSame(plain: string, comp: string, what: string, at = END, factors = false): Promise<void> {
  const [a, b] = [await answers(plain, at, factors), await answers(comp, at, factors)];
  for (const k of Object.keys(a.rows)) assert.deepEqual(b.rows[k], a.rows[k], `${what}: ${k} differs from the uncompacted store`);
}

async function compact(dataDir: string, now: Date): Promise<CompactResult> {
  const s = await openSession({ dataDir, recent: [] });
  try {
    return await compactStore(dataDir, s, { now });
  } finally {
    s.close();
  }
}

function sysLine(machine: string, at: string, load5: number): Envelope {
  return {
    v: 1, source: 'sys', machine_id: machine, collected_at: at, run_id: `late-${at}`, collector_version: 'test', schema_version: 1,
    kind: 'snapshot', data: { load1: load5, load5, load15: load5, cpu_count: 8 },
  } as unknown as Envelope;
}

/** Appends the same envelopes to both stores. */
async function appendBoth(dirs: string[], envs: Envelope[]): Promise<void> {
  for (const d of dirs) await appendEnvelopes(d, envs);
}

function filesUnder(dir: string): string[] {
  return fs.existsSync(dir) ? (fs.readdirSync(dir, { recursive: true }) as string[]).map((f) => path.join(dir, f)).filter((f) => fs.statSync(f).isFile()) : [];
}

describe('compaction', () => {
  test('answers stay the same through segments, late lines, merges, retired raw files and a damaged manifest', async () => {
    const { plain, comp, machines } = stores();
    const [m0, m1] = machines as [string, string];
    // A machine silent since the first day: its last hours come from a closed, compacted day.
    await appendBoth([plain, comp], [0, 2, 4, 6].map((m) => sysLine('silent-01', `2026-03-08T18:0${m}:00.000Z`, 2 + m)));
    await assertSame(plain, comp, 'before');
    assert.equal((await answers(plain)).rows.silent!.length, 1, 'the silent machine\'s last sample is seen');

    const first = await compact(comp, OPEN_NOW);
    assert.deepEqual(first.problems, []);
    assert.ok(first.rows > 0 && first.steps.every((s) => s.malformed === 0));
    assert.deepEqual([...new Set(first.steps.map((s) => s.day))].sort(), ['2026-03-08', '2026-03-09', '2026-03-10']);
    await assertSame(plain, comp, 'after the first pass', END, true);
    // as of a past moment too (the window then lies in closed, compacted days)
    await assertSame(plain, comp, 'as of the day before', new Date('2026-03-09T07:00:00Z'));

    // New lines on the open day, and a late line on a closed, compacted day.
    await appendBoth([plain, comp], [sysLine(m0, '2026-03-10T11:59:00.000Z', 7.5), sysLine(m1, '2026-03-09T23:59:59.000Z', 3.25)]);
    await assertSame(plain, comp, 'after lines were appended to compacted files');

    const second = await compact(comp, OPEN_NOW);
    assert.deepEqual(second.steps.map((s) => [s.day, s.source, s.action, s.new_rows]).sort(),
      [['2026-03-09', 'sys', 'merge', 1], ['2026-03-10', 'sys', 'segment', 1]]);
    await assertSame(plain, comp, 'after the second pass');

    // The open day closes: its segments are merged into one; a further pass has nothing to do.
    const third = await compact(comp, LATER);
    assert.ok(third.steps.some((s) => s.day === '2026-03-10' && s.action === 'merge'));
    assert.deepEqual((await compact(comp, LATER)).steps, []);
    await assertSame(plain, comp, 'after the merge', END, true);
    await assertSame(plain, comp, 'after the merge, as of later', LATER);

    // Raw files of compacted days retired: the segments alone answer.
    for (const day of ['2026-03-08', '2026-03-09']) for (const m of [...machines, 'silent-01']) fs.rmSync(rawFile(comp, 'sys', m, day), { force: true });
    await assertSame(plain, comp, 'with raw files retired', END, true);
    // A line for a retired day arrives (a new file under the old name): read once, then compacted.
    await appendBoth([plain, comp], [sysLine(m0, '2026-03-09T23:59:58.000Z', 1.5)]);
    await assertSame(plain, comp, 'with a new file where one was retired');
    assert.ok((await compact(comp, LATER)).steps.some((s) => s.day === '2026-03-09' && s.new_rows === 1));
    await assertSame(plain, comp, 'after compacting the new file');

    // A damaged manifest: named in the warnings, its day read from the raw files, rebuilt next pass.
    const manifest = path.join(parquetRoot(comp), 'agents', 'date=2026-03-10', 'manifest.json');
    fs.writeFileSync(manifest, '{"v":1,"source":"agents",');
    const damaged = await answers(comp);
    assert.ok(damaged.warnings.some((w) => w.includes(manifest) && w.includes('not valid JSON')), damaged.warnings.join('\n'));
    await assertSame(plain, comp, 'with a damaged manifest');
    const rebuilt = await compact(comp, LATER);
    assert.ok(rebuilt.problems.some((p) => p.includes(manifest) && p.includes('rebuilt')));
    assert.deepEqual((await answers(comp)).warnings.filter((w) => w.includes('manifest')), []);
    await assertSame(plain, comp, 'after the rebuild');
  });

  test('malformed stored lines are counted, never stored in Parquet, and answers do not change', async () => {
    const { plain, comp, machines } = stores();
    for (const d of [plain, comp]) fs.appendFileSync(rawFile(d, 'repos', machines[0]!, '2026-03-09'), '{"v":1,"source":"repos","machine_id":\n');
    const r = await compact(comp, OPEN_NOW);
    assert.equal(r.steps.find((s) => s.source === 'repos' && s.day === '2026-03-09')?.malformed, 1, JSON.stringify(r.steps.filter((s) => s.source === 'repos')));
    await assertSame(plain, comp, 'with a malformed line');

    // A damaged segment (a disk error): its day fails, named, nothing of it changes; the others go on.
    const dayDir = path.join(parquetRoot(comp), 'agents', 'date=2026-03-10');
    const seg = JSON.parse(fs.readFileSync(path.join(dayDir, 'manifest.json'), 'utf8')).segments[0].file as string;
    const manifestBefore = fs.readFileSync(path.join(dayDir, 'manifest.json'), 'utf8');
    fs.truncateSync(path.join(dayDir, seg), 100);
    // A late line for that day, so the next pass must read the segment to merge it.
    for (const source of ['agents', 'sys']) {
      const raw = rawFile(comp, source, machines[0]!, '2026-03-10');
      fs.appendFileSync(raw, fs.readFileSync(raw, 'utf8').split('\n')[0] + '\n');
    }
    const later = await compact(comp, LATER);
    assert.equal(later.failed.length, 1, later.failed.join('\n'));
    assert.match(later.failed[0]!, /^agents 2026-03-10: /);
    assert.equal(fs.readFileSync(path.join(dayDir, 'manifest.json'), 'utf8'), manifestBefore);
    assert.ok(later.steps.some((s) => s.source === 'sys' && s.day === '2026-03-10' && s.action === 'merge'));
  });

  test('a pass killed at any step changes no answer, and the next pass finishes the work and cleans up', async () => {
    const base = stores();
    for (const step of ['copied', 'written', 'renamed', 'manifest']) {
      const comp = tmpDir('vc-compact-kill-');
      fs.cpSync(path.join(base.comp, 'raw'), path.join(comp, 'raw'), { recursive: true });
      const r = spawnSync(process.execPath, ['--import', tsxLoader, path.join(repoRoot, 'test', 'compact-child.ts'), comp, OPEN_NOW.toISOString(), step], { encoding: 'utf8' });
      assert.equal(r.signal, 'SIGKILL', `killed at ${step}: ${r.stderr}`);
      await assertSame(base.plain, comp, `killed at ${step}`);
      const done = await compact(comp, OPEN_NOW);
      assert.deepEqual(done.problems, []);
      await assertSame(base.plain, comp, `finished after a kill at ${step}`, END, step === 'manifest');
      // Nothing left behind: every Parquet file is named by a manifest (a rollup by its day's
      // segment's name: lib/rollups.ts), no temp files.
      const files = filesUnder(parquetRoot(comp));
      const named = new Set(files.filter((f) => f.endsWith('manifest.json'))
        .flatMap((m) => (JSON.parse(fs.readFileSync(m, 'utf8')).segments as Array<{ file: string }>).flatMap((s) => {
          const rollups = path.join(parquetRoot(comp), 'rollups', path.relative(parquetRoot(comp), path.dirname(m)));
          return [path.join(path.dirname(m), s.file), path.join(rollups, `hourly.${s.file}`), path.join(rollups, `daily.${s.file}`)];
        })));
      assert.deepEqual(files.filter((f) => !f.endsWith('manifest.json') && !f.endsWith('.compact.lock') && !named.has(f)), [], `leftovers after a kill at ${step}`);
    }
  });

  test('readers and appends during a pass: every answer is the uncompacted one', async () => {
    const { plain, comp, machines } = stores();
    const child = spawn(process.execPath, ['--import', tsxLoader, path.join(repoRoot, 'test', 'compact-child.ts'), comp, OPEN_NOW.toISOString(), ''], { stdio: 'ignore' });
    const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
    let done = false;
    void exited.then(() => { done = true; });
    let reads = 0;
    let appended = 0;
    while (!done || reads === 0) {
      const at = new Date(END.getTime() - 60_000 + appended * 1000).toISOString();
      await appendBoth([plain, comp], [sysLine(machines[1]!, at, 1 + appended)]);
      appended++;
      const [a, b] = [await count(plain), await count(comp)];
      assert.deepEqual(b, a, `read ${reads} during the pass`);
      reads++;
    }
    assert.equal(await exited, 0);
    await assertSame(plain, comp, 'after a pass with appends during it');
    await compact(comp, OPEN_NOW);
    await assertSame(plain, comp, 'after the next pass');
  });

  test('two passes at once: the second refuses, naming the first', async () => {
    const { comp } = stores();
    const [a, b] = await Promise.allSettled([compact(comp, OPEN_NOW), compact(comp, OPEN_NOW)]);
    const failed = [a, b].filter((r) => r.status === 'rejected') as PromiseRejectedResult[];
    // Whichever got the lock did the work; if they did not overlap, the second found nothing to do.
    if (failed.length) assert.match(String(failed[0]!.reason), /another vc compact or vc retention apply is running/);
    assert.ok([a, b].some((r) => r.status === 'fulfilled' && r.value.steps.length > 0));
  });
});

async function count(dataDir: string): Promise<Row[]> {
  const s = await openSession({ dataDir, now: END, recent: ['sys'] });
  try {
    return [
      ...await s.query('SELECT day, count(*) AS n, round(sum(load5), 6) AS l FROM sys GROUP BY ALL ORDER BY ALL'),
      ...await s.query('SELECT count(*) AS recent FROM sys_recent WHERE collected_at >= vc_recent_since()'),
    ];
  } finally {
    s.close();
  }
}
