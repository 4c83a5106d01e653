// What the agent-log collectors share: read the new lines of every log file under some roots on
// the target (lib/tail.ts), turn each file's lines into items, and commit them with the cursors
// after every batch. A first run on a long history loops batch after batch until it has caught up
// or used most of its time; the next run goes on from the saved cursors, so history is read once.
import { createHash } from 'node:crypto';
import type { CollectContext, CollectOutput, Item } from '../collector.ts';
import { buildTailScript, tailCursorsFrom, tailLimitsWithin, type FileCursor, type TailCursors, type TailFile, type TailTree } from '../tail.ts';

/** Share of the run's timeout a catch-up may use before it stops and leaves the rest to the next run. */
const CATCH_UP_SHARE = 0.6;

export interface LogTailOptions {
  /** Said in errors: "read Claude Code logs". */
  what: string;
  trees: TailTree[];
  /**
   * Items from one file's new lines (a file's lines arrive in order, batch after batch); `before`
   * is the file's cursor before this batch, if it had one.
   */
  toItems(file: TailFile, skip: (reason: string) => void, before: FileCursor | undefined): Item[];
  /** Why the run is `absent` when none of the roots exists on the machine. */
  absent: string;
  /** Only lines holding one of these can carry a fact: the others are not sent or decoded (TailRequest.lineFilter). */
  lineFilter?: readonly string[];
}

/** A stable natural key for a stored fact: where it was read and what the line said. */
export function lineKey(file: string, text: string): string {
  return createHash('sha256').update(file).update('\n').update(text).digest('hex').slice(0, 24);
}

// Reading untrusted JSON values: each gives the value if it has the wanted type, else null.
export const asObject = (v: unknown): Record<string, unknown> | null =>
  v !== null && typeof v === 'object' && !Array.isArray(v) ? v as Record<string, unknown> : null;
export const asString = (v: unknown): string | null => (typeof v === 'string' ? v : null);
/** A token count: a non-negative safe integer. */
export const asCount = (v: unknown): number | null => (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0 ? v : null);
/** An ISO 8601 date-time, normalized to UTC with milliseconds. */
export function asIsoTime(v: unknown): string | null {
  if (typeof v !== 'string' || !/^\d{4}-\d{2}-\d{2}T/.test(v)) return null;
  const t = Date.parse(v);
  return Number.isFinite(t) ? new Date(t).toISOString() : null;
}

/** Parses a line as a JSON object, or null (not JSON, or not an object). */
export function parseObject(text: string): Record<string, unknown> | null {
  try {
    return asObject(JSON.parse(text));
  } catch {
    return null;
  }
}

/**
 * Items from a file's lines, one per line that carries a fact (`fact` gives it, or a reason to
 * skip the line, or null for a line with nothing vc needs), keyed by file and line.
 */
export function lineItems(file: TailFile, fact: (file: string, offset: number, text: string) => unknown, label: string,
  skip: (reason: string) => void): Item[] {
  const items: Item[] = [];
  for (const line of file.lines) {
    const f = fact(file.path, line.offset, line.text);
    if (typeof f === 'string') skip(`${f} (${label})`);
    else if (f) items.push({ kind: 'event', key: lineKey(file.path, line.text), data: f });
  }
  return items;
}

export async function tailLogs(ctx: CollectContext, opts: LogTailOptions): Promise<CollectOutput> {
  const saved = tailCursorsFrom(ctx.cursor);
  saved.warnings.forEach(ctx.warn);
  // Skipped lines are counted by reason and said once each at the end, not line by line.
  const skipped = new Map<string, number>();
  const skip = (reason: string) => skipped.set(reason, (skipped.get(reason) ?? 0) + 1);
  const seen = new Set<string>();
  const warnOnce = (m: string) => {
    if (!seen.has(m)) ctx.warn(m);
    seen.add(m);
  };
  try {
    return await readBatches(ctx, opts, saved.cursors, skip, warnOnce);
  } finally {
    for (const [reason, n] of skipped) ctx.warn(`skipped ${n} line${n === 1 ? '' : 's'}: ${reason}`);
  }
}

async function readBatches(ctx: CollectContext, opts: LogTailOptions, start: TailCursors,
  skip: (reason: string) => void, warn: (m: string) => void): Promise<CollectOutput> {
  let cursors = start;
  const limits = tailLimitsWithin(ctx.limits.maxBytes);
  const stopAt = ctx.timeLeftMs() * (1 - CATCH_UP_SHARE);
  for (let batch = 1; ; batch++) {
    const t = buildTailScript({ trees: opts.trees, cursors, limits, lineFilter: opts.lineFilter });
    const r = await ctx.run(opts.what, t.script);
    const res = t.parse(r.stdout);
    res.warnings.forEach(warn);
    if (batch === 1 && res.missingRoots.length === opts.trees.length) return { items: [], cursor: res.cursors, absent: opts.absent };
    await ctx.commit(res.files.flatMap((f) => opts.toItems(f, skip, cursors[f.path])), res.cursors);
    cursors = res.cursors;
    if (!res.more) return { items: [] };
    if (ctx.timeLeftMs() < stopAt) {
      warn(`caught up partly (${batch} batches this run): the next run reads on from here`);
      return { items: [] };
    }
  }
}
