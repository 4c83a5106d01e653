// vc compact: the stored NDJSON becomes zstd Parquet segments, sorted by machine and time, per
// source and day (lib/compacted.ts has the layout and why every line is read exactly once).
//   - A day still open gets a segment of what was appended since the last pass; once it has
//     MAX_OPEN_SEGMENTS, or once it is closed (CLOSE_AFTER_MS past its end), its segments and
//     anything new are merged into one.
//   - A segment is written to parquet/.tmp, its row count checked against what was read, then
//     renamed into its day directory and only then named by the manifest (written to a temp file
//     and renamed): a pass killed at any point leaves either the old manifest or the new one.
//   - Segments a merge replaced stay readable for SUPERSEDED_GRACE_MS (a reader may have listed
//     them), then go; files no manifest names (a killed pass's) go at the next pass.
// One pass at a time (a lock); collectors go on appending meanwhile: only whole lines up to the
// size seen at the start are taken, and the next pass takes the rest.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { SOURCES, sqlName } from './catalog.ts';
import { compactedDays, coveredBytes, coveredPrefixes, headHash, machineOfPath, MANIFEST, parquetDayDir, parquetRoot, readManifest, type Manifest, type Segment, type SegmentInput } from './compacted.ts';
import { tryLockExclusive } from './flock.ts';
import { rawDir } from './paths.ts';
import { sqlString, type Session } from './duck.ts';
import { rollupClosedDays, type RollupResult } from './rollups-write.ts';

export const CLOSE_AFTER_MS = 2 * 3600_000;
export const MAX_OPEN_SEGMENTS = 8;
export const SUPERSEDED_GRACE_MS = 15 * 60_000;
const ROW_GROUP_SIZE = 122_880;

export interface CompactStep {
  source: string;
  day: string;
  action: 'segment' | 'merge';
  segment: string;
  /** Rows now in the new segment, of which `new_rows` were read from NDJSON this pass. */
  rows: number;
  new_rows: number;
  malformed: number;
  ndjson_bytes: number;
  parquet_bytes: number;
  ms: number;
}

export interface CompactResult {
  steps: CompactStep[];
  /** Days that could not be compacted, and why (their NDJSON is read as before). */
  failed: string[];
  /** Files removed: superseded segments past their grace, and leftovers of killed passes. */
  removed: string[];
  problems: string[];
  rows: number;
  ndjson_bytes: number;
  ms: number;
  /** Closed days of sys rolled up (lib/rollups-write.ts); absent when sys was not compacted. */
  rollups?: RollupResult;
}

export interface CompactOptions {
  now?: Date;
  sources?: readonly string[];
  /** Test hook: called between the steps of writing a segment (to kill the pass there). */
  onStep?: (step: 'copied' | 'written' | 'renamed' | 'manifest') => void | Promise<void>;
}

/** A raw file's lines that no segment holds yet: bytes [from, to), `to` at a line end. */
interface Pending { path: string; abs: string; ino: number; head: string; from: number; to: number }

