// The recent window, cut from the day files: derived views need only the last hours (plus each
// machine's last state), but a day file holds a whole day and DuckDB parses a file whole. Day
// files are appended in time order, so the window's first line is found by binary search on
// `collected_at`, and only the bytes from there on are copied into one file per source that the
// session reads. This is plumbing: which rows count is still decided by the SQL.
import fs from 'node:fs';
import path from 'node:path';

/** Appends from concurrent runs can land slightly out of order: start this much before the window. */
const SLACK_MS = 15 * 60_000;
/** Of each machine's newest day file, at least its last this many bytes: its last runs, even when silent for days. */
export const TAIL_BYTES = 256 * 1024;
const PROBE_BYTES = 16 * 1024;
const COLLECTED_AT = /"collected_at":"([^"]+)"/;

/** Reads up to `length` bytes at `position`. */
function readAt(fd: number, position: number, length: number): Buffer {
  const buf = Buffer.alloc(length);
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

/** collected_at of the line starting at `start`, in ms (NaN when the line has none). */
function timeAt(fd: number, start: number): number {
  const m = COLLECTED_AT.exec(readAt(fd, start, 512).toString('utf8'));
  return m ? Date.parse(m[1]!) : NaN;
}

/**
 * Start of the first line whose collected_at is at or after `ms` (or `size` if none): bisection
 * narrows it to PROBE_BYTES, then a scan finds the line. Lines without a readable time count as
 * "after", so they are never cut away from the start of a window.
 */
export function firstLineAtOrAfter(fd: number, size: number, ms: number): number {
  let lo = 0;
  let hi = size;
  while (hi - lo > PROBE_BYTES) {
    const mid = Math.floor((lo + hi) / 2);
    const start = nextLineStart(fd, mid, size);
    if (start === null || start >= hi || !(timeAt(fd, start) < ms)) hi = mid;
    else lo = start;
  }
  for (let pos: number | null = lo; pos !== null && pos < size; pos = nextLineStart(fd, pos + 1, size)) {
    if (!(timeAt(fd, pos) < ms)) return pos;
  }
  return size;
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
}

/**
 * Copies the window of each file (`sinceMs` to `untilMs`, or at least the last TAIL_BYTES before
 * `untilMs` of a newest file) into `out`. Returns the number of bytes written.
 */
export function cutWindow(files: readonly WindowFile[], sinceMs: number, untilMs: number, out: string): number {
  const fdOut = fs.openSync(out, 'w');
  let written = 0;
  try {
    for (const { file, newest } of files) {
      let fd: number;
      try {
        fd = fs.openSync(file, 'r');
      } catch {
        continue; // removed since it was listed (retention): nothing to read
      }
      try {
        // Lines after `untilMs` (an as-of time in the past) are of no use: stop before them.
        const end = firstLineAtOrAfter(fd, wholeLinesEnd(fd, fs.fstatSync(fd).size), untilMs + SLACK_MS);
        let start = firstLineAtOrAfter(fd, end, sinceMs - SLACK_MS);
        if (newest && end - start < TAIL_BYTES && start > 0) {
          start = end <= TAIL_BYTES ? 0 : (nextLineStart(fd, end - TAIL_BYTES, end) ?? start);
        }
        for (let pos = start; pos < end;) {
          const chunk = readAt(fd, pos, Math.min(4 * 1024 * 1024, end - pos));
          if (chunk.length === 0) break;
          fs.writeSync(fdOut, chunk);
          written += chunk.length;
          pos += chunk.length;
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

/** A private temp dir for one session's window files, removed at close or exit. */
export function sessionTempDir(base: string): { dir: string; remove(): void } {
  const dir = fs.mkdtempSync(path.join(base, 'vc-recent-'));
  const remove = () => fs.rmSync(dir, { recursive: true, force: true });
  process.once('exit', remove);
  return { dir, remove };
}
