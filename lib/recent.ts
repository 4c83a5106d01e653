// The recent window, cut from the day files: derived views need only the last hours (plus each
// machine's last state), but a day file holds a whole day and DuckDB parses a file whole. Day
// files are appended in time order, so the window's first line is found by binary search on
// `collected_at`, and only the bytes from there on are copied into one file per source that the
// session reads. This is plumbing: which rows count is still decided by the SQL.
import fs from 'node:fs';
import path from 'node:path';

/** Appends from concurrent runs can land slightly out of order: start this much before the window. */
const SLACK_MS = 15 * 60_000;
/** Of each machine's newest day file, at least its last this many bytes (from a run's first line): its last runs, even when silent for days. */
export const TAIL_BYTES = 256 * 1024;
const PROBE_BYTES = 16 * 1024;
/** A run's lines are read whole even when the tail starts mid-run; this bounds how far back. */
const MAX_RUN_BYTES = 32 * 1024 * 1024;
const COLLECTED_AT = /"collected_at":"([^"]+)"/;
const RUN_ID = /"run_id":"([^"]+)"/;

/** Reads up to `length` bytes at `position` (into fresh memory: nothing reads past `n`). */
function readAt(fd: number, position: number, length: number): Buffer {
  const buf = Buffer.allocUnsafe(length);
  const n = fs.readSync(fd, buf, 0, length, position);
  return buf.subarray(0, n);
}

/** Start of the first line at or after `pos` (pos itself if a line starts there), or null. */
function nextLineStart(fd: number, pos: number, size: number): number | null {
  if (pos <= 0) return 0;
  for (let at = pos - 1; at < size;) {
    const chunk = readAt(fd, at, PROBE_BYTES);
    if (chunk.length === 0) return null;
    const nl = chunk.indexOf(0x0a);
    if (nl >= 0) return at + nl + 1 < size ? at + nl + 1 : null;
    at += chunk.length;
  }
  return null;
}

/** Start of the line that ends just before `start`, or null at the top of the file. */
function prevLineStart(fd: number, start: number): number | null {
  if (start <= 0) return null;
  for (let end = start - 1; end > 0;) {
    const from = Math.max(0, end - PROBE_BYTES);
    const nl = readAt(fd, from, end - from).lastIndexOf(0x0a);
    if (nl >= 0) return from + nl + 1;
    end = from;
  }
  return 0;
}

/** The envelope's head (its first 512 bytes, never past its own end): enough for the fixed keys. */
function lineHead(fd: number, start: number): string {
  const head = readAt(fd, start, 512);
  const nl = head.indexOf(0x0a);
  return (nl >= 0 ? head.subarray(0, nl) : head).toString('utf8');
}

/** collected_at of the line starting at `start`, in ms (NaN when the line has none). */
function timeAt(fd: number, start: number): number {
  const m = COLLECTED_AT.exec(lineHead(fd, start));
  return m ? Date.parse(m[1]!) : NaN;
}

/**
 * Start of the first line at or after `lo` (a line start) whose collected_at is at or after `ms`
 * (or `size` if none): bisection narrows it to PROBE_BYTES, then a scan finds the line. A line
 * without a readable time is kept in the window either way: it counts as after the start and,
 * with `unreadableIsBefore`, as before the end (so a damaged line never cuts the window short;
 * the SQL decides about it).
 */
function firstLineAtOrAfter(fd: number, size: number, ms: number, unreadableIsBefore: boolean, lo: number): number {
  const before = (pos: number) => {
    const t = timeAt(fd, pos);
    return Number.isNaN(t) ? unreadableIsBefore : t < ms;
  };
  let hi = size;
  while (hi - lo > PROBE_BYTES) {
    const mid = Math.floor((lo + hi) / 2);
    const start = nextLineStart(fd, mid, size);
    if (start === null || start >= hi || !before(start)) hi = mid;
    else lo = start;
  }
  for (let pos: number | null = lo; pos !== null && pos < size; pos = nextLineStart(fd, pos + 1, size)) {
    if (!before(pos)) return pos;
  }
  return size;
}

/** Moves a line start back to the first line of the run it belongs to (lines sharing its run_id). */
function runStart(fd: number, start: number): number {
  const run = RUN_ID.exec(lineHead(fd, start))?.[1];
  if (!run) return start;
  let pos = start;
  for (let prev = prevLineStart(fd, pos); prev !== null && start - prev <= MAX_RUN_BYTES; prev = prevLineStart(fd, prev)) {
    if (RUN_ID.exec(lineHead(fd, prev))?.[1] !== run) break;
    pos = prev;
  }
  return pos;
}

/** End of the last whole line: a line still being written (no newline yet) is left out. */
function wholeLinesEnd(fd: number, size: number): number {
  let end = size;
  while (end > 0) {
    const from = Math.max(0, end - PROBE_BYTES);
    const chunk = readAt(fd, from, end - from);
    const nl = chunk.lastIndexOf(0x0a);
    if (nl >= 0) return from + nl + 1;
    end = from;
  }
  return 0;
}

export interface WindowFile {
  file: string;
  /** The machine's newest day file: keep at least its tail. */
  newest: boolean;
  /** Bytes at its start already compacted (lib/compacted.ts): never cut from there. */
  from?: number;
}

/**
 * Copies the window of each file (`sinceMs` to `untilMs`, or at least the last TAIL_BYTES before
 * `untilMs` of a newest file) into `out`. Returns the number of bytes written.
 */
