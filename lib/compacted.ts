// The compacted store (design.md): parquet/<source>/date=<day>/ holds Parquet segments and one
// manifest.json naming them. A segment covers a byte range of each raw day file it was made from
// (lines `from` to `to`); ranges of one file follow each other from 0, so what a file holds past
// its covered prefix is exactly the lines no segment has. Readers take the segments the manifest
// names plus, of each raw file, only what follows its covered prefix: every line once, whether
// compaction has not run, is running (its files are invisible until the manifest names them) or
// was killed (a segment no manifest names is never read).
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';

export const MANIFEST = 'manifest.json';

const inputSchema = z.object({
  /** The raw file, relative to the data dir. */
  path: z.string().min(1),
  /** Its inode and the hash of its first line: a file retired and made again is a new file. */
  ino: z.number().int().nonnegative(),
  head: z.string().regex(/^[0-9a-f]{40}$/),
  from: z.number().int().nonnegative(),
  to: z.number().int().nonnegative(),
  lines: z.number().int().nonnegative(),
  /** The newest collected_at of its lines in the segment (a silent machine's last hours start from it). */
  max_at: z.string().nullable(),
});

const segmentSchema = z.object({
  file: z.string().regex(/^seg-[A-Za-z0-9-]+\.parquet$/),
  rows: z.number().int().nonnegative(),
  /** Lines that did not parse or lacked machine_id/collected_at: never visible, counted here. */
  malformed: z.number().int().nonnegative(),
  min_at: z.string().nullable(),
  max_at: z.string().nullable(),
  written_at: z.string(),
  inputs: z.array(inputSchema),
});

export const manifestSchema = z.object({
  v: z.literal(1),
  source: z.string(),
  day: z.string().regex(/^\d{4}-\d{2}-\d{2}$/),
  segments: z.array(segmentSchema),
  /** Segments a merge replaced: deleted once no reader can still be reading them. */
  superseded: z.array(z.object({ file: z.string(), at: z.string() })),
});

export type Manifest = z.infer<typeof manifestSchema>;
export type Segment = Manifest['segments'][number];
export type SegmentInput = Segment['inputs'][number];

export const parquetRoot = (dataDir: string) => path.join(dataDir, 'parquet');
export const parquetDayDir = (dataDir: string, source: string, day: string) => path.join(parquetRoot(dataDir), source, `date=${day}`);

/** The machine a raw file (raw/<source>/machine=<id>/date=<day>.ndjson) belongs to. */
export const machineOfPath = (rawPath: string) => /machine=([^/]+)[/]date=/.exec(rawPath)?.[1] ?? '';

/** SHA-1 of a file's first line (at most 4 KiB): with the inode, what identifies a raw day file. */
export function headHash(fd: number): string {
  const buf = Buffer.alloc(4096);
  const n = fs.readSync(fd, buf, 0, buf.length, 0);
  const nl = buf.subarray(0, n).indexOf(0x0a);
  return crypto.createHash('sha1').update(buf.subarray(0, nl >= 0 ? nl : n)).digest('hex');
}

/** A day's manifest, or null when the day was never compacted. A damaged one is an error naming it. */
export function readManifest(dataDir: string, source: string, day: string): Manifest | null {
  const file = path.join(parquetDayDir(dataDir, source, day), MANIFEST);
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new Error(`${file} is not valid JSON (${(err as Error).message})`);
  }
  const r = manifestSchema.safeParse(parsed);
  if (!r.success) throw new Error(`${file} is not a compaction manifest: ${r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  if (r.data.source !== source || r.data.day !== day) throw new Error(`${file} describes ${r.data.source} ${r.data.day}, not ${source} ${day}`);
  return r.data;
}

/** The days of a source that have a compacted directory, sorted. */
export function compactedDays(dataDir: string, source: string): string[] {
  try {
    return fs.readdirSync(path.join(parquetRoot(dataDir), source))
      .map((d) => /^date=(\d{4}-\d{2}-\d{2})$/.exec(d)?.[1])
      .filter((d): d is string => d !== undefined)
      .sort();
  } catch {
    return [];
  }
}

/**
 * How far each raw file (relative path) is covered by a manifest's segments, and as what file.
 * Segments are in the order they were written: the last one naming a path holds its furthest
 * line (or, if the file was retired and made again, the only coverage of the new one).
 */
export function coveredPrefixes(manifest: Manifest): Map<string, { ino: number; head: string; to: number }> {
  const out = new Map<string, { ino: number; head: string; to: number }>();
  for (const seg of manifest.segments) {
    for (const input of seg.inputs) out.set(input.path, { ino: input.ino, head: input.head, to: input.to });
  }
  return out;
}

/**
 * Bytes of `file` (now `size` bytes, inode `ino`) already in segments. A file whose inode changed
 * is checked by its first line: the same content moved (a restore) keeps its coverage, a new file
 * under the old name (made after the old one was retired) has none.
 */
export function coveredBytes(file: string, ino: number, size: number, covered: { ino: number; head: string; to: number } | undefined): number {
  if (!covered) return 0;
  if (ino !== covered.ino) {
    let fd: number;
    try {
      fd = fs.openSync(file, 'r');
    } catch {
      return 0;
    }
    try {
      if (headHash(fd) !== covered.head) return 0;
    } finally {
      fs.closeSync(fd);
    }
  }
  // A killed writer's partial last line is cut later (lib/store.ts): never below a covered line.
  return Math.min(covered.to, size);
}
