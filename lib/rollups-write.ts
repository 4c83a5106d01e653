// Writes the rollups of closed days (layout and reading: lib/rollups.ts), as the last step of a
// vc compact pass, under its lock. A closed day is one segment once compacted; its rollups are
// computed from that segment alone (never from raw lines a later pass may still merge), written to
// the pass's temp dir, checked, and renamed into place. Their names carry the segment's, so:
//   - a pass with nothing new does nothing (both files for the day's segment are there);
//   - a day whose data changed (a late line merged into a new segment) gets new ones;
//   - a pass killed between the two renames leaves a day readers skip (they want both) and the
//     next pass completes.
// Rollups of a segment the manifest no longer names (neither current nor within its grace for
// readers that listed it) are removed; a day whose manifest retention removed keeps its rollups.
import fs from 'node:fs';
import path from 'node:path';
import { compactedDays, parquetDayDir, readManifest } from './compacted.ts';
import { sqlString, type Session } from './duck.ts';
import { parseRollupName, ROLLUP_GRAINS, ROLLUP_SOURCE, rollupDayDir, rollupFileName } from './rollups.ts';

export interface RollupStep {
  day: string;
  /** The segment (file name in the day's manifest) the rollups were computed from. */
  segment: string;
  hourly_rows: number;
  daily_rows: number;
  ms: number;
}

export interface RollupResult {
  steps: RollupStep[];
  /** Rollups of segments no longer in their day's manifest. */
  removed: string[];
  problems: string[];
  ms: number;
}

export interface RollupOptions {
  now: Date;
  /** A day is closed this long after its end (lib/compact.ts CLOSE_AFTER_MS). */
  closeAfterMs: number;
  /** The pass's temp dir (on the same filesystem, emptied by the pass). */
  tmpDir: string;
}

const dayEndMs = (day: string) => Date.parse(`${day}T00:00:00Z`) + 86_400_000;
const sqlList = (items: readonly string[]) => `[${items.map(sqlString).join(', ')}]`;

function fsyncPath(p: string): void {
  const fd = fs.openSync(p, 'r');
  try {
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

/** Rolls up every closed, compacted day of sys that lacks rollups of its current segment. */
export async function rollupClosedDays(dataDir: string, session: Session, opts: RollupOptions): Promise<RollupResult> {
  const started = performance.now();
  const result: RollupResult = { steps: [], removed: [], problems: [], ms: 0 };
  for (const day of compactedDays(dataDir, ROLLUP_SOURCE)) {
    if (opts.now.getTime() < dayEndMs(day) + opts.closeAfterMs) continue;
    let manifest;
    try {
      manifest = readManifest(dataDir, ROLLUP_SOURCE, day);
    } catch (err) {
      result.problems.push(`${(err as Error).message}: ${ROLLUP_SOURCE} ${day} not rolled up`);
      continue;
    }
    if (!manifest) continue;
    const dir = rollupDayDir(dataDir, ROLLUP_SOURCE, day);
    const present = fs.existsSync(dir) ? fs.readdirSync(dir) : [];
    const [segment] = manifest.segments;
    if (manifest.segments.length === 1 && segment && !ROLLUP_GRAINS.every((g) => present.includes(rollupFileName(g, segment.file)))) {
      try {
        result.steps.push(await rollupDay(dataDir, session, day, segment.file, opts.tmpDir));
      } catch (err) {
        // The day stays computed from its samples, as before: nothing is lost, the next pass retries.
        result.problems.push(`${ROLLUP_SOURCE} ${day}: rollups not written: ${(err as Error).message}`);
      }
    }
    const live = new Set([...manifest.segments.map((s) => s.file), ...manifest.superseded.map((s) => s.file)]);
    for (const name of present) {
      const r = parseRollupName(name);
      if (!r || live.has(r.segment)) continue;
      fs.rmSync(path.join(dir, name), { force: true });
      result.removed.push(path.join(dir, name));
    }
  }
  result.ms = Math.round(performance.now() - started);
  return result;
}

async function rollupDay(dataDir: string, session: Session, day: string, segment: string, tmpDir: string): Promise<RollupStep> {
  const t0 = performance.now();
  const input = path.join(parquetDayDir(dataDir, ROLLUP_SOURCE, day), segment);
  // The macros take a relation by name: this one is the segment's rows (replaced for each day).
  await session.query(`CREATE OR REPLACE TEMP VIEW vc_rollup_input AS FROM read_parquet(${sqlList([input])})`);
  const written: Record<string, { tmp: string; rows: number }> = {};
  for (const grain of ROLLUP_GRAINS) {
    const tmp = path.join(tmpDir, `rollup-${day}-${grain}.parquet`);
    const [copied] = await session.query(`COPY (FROM vc_sys_${grain}_of('vc_rollup_input') ORDER BY ALL)
      TO ${sqlString(tmp)} (FORMAT parquet, COMPRESSION zstd)`);
    const [check] = await session.query(`SELECT count(*)::BIGINT AS n FROM read_parquet(${sqlList([tmp])})`);
    const rows = Number(check!.n);
    if (rows !== Number(copied?.Count ?? NaN)) throw new Error(`the ${grain} rollup holds ${rows} rows, ${String(copied?.Count)} were written`);
    written[grain] = { tmp, rows };
  }
  // Both grains count the same samples per machine and metric, and no more than the segment holds.
  const [bad] = await session.query(`
    WITH h AS (SELECT machine_id, metric, sum(samples)::BIGINT AS n FROM read_parquet(${sqlList([written.hourly!.tmp])}) GROUP BY ALL),
      d AS (SELECT machine_id, metric, samples AS n FROM read_parquet(${sqlList([written.daily!.tmp])}))
    SELECT count(*) FILTER (WHERE h.n IS DISTINCT FROM d.n) AS mismatched, coalesce(max(d.n), 0) AS most,
      (SELECT count(*) FROM vc_rollup_input) AS input_rows
    FROM h FULL JOIN d USING (machine_id, metric)`);
  if (Number(bad!.mismatched) > 0 || Number(bad!.most) > Number(bad!.input_rows)) {
    throw new Error(`the hourly and daily rollups disagree on ${String(bad!.mismatched)} machine metrics (or count more samples than the segment's ${String(bad!.input_rows)} rows)`);
  }
  const dir = rollupDayDir(dataDir, ROLLUP_SOURCE, day);
  fs.mkdirSync(dir, { recursive: true });
  for (const grain of ROLLUP_GRAINS) {
    fsyncPath(written[grain]!.tmp);
    fs.renameSync(written[grain]!.tmp, path.join(dir, rollupFileName(grain, segment)));
  }
  fsyncPath(dir);
  return { day, segment, hourly_rows: written.hourly!.rows, daily_rows: written.daily!.rows, ms: Math.round(performance.now() - t0) };
}
