// Retention (opt-in): how long each source keeps its raw NDJSON and its compacted Parquet. Nothing
// is deleted unless a policy says so (`vc retention set`), and `vc retention apply --dry-run` lists
// exactly what a real apply deletes. Rollups (parquet/rollups/) are kept forever.
//   - raw_days N: a raw day file older than N days goes once segments hold every line of it (a
//     file with lines no segment has is kept, and said so); answers do not change.
//   - compacted_days M: a day older than M days goes entirely: its segments and its raw files.
// The policy is vc's own state, append-only (state/retention.jsonl): the newest line per source
// wins, a source's own line over the one for `all`.
import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { SOURCES } from './catalog.ts';
import { compactedDays, coveredBytes, coveredPrefixes, MANIFEST, parquetDayDir, readManifest } from './compacted.ts';
import { withCompactionLock } from './compact.ts';
import { rawDir, stateDir } from './paths.ts';
import { appendToFile } from './store.ts';
import { lockExclusive } from './flock.ts';
import { UsageError } from './errors.ts';

export const retentionFile = (dataDir: string) => path.join(stateDir(dataDir), 'retention.jsonl');

const days = z.number().int().min(1).max(36_500).nullable();
const lineSchema = z.object({
  ts: z.string(),
  source: z.string(),
  raw_days: days,
  compacted_days: days,
});
export type PolicyLine = z.infer<typeof lineSchema>;
export interface Policy { source: string; raw_days: number | null; compacted_days: number | null; from: 'source' | 'all' | 'none'; set_at: string | null }

