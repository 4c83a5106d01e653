// Rollups (issue 7): per machine and metric, hourly and daily min/avg/max/p95 of sys, kept forever
// and small, so long charts and the hour-of-day baselines never scan raw rows.
//
//   parquet/rollups/sys/date=<day>/hourly.<segment>.parquet
//   parquet/rollups/sys/date=<day>/daily.<segment>.parquet
//
// `vc compact` writes them (lib/rollups-write.ts) for a closed day once it is one segment; the name
// says which segment they were computed from, so a day whose data changed (a late line merged
// into a new segment) is seen to need new ones, and a reader never takes rollups that no longer
// match the day's data. Readers (v1.sys_hourly, v1.sys_daily) take a day's rollups only when they
// match its one segment and no raw line of it is uncovered (else the day is computed from `sys`):
// the answer is the same whether or not a day was rolled up. A day whose segments and raw files
// retention removed keeps its rollups, and those are read.
import fs from 'node:fs';
import path from 'node:path';
import { parquetRoot } from './compacted.ts';
import type { SourceFiles } from './store-files.ts';

export const ROLLUP_GRAINS = ['hourly', 'daily'] as const;
export type RollupGrain = (typeof ROLLUP_GRAINS)[number];

/** The sources with rollups: sys alone (the metrics of views/v1/26_rollups.sql). */
export const ROLLUP_SOURCE = 'sys';

export const rollupRoot = (dataDir: string, source: string) => path.join(parquetRoot(dataDir), 'rollups', source);
export const rollupDayDir = (dataDir: string, source: string, day: string) => path.join(rollupRoot(dataDir, source), `date=${day}`);
export const rollupFileName = (grain: RollupGrain, segment: string) => `${grain}.${segment}`;

/** A rollup file's grain and the segment (file name) it was computed from; null for anything else. */
export function parseRollupName(name: string): { grain: RollupGrain; segment: string } | null {
  const m = /^(hourly|daily)\.(seg-[A-Za-z0-9-]+\.parquet)$/.exec(name);
  return m ? { grain: m[1] as RollupGrain, segment: m[2]! } : null;
}

/** Per day with rollups: the segments that have both grains' files. */
export function rolledUpSegments(dataDir: string, source: string): Map<string, Set<string>> {
  const out = new Map<string, Set<string>>();
  let days: string[] = [];
  try {
    days = fs.readdirSync(rollupRoot(dataDir, source));
  } catch {
    return out;
  }
  for (const d of days) {
    const day = /^date=(\d{4}-\d{2}-\d{2})$/.exec(d)?.[1];
    if (!day) continue;
    const seen = new Map<string, number>();
    for (const name of fs.readdirSync(rollupDayDir(dataDir, source, day))) {
      const r = parseRollupName(name);
      if (r) seen.set(r.segment, (seen.get(r.segment) ?? 0) + 1);
    }
    const complete = new Set([...seen].filter(([, n]) => n === ROLLUP_GRAINS.length).map(([s]) => s));
    if (complete.size) out.set(day, complete);
  }
  return out;
}

export interface RollupFiles {
  /** Days read from their rollups (the views compute every other day from the source). */
  days: string[];
  hourly: string[];
  daily: string[];
}

export const NO_ROLLUPS: RollupFiles = { days: [], hourly: [], daily: [] };

/**
 * The rollups a session at `now` reads, given what it reads of the source (`listed`): of each day
 * before `now`'s, those of its one segment when none of its raw lines is uncovered; of a day with
 * neither segments nor raw files (retention removed them), the newest.
 */
export function listRollups(dataDir: string, source: string, listed: SourceFiles, now: Date): RollupFiles {
  const today = now.toISOString().slice(0, 10);
  const out: RollupFiles = { days: [], hourly: [], daily: [] };
  const segments = new Map<string, string[]>();
  for (const s of listed.segments) segments.set(s.day, [...(segments.get(s.day) ?? []), path.basename(s.file)]);
  const uncovered = new Set(listed.raw.map((f) => f.day));
  for (const [day, rolled] of [...rolledUpSegments(dataDir, source)].sort(([a], [b]) => a.localeCompare(b))) {
    if (day >= today || uncovered.has(day)) continue;
    const segs = segments.get(day) ?? [];
    let segment: string | undefined;
    if (segs.length === 1) segment = rolled.has(segs[0]!) ? segs[0] : undefined;
    else if (segs.length === 0) segment = [...rolled].sort().at(-1); // names sort by the time they were written
    if (!segment) continue;
    const dir = rollupDayDir(dataDir, source, day);
    out.days.push(day);
    out.hourly.push(path.join(dir, rollupFileName('hourly', segment)));
    out.daily.push(path.join(dir, rollupFileName('daily', segment)));
  }
  return out;
}
