// What a session reads of one source: the compacted segments (lib/compacted.ts), the raw NDJSON
// they do not cover, and the recent window cut from both (lib/recent.ts). Each stored line is in
// exactly one of them.
import fs from 'node:fs';
import path from 'node:path';
import { rawDir } from './paths.ts';
import { compactedDays, coveredBytes, coveredPrefixes, machineOfPath, parquetDayDir, readManifest, type Manifest } from './compacted.ts';
import { DAY_END_DAYS, DAY_END_SOURCES, type WindowFile } from './recent.ts';

export interface RawFile {
  file: string;
  machine: string;
  day: string;
  /** Bytes at its start that segments hold. */
  from: number;
  size: number;
}

export interface SegmentFile {
  file: string;
  day: string;
  minAt: string | null;
  maxAt: string | null;
  /** Machine -> its newest line in the segment (ms; NaN when unknown). */
  machines: Map<string, number>;
}

export interface SourceFiles {
  /** Raw day files with lines no segment holds (all history, days up to `now`; none without `history`). */
  raw: RawFile[];
  /** Segments of days up to `now`. */
  segments: SegmentFile[];
  /** The raw files the recent window is cut from: days overlapping it, and each machine's newest day. */
  recent: WindowFile[];
  /** Segments the recent window reads: those overlapping it, and the newest day of each `tail` machine. */
  recentSegments: string[];
  /**
   * Machines whose newest compacted lines are older than the window: from when their last hours
   * start (RECENT_HOURS before their newest line), read from their segments.
   */
  tail: Map<string, string>;
  /** Raw files of the DAY_END_DAYS days before today, compacted or not (cutLastRuns reads their last runs). */
  dayEnds: string[];
  /** Damaged manifests: those days are read from their raw files alone. */
  problems: string[];
}

/**
 * Lists one source's store for a session at `now` with a recent window of `recentHours`. Days after
 * `now` are left out (as-of queries); a machine that went silent long ago still has its newest day
 * in the window, so derived views see its last state. Without `history` only what the recent window
 * and the day ends read is looked at: a raw file of an older day costs no stat (at 100 machines x
 * 90 days, most of the listing's time).
 */