/** The policy lines; a damaged line is an error naming the file and line (nothing is deleted on a guess). */
export function readPolicyLines(dataDir: string): PolicyLine[] {
  let text: string;
  try {
    text = fs.readFileSync(retentionFile(dataDir), 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  return text.split('\n').flatMap((line, i) => {
    if (!line.trim()) return [];
    let parsed: unknown;
    try {
      parsed = JSON.parse(line);
    } catch {
      throw new Error(`${retentionFile(dataDir)} line ${i + 1} is not JSON: fix or remove it (vc retention set writes whole lines)`);
    }
    const r = lineSchema.safeParse(parsed);
    if (!r.success) throw new Error(`${retentionFile(dataDir)} line ${i + 1}: ${r.error.issues.map((x) => `${x.path.join('.')}: ${x.message}`).join('; ')}`);
    return [r.data];
  });
}

/** The policy in force per source. */
export function policies(dataDir: string): Policy[] {
  const lines = readPolicyLines(dataDir);
  const latest = (source: string) => lines.filter((l) => l.source === source).at(-1);
  const all = latest('all');
  return SOURCES.map((source) => {
    const own = latest(source);
    const l = own ?? all;
    return { source, raw_days: l?.raw_days ?? null, compacted_days: l?.compacted_days ?? null, from: own ? 'source' : all ? 'all' : 'none', set_at: l?.ts ?? null };
  });
}

/** Sets (or with nulls, clears) the policy of a source or of `all`. */
export async function setPolicy(dataDir: string, source: string, rawDays: number | null, compactedDays: number | null, now = new Date()): Promise<PolicyLine> {
  if (source !== 'all' && !(SOURCES as readonly string[]).includes(source)) throw new UsageError(`unknown source "${source}"; use all or one of: ${SOURCES.join(', ')}`);
  if (rawDays !== null && compactedDays !== null && compactedDays < rawDays) {
    throw new UsageError(`--compacted-days ${compactedDays} is less than --raw-days ${rawDays}: a compacted day goes with its raw files, so raw files would go after ${compactedDays} days anyway`);
  }
  const line: PolicyLine = { ts: now.toISOString(), source, raw_days: rawDays, compacted_days: compactedDays };
  lineSchema.parse(line);
  fs.mkdirSync(stateDir(dataDir), { recursive: true });
  await appendToFile(retentionFile(dataDir), [JSON.stringify(line)]);
  return line;
}

// Types, not interfaces: rows for mdTable.
export type Deletion = { source: string; day: string; path: string; bytes: number; why: 'raw compacted' | 'day expired' };
export type Kept = { source: string; day: string; path: string; why: string };
export interface Plan { deletions: Deletion[]; kept: Kept[] }

const dayStart = (day: string) => Date.parse(`${day}T00:00:00Z`);
/** Whole days between the end of `day` and `now`. */
const ageDays = (day: string, now: Date) => Math.floor((now.getTime() - (dayStart(day) + 86_400_000)) / 86_400_000);

function sizeOf(file: string): number {
  try {
    return fs.statSync(file).size;
  } catch {
    return 0;
  }
}

/** Exactly what an apply at `now` deletes, and the expired raw files it keeps (not compacted yet). */
export function retentionPlan(dataDir: string, now = new Date()): Plan {
  const plan: Plan = { deletions: [], kept: [] };
  for (const p of policies(dataDir)) {
    if (p.raw_days === null && p.compacted_days === null) continue;
    const expired = new Set(p.compacted_days === null ? [] : compactedDays(dataDir, p.source).filter((d) => ageDays(d, now) >= p.compacted_days!));
    const rawByDay = new Map<string, string[]>();
    const dir = rawDir(dataDir, p.source);
    let machines: string[] = [];
    try {
      machines = fs.readdirSync(dir).filter((m) => m.startsWith('machine=')).sort();
    } catch { /* none */ }
    for (const m of machines) {
      for (const name of fs.readdirSync(path.join(dir, m)).sort()) {
        const day = /^date=(\d{4}-\d{2}-\d{2})\.ndjson$/.exec(name)?.[1];
        if (day) rawByDay.set(day, [...(rawByDay.get(day) ?? []), path.join(dir, m, name)]);
      }
    }
    for (const day of [...expired].sort()) {
      const dayDir = parquetDayDir(dataDir, p.source, day);
      for (const f of [...(rawByDay.get(day) ?? []), ...fs.readdirSync(dayDir).map((n) => path.join(dayDir, n))]) {
        plan.deletions.push({ source: p.source, day, path: path.relative(dataDir, f), bytes: sizeOf(f), why: 'day expired' });
      }
    }
    if (p.raw_days === null) continue;
    for (const [day, files] of [...rawByDay].sort()) {
      if (expired.has(day) || ageDays(day, now) < p.raw_days) continue;
      let covered: ReturnType<typeof coveredPrefixes> | null = null;
      try {
        const m = readManifest(dataDir, p.source, day);
        covered = m ? coveredPrefixes(m) : null;
      } catch (err) {
        for (const f of files) plan.kept.push({ source: p.source, day, path: path.relative(dataDir, f), why: (err as Error).message });
        continue;
      }
      for (const f of files) {
        const st = fs.statSync(f);
        const whole = covered !== null && coveredBytes(f, st.ino, st.size, covered.get(path.relative(dataDir, f))) >= st.size;
        if (whole) plan.deletions.push({ source: p.source, day, path: path.relative(dataDir, f), bytes: st.size, why: 'raw compacted' });
        else plan.kept.push({ source: p.source, day, path: path.relative(dataDir, f), why: 'not compacted yet (vc compact first)' });
      }
    }
  }
  return plan;
}

/**
 * Applies the plan (under the compaction lock, so no pass is merging what goes). Raw files go
 * first, each under the store's lock and only if segments still hold all of it (a late line
 * appended since the plan keeps it); an expired day's manifest goes before its segments, so
 * readers stop listing them first.
 */
export async function applyRetention(dataDir: string, now = new Date()): Promise<Plan> {
  if (policies(dataDir).every((p) => p.raw_days === null && p.compacted_days === null)) return { deletions: [], kept: [] };
  return withCompactionLock(dataDir, async () => {
    const plan = retentionPlan(dataDir, now);
    const done: Deletion[] = [];
    for (const d of plan.deletions.filter((x) => x.path.startsWith(`raw${path.sep}`))) {
      const removed = await removeRawFile(path.join(dataDir, d.path), d.why === 'raw compacted' ? d.bytes : null);
      if (removed) done.push(d);
      else plan.kept.push({ source: d.source, day: d.day, path: d.path, why: 'lines were appended since the plan: kept for the next compaction' });
    }
    const expiredDays = new Set(plan.deletions.filter((d) => d.why === 'day expired').map((d) => `${d.source}\t${d.day}`));
    for (const key of expiredDays) {
      const [source, day] = key.split('\t') as [string, string];
      const dayDir = parquetDayDir(dataDir, source, day);
      fs.rmSync(path.join(dayDir, MANIFEST), { force: true });
      fs.rmSync(dayDir, { recursive: true, force: true });
      done.push(...plan.deletions.filter((d) => d.source === source && d.day === day && d.path.startsWith(`parquet${path.sep}`)));
    }
    return { deletions: done, kept: plan.kept };
  });
}

/** Deletes a raw file under its append lock; with `size`, only if it still has that size. */
async function removeRawFile(file: string, size: number | null): Promise<boolean> {
  let fd: number;
  try {
    fd = fs.openSync(file, 'r');
  } catch {
    return true; // gone already
  }
  try {
    await lockExclusive(fd, file, 30);
    if (size !== null && fs.fstatSync(fd).size !== size) return false;
    fs.rmSync(file, { force: true });
    return true;
  } finally {
    fs.closeSync(fd);
  }
}
