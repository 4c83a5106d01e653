// The NDJSON store: append-only files per source, machine and day, plus incremental-read cursors.
// Invariants (design.md): one locked write per run and file; a killed writer's partial tail
// is cut before the next append; cursors are saved only after the data they cover is durable.
import fs from 'node:fs';
import path from 'node:path';
import { lockExclusive } from './flock.ts';
import { cursorFile, rawFile, utcDate } from './paths.ts';
import type { Envelope } from './envelope.ts';

const LOCK_WAIT_SECONDS = 30;

/** If the file does not end in a newline, a writer died mid-line: cut back to the last full line. */
function cutPartialTail(fd: number): number {
  const size = fs.fstatSync(fd).size;
  if (size === 0) return 0;
  const chunk = Buffer.alloc(64 * 1024);
  let end = size;
  while (end > 0) {
    const start = Math.max(0, end - chunk.length);
    const n = fs.readSync(fd, chunk, 0, end - start, start);
    const nl = chunk.subarray(0, n).lastIndexOf(0x0a);
    if (nl >= 0) {
      const keep = start + nl + 1;
      if (keep !== size) fs.ftruncateSync(fd, keep);
      return size - keep;
    }
    end = start;
  }
  fs.ftruncateSync(fd, 0);
  return size;
}

function writeAll(fd: number, buf: Buffer): void {
  let off = 0;
  while (off < buf.length) off += fs.writeSync(fd, buf, off, buf.length - off);
}

export interface AppendResult {
  bytes: number;
  files: string[];
  /** Bytes of partial lines from interrupted writers that were cut before appending. */
  repairedBytes: number;
}

/** Cuts a killed writer's partial line from the end of `file`, under its lock. */
async function repairTail(file: string, signal?: AbortSignal): Promise<number> {
  const fd = fs.openSync(file, 'r+');
  try {
    await lockExclusive(fd, file, LOCK_WAIT_SECONDS, signal);
    return cutPartialTail(fd);
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * The day file before `file` in its directory (day files sort by name), if any. A writer killed
 * in the last run of a day leaves that day's file with a partial tail that no later append to it
 * would cut, so the first append of the next day repairs it: only a machine's newest files can
 * ever end mid-line, and readers check just those (lib/duck.ts).
 */
function previousDayFile(file: string): string | null {
  const name = path.basename(file);
  const older = fs.readdirSync(path.dirname(file)).filter((f) => f.endsWith('.ndjson') && f < name).sort();
  return older.length ? path.join(path.dirname(file), older[older.length - 1]!) : null;
}

/**
 * Appends whole lines to one file: one locked write, fsynced before returning. `signal` gives up
 * the wait for the lock (then nothing is written).
 */
export async function appendToFile(file: string, lines: readonly string[], signal?: AbortSignal): Promise<{ bytes: number; repairedBytes: number }> {
  if (lines.length === 0) return { bytes: 0, repairedBytes: 0 };
  for (const line of lines) {
    if (line.includes('\n')) throw new Error('refusing to store a line that contains a newline');
  }
  const buf = Buffer.from(lines.join('\n') + '\n', 'utf8');
  fs.mkdirSync(path.dirname(file), { recursive: true });
  let repairedBytes = 0;
  if (!fs.existsSync(file)) {
    const previous = previousDayFile(file);
    if (previous) repairedBytes += await repairTail(previous, signal);
  }
  for (;;) {
    const fd = fs.openSync(file, 'a+');
    try {
      await lockExclusive(fd, file, LOCK_WAIT_SECONDS, signal);
      // Retention may have deleted the file while this waited for its lock: write to the new one.
      if (!sameFile(fd, file)) continue;
      repairedBytes += cutPartialTail(fd);
      writeAll(fd, buf);
      fs.fsyncSync(fd);
      return { bytes: buf.length, repairedBytes };
    } finally {
      fs.closeSync(fd); // releases the lock
    }
  }
}

/** Whether `fd` is still the file at `file` (not unlinked or replaced since it was opened). */
function sameFile(fd: number, file: string): boolean {
  try {
    return fs.statSync(file).ino === fs.fstatSync(fd).ino;
  } catch {
    return false;
  }
}

/** Appends envelopes to raw/<source>/machine=<id>/date=<day>.ndjson, one write per day file. */
export async function appendEnvelopes(dataDir: string, envelopes: readonly Envelope[], signal?: AbortSignal): Promise<AppendResult> {
  const byFile = new Map<string, string[]>();
  for (const env of envelopes) {
    const file = rawFile(dataDir, env.source, env.machine_id, utcDate(env.collected_at));
    let lines = byFile.get(file);
    if (!lines) byFile.set(file, (lines = []));
    lines.push(JSON.stringify(env));
  }
  const result: AppendResult = { bytes: 0, files: [], repairedBytes: 0 };
  for (const [file, lines] of byFile) {
    const r = await appendToFile(file, lines, signal);
    result.bytes += r.bytes;
    result.repairedBytes += r.repairedBytes;
    result.files.push(file);
  }
  return result;
}

/** Reads a cursor; a missing or unreadable one means "start from the beginning" (dedup absorbs re-reads). */
export function loadCursor(dataDir: string, machineId: string, source: string): unknown {
  try {
    return JSON.parse(fs.readFileSync(cursorFile(dataDir, machineId, source), 'utf8'));
  } catch {
    return null;
  }
}

/** Saves a cursor atomically (temp file, fsync, rename). Call only after the covered data is appended. */
export function saveCursor(dataDir: string, machineId: string, source: string, cursor: unknown): void {
  const file = cursorFile(dataDir, machineId, source);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  const fd = fs.openSync(tmp, 'w');
  try {
    writeAll(fd, Buffer.from(JSON.stringify(cursor)));
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  fs.renameSync(tmp, file);
}