export function listSourceFiles(dataDir: string, source: string, now: Date, recentHours: number, history = true): SourceFiles {
  const today = now.toISOString().slice(0, 10);
  const sinceMs = now.getTime() - recentHours * 3600_000;
  const sinceDay = new Date(sinceMs).toISOString().slice(0, 10);
  const dayEndsFrom = new Date(now.getTime() - DAY_END_DAYS * 86_400_000).toISOString().slice(0, 10);
  const out: SourceFiles = { raw: [], segments: [], recent: [], recentSegments: [], tail: new Map(), dayEnds: [], problems: [] };

  const manifests = new Map<string, Manifest>();
  const prefixes = new Map<string, ReturnType<typeof coveredPrefixes>>();
  for (const day of compactedDays(dataDir, source)) {
    if (day > today) continue;
    try {
      const m = readManifest(dataDir, source, day);
      if (m) {
        manifests.set(day, m);
        prefixes.set(day, coveredPrefixes(m));
      }
    } catch (err) {
      out.problems.push(`${(err as Error).message}: ${source} ${day} is read from its raw files`);
    }
  }
  const newestDay = new Map<string, string>();
  const noteDay = (machine: string, day: string) => {
    if ((newestDay.get(machine) ?? '') < day) newestDay.set(machine, day);
  };
  const segmentsByDay = new Map<string, SegmentFile[]>();
  for (const [day, m] of manifests) {
    const ofDay: SegmentFile[] = [];
    for (const seg of m.segments) {
      const machines = new Map<string, number>();
      for (const input of seg.inputs) {
        const machine = machineOfPath(input.path);
        machines.set(machine, Math.max(machines.get(machine) ?? -Infinity, input.max_at === null ? NaN : Date.parse(input.max_at)));
        noteDay(machine, day);
      }
      ofDay.push({ file: path.join(parquetDayDir(dataDir, source, day), seg.file), day, minAt: seg.min_at, maxAt: seg.max_at, machines });
    }
    segmentsByDay.set(day, ofDay);
    out.segments.push(...ofDay);
  }

  const dir = rawDir(dataDir, source);
  let machineDirs: string[] = [];
  try {
    machineDirs = fs.readdirSync(dir).filter((m) => m.startsWith('machine=')).sort();
  } catch { /* no raw files */ }
  const rawByMachine = new Map<string, RawFile[]>();
  const dayFiles = machineDirs.map((m) => {
    const machine = m.slice('machine='.length);
    const days: Array<{ name: string; day: string }> = [];
    for (const name of fs.readdirSync(path.join(dir, m)).sort()) {
      const day = /^date=(\d{4}-\d{2}-\d{2})\.ndjson$/.exec(name)?.[1];
      if (day === undefined || day > today) continue;
      days.push({ name, day });
      noteDay(machine, day);
    }
    return { m, machine, days };
  });
  // Without history, the days the recent window and the day ends read, and each machine's newest.
  const firstDay = DAY_END_SOURCES.includes(source) && dayEndsFrom < sinceDay ? dayEndsFrom : sinceDay;
  for (const { m, machine, days } of dayFiles) {
    const files: RawFile[] = [];
    for (const { name, day } of days) {
      if (!history && day < firstDay && day !== newestDay.get(machine)) continue;
      const file = `${dir}${path.sep}${m}${path.sep}${name}`;
      const covered = prefixes.get(day);
      let from = 0;
      let size = -1;
      // The manifest's key for it (path.relative, spelled out: it runs for every stored file).
      const entry = covered?.get(`raw/${source}/${m}/${name}`);
      if (covered) {
        // Only compacted days need a stat: what the segments hold of the file, and what it holds now.
        let st: fs.Stats;
        try {
          st = fs.statSync(file);
        } catch {
          continue; // retired since it was listed
        }
        size = st.size;
        from = coveredBytes(file, st.ino, st.size, entry);
      }
      files.push({ file, machine, day, from, size });
    }
    rawByMachine.set(machine, files);
  }

  for (const [machine, files] of rawByMachine) {
    const newest = newestDay.get(machine);
    for (const f of files) {
      const fullyCovered = f.size >= 0 && f.from >= f.size;
      if (!fullyCovered && history) out.raw.push(f);
      if (f.day >= sinceDay || f.day === newest) out.recent.push({ file: f.file, newest: f.day === newest, from: f.from });
      if (f.day >= dayEndsFrom && f.day < today) out.dayEnds.push(f.file);
    }
  }
  // Of each machine's newest day: when its last compacted line was (inputs are per machine).
  const lastAt = new Map<string, number>();
  for (const [machine, day] of newestDay) {
    for (const seg of segmentsByDay.get(day) ?? []) {
      const at = seg.machines.get(machine);
      if (at !== undefined && !Number.isNaN(at)) lastAt.set(machine, Math.max(lastAt.get(machine) ?? -Infinity, at));
    }
  }
  const windowStart = sinceMs - 15 * 60_000; // the SQL keeps 15 minutes before the window too
  const tailDays = new Set<string>();
  for (const [machine, at] of lastAt) {
    const from = at - recentHours * 3600_000;
    if (from >= windowStart) continue; // its last hours are in the window anyway
    out.tail.set(machine, new Date(from).toISOString());
    tailDays.add(newestDay.get(machine)!);
  }
  for (const s of out.segments) {
    const overlaps = s.maxAt !== null && Date.parse(s.maxAt) >= windowStart;
    if (overlaps || tailDays.has(s.day)) out.recentSegments.push(s.file);
  }
  return out;
}

/** Copies the uncovered part of a raw file (from `from` to its last whole line) to `copy`; false when there is none. */
export function copyUncovered(file: string, from: number, copy: string): boolean {
  let fd: number;
  try {
    fd = fs.openSync(file, 'r');
  } catch {
    return false;
  }
  try {
    const size = fs.fstatSync(fd).size;
    if (size <= from) return false;
    const buf = Buffer.allocUnsafe(size - from);
    const n = fs.readSync(fd, buf, 0, buf.length, from);
    const end = buf.subarray(0, n).lastIndexOf(0x0a) + 1;
    if (end === 0) return false;
    fs.mkdirSync(path.dirname(copy), { recursive: true });
    fs.writeFileSync(copy, buf.subarray(0, end));
    return true;
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * A machine's newest day file may end in a line still being written, or left half-written by a
 * killed writer (older days are repaired by the next day's first append, lib/store.ts). DuckDB
 * would parse a last line without its newline as a row, so such a file is read through a copy
 * cut at its last newline, under the same date= name (the `day` column comes from it).
 */
export function wholeLinesOnly(file: string, copyDir: string): string {
  let fd: number;
  try {
    fd = fs.openSync(file, 'r');
  } catch {
    return file; // gone since it was listed: DuckDB will say so, if it matters
  }
  try {
    const size = fs.fstatSync(fd).size;
    const last = Buffer.alloc(1);
    if (size === 0 || (fs.readSync(fd, last, 0, 1, size - 1) === 1 && last[0] === 0x0a)) return file;
    const copy = path.join(copyDir, path.basename(path.dirname(file)), path.basename(file));
    fs.mkdirSync(path.dirname(copy), { recursive: true });
    const text = fs.readFileSync(fd);
    fs.writeFileSync(copy, text.subarray(0, text.lastIndexOf(0x0a) + 1));
    return copy;
  } finally {
    fs.closeSync(fd);
  }
}