function fsyncDir(dir: string): void {
  const fd = fs.openSync(dir, 'r');
  try {
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

function writeDurably(file: string, data: string): void {
  const tmp = `${file}.${process.pid}.tmp`;
  const fd = fs.openSync(tmp, 'w');
  try {
    fs.writeSync(fd, data);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  fs.renameSync(tmp, file);
  fsyncDir(path.dirname(file));
}

/** End of the last whole line within the first `size` bytes (a line being written is left). */
function lastLineEnd(fd: number, size: number, from: number): number {
  const chunk = Buffer.allocUnsafe(64 * 1024);
  for (let end = size; end > from;) {
    const start = Math.max(from, end - chunk.length);
    const n = fs.readSync(fd, chunk, 0, end - start, start);
    const nl = chunk.subarray(0, n).lastIndexOf(0x0a);
    if (nl >= 0) return start + nl + 1;
    end = start;
  }
  return from;
}

/** The lines of one day of a source that no segment holds, per raw file. */
function pendingOf(dataDir: string, source: string, day: string, manifest: Manifest | null): Pending[] {
  const covered = manifest ? coveredPrefixes(manifest) : new Map();
  const out: Pending[] = [];
  const dir = rawDir(dataDir, source);
  let machines: string[] = [];
  try {
    machines = fs.readdirSync(dir).filter((m) => m.startsWith('machine=')).sort();
  } catch {
    return out;
  }
  for (const m of machines) {
    const abs = path.join(dir, m, `date=${day}.ndjson`);
    let fd: number;
    try {
      fd = fs.openSync(abs, 'r');
    } catch {
      continue;
    }
    try {
      const st = fs.fstatSync(fd);
      const rel = path.relative(dataDir, abs);
      const from = coveredBytes(abs, st.ino, st.size, covered.get(rel));
      const to = lastLineEnd(fd, st.size, from);
      if (to > from) out.push({ path: rel, abs, ino: st.ino, head: headHash(fd), from, to });
    } finally {
      fs.closeSync(fd);
    }
  }
  return out;
}

/**
 * Copies each pending range into its own NDJSON file under `dir` (never one file: a malformed line
 * would swallow the next file's first line, as it cannot in the raw file it ends). Returns the
 * files and the lines copied per raw file.
 */
function copyPending(pending: readonly Pending[], dir: string): { files: string[]; lines: Map<string, number> } {
  const lines = new Map<string, number>();
  const files: string[] = [];
  const buf = Buffer.allocUnsafe(4 * 1024 * 1024);
  pending.forEach((p, i) => {
    const out = path.join(dir, `in-${i}.ndjson`);
    const fdOut = fs.openSync(out, 'w');
    const fd = fs.openSync(p.abs, 'r');
    let count = 0;
    try {
      for (let pos = p.from; pos < p.to;) {
        const n = fs.readSync(fd, buf, 0, Math.min(buf.length, p.to - pos), pos);
        if (n === 0) throw new Error(`${p.path} shrank while it was compacted`);
        for (let at = buf.indexOf(0x0a); at >= 0 && at < n; at = buf.indexOf(0x0a, at + 1)) count++;
        fs.writeSync(fdOut, buf, 0, n);
        pos += n;
      }
    } finally {
      fs.closeSync(fd);
      fs.closeSync(fdOut);
    }
    lines.set(p.path, count);
    files.push(out);
  });
  return { files, lines };
}

const dayEndMs = (day: string) => Date.parse(`${day}T00:00:00Z`) + 86_400_000;
const segmentName = () => `seg-${new Date().toISOString().replace(/[-:.]/g, '').replace('T', '-').slice(0, 15)}-${crypto.randomBytes(4).toString('hex')}.parquet`;

/** The days of a source with raw files or segments, up to `today`. */
function daysOf(dataDir: string, source: string, today: string): string[] {
  const days = new Set(compactedDays(dataDir, source));
  const dir = rawDir(dataDir, source);
  try {
    for (const m of fs.readdirSync(dir).filter((x) => x.startsWith('machine='))) {
      for (const f of fs.readdirSync(path.join(dir, m))) {
        const d = /^date=(\d{4}-\d{2}-\d{2})\.ndjson$/.exec(f)?.[1];
        if (d) days.add(d);
      }
    }
  } catch { /* no raw files */ }
  return [...days].filter((d) => d <= today).sort();
}

/** Removes superseded segments past their grace and files no manifest names; returns what went. */
function sweep(dayDir: string, manifest: Manifest | null, nowMs: number): { manifest: Manifest | null; removed: string[] } {
  const removed: string[] = [];
  let names: string[];
  try {
    names = fs.readdirSync(dayDir);
  } catch {
    return { manifest, removed };
  }
  const live = new Set(manifest?.segments.map((s) => s.file) ?? []);
  const superseded = manifest?.superseded ?? [];
  const keep = superseded.filter((s) => nowMs - Date.parse(s.at) < SUPERSEDED_GRACE_MS);
  const kept = new Set(keep.map((s) => s.file));
  for (const name of names) {
    if (name === MANIFEST || live.has(name) || kept.has(name)) continue;
    if (!/^seg-.*\.parquet$|\.tmp$/.test(name)) continue;
    fs.rmSync(path.join(dayDir, name), { force: true });
    removed.push(path.join(dayDir, name));
  }
  if (manifest && keep.length !== superseded.length) {
    manifest = { ...manifest, superseded: keep };
    writeDurably(path.join(dayDir, MANIFEST), JSON.stringify(manifest, null, 1));
  }
  return { manifest, removed };
}

/** The compaction lock is held by another vc compact or vc retention apply. */
export class CompactionBusy extends Error {
  constructor() {
    super('another vc compact or vc retention apply is running on this data dir');
  }
}

/** Runs `fn` holding the data dir's compaction lock (compaction, retention): refuses if it is held. */
export async function withCompactionLock<T>(dataDir: string, fn: () => Promise<T>): Promise<T> {
  const root = parquetRoot(dataDir);
  fs.mkdirSync(root, { recursive: true });
  const fd = fs.openSync(path.join(root, '.compact.lock'), 'a');
  try {
    if (!(await tryLockExclusive(fd, 'the compaction lock'))) throw new CompactionBusy();
    return await fn();
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * Compacts every source (or `opts.sources`) of `dataDir`. `session` is a vc session on it (its
 * definitions give each source's columns); the caller holds nothing else open on it.
 */
export async function compactStore(dataDir: string, session: Session, opts: CompactOptions = {}): Promise<CompactResult> {
  const started = performance.now();
  const now = opts.now ?? new Date();
  const today = now.toISOString().slice(0, 10);
  const root = parquetRoot(dataDir);
  const result: CompactResult = { steps: [], failed: [], removed: [], problems: [], rows: 0, ndjson_bytes: 0, ms: 0 };
  await withCompactionLock(dataDir, async () => {
    const tmpRoot = path.join(root, '.tmp');
    fs.rmSync(tmpRoot, { recursive: true, force: true }); // a killed pass's leftovers: no manifest names them
    fs.mkdirSync(tmpRoot, { recursive: true });
    try {
      for (const source of opts.sources ?? SOURCES) {
        for (const day of daysOf(dataDir, source, today)) {
          let step: CompactStep | null = null;
          try {
            step = await compactDay(dataDir, session, source, day, now, tmpRoot, opts, result);
          } catch (err) {
            // One day that cannot be compacted (a damaged segment, a full disk) keeps its raw
            // files as they are read now; the other days go on.
            result.failed.push(`${source} ${day}: ${(err as Error).message}`);
          }
          if (step) {
            result.steps.push(step);
            result.rows += step.new_rows;
            result.ndjson_bytes += step.ndjson_bytes;
          }
        }
      }
      if ((opts.sources ?? SOURCES).includes('sys')) result.rollups = await rollupClosedDays(dataDir, session, { now, closeAfterMs: CLOSE_AFTER_MS, tmpDir: tmpRoot });
    } finally {
      fs.rmSync(tmpRoot, { recursive: true, force: true });
    }
  });
  result.ms = Math.round(performance.now() - started);
  return result;
}

async function compactDay(dataDir: string, session: Session, source: string, day: string, now: Date, tmpRoot: string,
  opts: CompactOptions, result: CompactResult): Promise<CompactStep | null> {
  const dayDir = parquetDayDir(dataDir, source, day);
  let manifest: Manifest | null = null;
  try {
    manifest = readManifest(dataDir, source, day);
  } catch (err) {
    // Readers already fall back to the raw files; rebuilding the day from them replaces it.
    result.problems.push(`${(err as Error).message}: rebuilt from the raw files`);
  }
  const swept = sweep(dayDir, manifest, now.getTime());
  manifest = swept.manifest;
  result.removed.push(...swept.removed);

  const pending = pendingOf(dataDir, source, day, manifest);
  const segments = manifest?.segments ?? [];
  const closed = now.getTime() >= dayEndMs(day) + CLOSE_AFTER_MS;
  const merge = closed ? segments.length + (pending.length ? 1 : 0) > 1 : pending.length > 0 && segments.length + 1 > MAX_OPEN_SEGMENTS;
  if (!pending.length && !merge) return null;

  const t0 = performance.now();
  const work = fs.mkdtempSync(path.join(tmpRoot, `${sqlName(source)}-${day}-`));
  const { files: inputs, lines } = copyPending(pending, work);
  const ndjsonBytes = pending.reduce((n, p) => n + p.to - p.from, 0);
  await opts.onStep?.('copied');

  const old = merge ? segments : [];
  const oldFiles = old.map((s) => path.join(dayDir, s.file));
  const oldRows = old.reduce((n, s) => n + s.rows, 0);
  if (oldFiles.length) {
    const [check] = await session.query(`SELECT count(*)::BIGINT AS n FROM read_parquet(${sqlList(oldFiles)})`);
    if (Number(check!.n) !== oldRows) throw new Error(`${source} ${day}: its segments hold ${check!.n} rows, the manifest says ${oldRows}; nothing was changed`);
  }
  const parts: string[] = [];
  if (inputs.length) parts.push(`FROM vc_read_raw_day(${sqlList(inputs)}, ${sqlString(day)}, vc_${sqlName(source)}_columns())`);
  if (oldFiles.length) parts.push(`FROM read_parquet(${sqlList(oldFiles)}, union_by_name = true)`);
  const out = path.join(work, 'out.parquet');
  const [copied] = await session.query(`COPY (SELECT * FROM (${parts.join(' UNION ALL BY NAME ')}) ORDER BY machine_id, collected_at)
    TO ${sqlString(out)} (FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE ${ROW_GROUP_SIZE})`);
  const written = Number(copied?.Count ?? NaN);
  const [check] = await session.query(`SELECT count(*)::BIGINT AS n, min(collected_at) AS min_at, max(collected_at) AS max_at FROM read_parquet(${sqlList([out])})`);
  const rows = Number(check!.n);
  const newRows = rows - oldRows;
  const newLines = [...lines.values()].reduce((a, b) => a + b, 0);
  if (rows !== written || newRows < 0 || newRows > newLines) {
    throw new Error(`${source} ${day}: the new segment holds ${rows} rows, ${written} were written, from ${oldRows} compacted rows and ${newLines} lines; nothing was changed`);
  }
  await opts.onStep?.('written');

  fs.mkdirSync(dayDir, { recursive: true });
  const name = segmentName();
  const fd = fs.openSync(out, 'r');
  fs.fsyncSync(fd);
  fs.closeSync(fd);
  fs.renameSync(out, path.join(dayDir, name));
  fsyncDir(dayDir);
  await opts.onStep?.('renamed');

  // Each raw file is one machine's: its newest line in the segment.
  const lastAt = new Map((await session.query(`SELECT machine_id, max(collected_at) AS max_at FROM read_parquet(${sqlList([path.join(dayDir, name)])}) GROUP BY machine_id`))
    .map((r) => [String(r.machine_id), isoOrNull(r.max_at)]));
  const fresh: SegmentInput[] = pending.map((p) => ({
    path: p.path, ino: p.ino, head: p.head, from: p.from, to: p.to, lines: lines.get(p.path) ?? 0, max_at: lastAt.get(machineOfPath(p.path)) ?? null,
  }));
  // A merged segment covers, per file, from the first covered byte to the last.
  const segment: Segment = {
    file: name, rows, malformed: old.reduce((n, s) => n + s.malformed, 0) + newLines - newRows,
    min_at: isoOrNull(check!.min_at), max_at: isoOrNull(check!.max_at), written_at: new Date().toISOString(),
    inputs: merge ? mergeInputs([...old.flatMap((s) => s.inputs), ...fresh]) : fresh,
  };
  const next: Manifest = {
    v: 1, source, day,
    segments: merge ? [segment] : [...segments, segment],
    superseded: [...(manifest?.superseded ?? []), ...old.map((s) => ({ file: s.file, at: now.toISOString() }))],
  };
  writeDurably(path.join(dayDir, MANIFEST), JSON.stringify(next, null, 1));
  await opts.onStep?.('manifest');
  fs.rmSync(work, { recursive: true, force: true });
  return {
    source, day, action: merge ? 'merge' : 'segment', segment: path.relative(dataDir, path.join(dayDir, name)), rows, new_rows: newRows,
    malformed: newLines - newRows, ndjson_bytes: ndjsonBytes, parquet_bytes: fs.statSync(path.join(dayDir, name)).size, ms: Math.round(performance.now() - t0),
  };
}

const sqlList = (items: readonly string[]) => `[${items.map(sqlString).join(', ')}]`;
const isoOrNull = (v: unknown) => (typeof v === 'string' ? v : null);

/** One input per raw file: ranges of one file follow each other, so the merge spans first to last. */
function mergeInputs(inputs: readonly SegmentInput[]): SegmentInput[] {
  const byPath = new Map<string, SegmentInput>();
  for (const i of inputs) {
    const prev = byPath.get(i.path);
    if (!prev) byPath.set(i.path, { ...i });
    else if (prev.head !== i.head || prev.ino !== i.ino) byPath.set(i.path, { ...i }); // a new file under the old name
    else {
      const maxAt = [prev.max_at, i.max_at].filter((x): x is string => x !== null).sort().at(-1) ?? null;
      byPath.set(i.path, { ...prev, from: Math.min(prev.from, i.from), to: Math.max(prev.to, i.to), lines: prev.lines + i.lines, max_at: maxAt });
    }
  }
  return [...byPath.values()];
}