export function cutWindow(files: readonly WindowFile[], sinceMs: number, untilMs: number, out: string): number {
  const fdOut = fs.openSync(out, 'w');
  const copyBuf = Buffer.allocUnsafe(4 * 1024 * 1024);
  let written = 0;
  try {
    for (const { file, newest, from = 0 } of files) {
      let fd: number;
      try {
        fd = fs.openSync(file, 'r');
      } catch {
        continue; // removed since it was listed (retention): nothing to read
      }
      try {
        // The compacted prefix is read from its segments (sql/05_readers.sql), never twice: only
        // what follows it is searched, and a file the segments hold whole is not read at all.
        const whole = wholeLinesEnd(fd, fs.fstatSync(fd).size);
        if (from >= whole) continue;
        // Lines after `untilMs` (an as-of time in the past) are of no use: stop before them.
        const end = firstLineAtOrAfter(fd, whole, untilMs + SLACK_MS, true, from);
        let start = firstLineAtOrAfter(fd, end, sinceMs - SLACK_MS, false, from);
        if (newest && end - start < TAIL_BYTES && start > 0) {
          // The tail starts on a whole run, so a large last run is never read in part.
          start = end <= TAIL_BYTES ? 0 : runStart(fd, nextLineStart(fd, end - TAIL_BYTES, end) ?? start);
        }
        start = Math.max(start, from);
        for (let pos = start; pos < end;) {
          const n = fs.readSync(fd, copyBuf, 0, Math.min(copyBuf.length, end - pos), pos);
          if (n === 0) break;
          fs.writeSync(fdOut, copyBuf, 0, n);
          written += n;
          pos += n;
        }
      } finally {
        fs.closeSync(fd);
      }
    }
  } finally {
    fs.closeSync(fdOut);
  }
  return written;
}

/**
 * Sources some view follows over days, beyond the recent window: of each of the last
 * DAY_END_DAYS closed days, the day's last run is cut out for the view <source>_day_ends (repos:
 * whether a repository was busy on a day shows in that day's last picture of its newest commit).
 */
export const DAY_END_SOURCES: readonly string[] = ['repos'];
export const DAY_END_DAYS = 7;

/**
 * The last run of a file: its whole lines from the first line of the run its last whole line
 * belongs to, or null when it needs the file read otherwise (a run too long, a line after
 * `beforeMs`). Read backwards in one growing chunk, as a run is a few KB of contiguous lines.
 */
function lastRun(fd: number, size: number, beforeMs: number): Buffer | null {
  for (let chunk = PROBE_BYTES; chunk <= MAX_RUN_BYTES; chunk *= 4) {
    const from = Math.max(0, size - chunk);
    let buf = readAt(fd, from, size - from);
    // A line still being written (no newline yet) is left out.
    buf = buf.subarray(0, buf.lastIndexOf(0x0a) + 1);
    // Where a line starts: after a newline, or at the chunk's start when that is the file's.
    const prevStart = (at: number): number | null => {
      const nl = at >= 2 ? buf.lastIndexOf(0x0a, at - 2) : -1;
      return nl >= 0 ? nl + 1 : from === 0 && at > 0 ? 0 : null;
    };
    const headOf = (at: number) => buf.subarray(at, Math.min(at + 512, buf.indexOf(0x0a, at))).toString('utf8');
    let start = prevStart(buf.length);
    if (start === null) {
      if (from === 0) return Buffer.alloc(0);
      continue;
    }
    const at = Date.parse(COLLECTED_AT.exec(headOf(start))?.[1] ?? '');
    if (!(at < beforeMs)) return null;
    const run = RUN_ID.exec(headOf(start))?.[1];
    let whole = true;
    while (run && start > 0) {
      const prev = prevStart(start);
      if (prev === null) {
        whole = false;
        break;
      }
      if (RUN_ID.exec(headOf(prev))?.[1] !== run) break;
      start = prev;
    }
    if (whole) return buf.subarray(start);
  }
  return null;
}

/**
 * Copies the last run of each file (lines up to `untilMs`) into `out`: one picture per file, a
 * run's few KB instead of a day of them. Returns the number of bytes written.
 */
export function cutLastRuns(files: readonly string[], untilMs: number, out: string): number {
  const runs: Buffer[] = [];
  for (const file of files) {
    let fd: number;
    try {
      fd = fs.openSync(file, 'r');
    } catch {
      continue; // removed since it was listed
    }
    try {
      const size = fs.fstatSync(fd).size;
      // A closed day ends before `untilMs`: one read. Else (an as-of time within the day, a run
      // longer than the limit) the end is searched for, and the run found line by line.
      let run = lastRun(fd, size, untilMs + SLACK_MS);
      if (run === null) {
        const end = firstLineAtOrAfter(fd, wholeLinesEnd(fd, size), untilMs + SLACK_MS, true, 0);
        const last = prevLineStart(fd, end);
        const start = last === null ? end : runStart(fd, last);
        run = readAt(fd, start, end - start);
      }
      runs.push(run);
    } finally {
      fs.closeSync(fd);
    }
  }
  const all = Buffer.concat(runs);
  fs.writeFileSync(out, all);
  return all.length;
}

/** A private temp dir for one session's window files, removed at close or exit. */
export function sessionTempDir(base: string): { dir: string; remove(): void } {
  const dir = fs.mkdtempSync(path.join(base, 'vc-recent-'));
  const onExit = () => fs.rmSync(dir, { recursive: true, force: true });
  process.once('exit', onExit);
  return {
    dir,
    remove: () => {
      process.removeListener('exit', onExit);
      onExit();
    },
  };
}
