// vc compact [--source S ...] [--md|--json]: NDJSON to Parquet segments (lib/compact.ts).
import fs from 'node:fs';
import path from 'node:path';
import { defineCommand } from 'citty';
import { SOURCES } from '../catalog.ts';
import { UsageError } from '../errors.ts';
import { envelope } from '../render.ts';
import { checkArgs, configArg, formatArgs, listArg, loadCliConfig, open, outputFormat, print, printJson } from './common.ts';
import type { LoadedConfig } from '../config.ts';
import { stateDir } from '../paths.ts';
import type { CompactResult } from '../compact.ts';

const compactedMarker = (dataDir: string) => path.join(stateDir(dataDir), 'compacted-at');

/** Compacts the whole store (every source) and notes when, for `vc cron run`. */
async function compactAll(loaded: LoadedConfig, sources?: string[]): Promise<CompactResult> {
  const { compactStore } = await import('../compact.ts');
  const session = await open(loaded, { recent: [] });
  try {
    const result = await compactStore(loaded.dataDir, session, { sources });
    if (!sources) {
      fs.mkdirSync(stateDir(loaded.dataDir), { recursive: true });
      fs.writeFileSync(compactedMarker(loaded.dataDir), `${new Date().toISOString()}\n`);
    }
    return result;
  } finally {
    session.close();
  }
}

/**
 * What `vc cron run` does every [compact] every_seconds (less a minute of slack for cron): compact,
 * then apply the retention policy if there is one. Returns a line to log, or null when not due.
 */
export async function scheduledCompaction(loaded: LoadedConfig, now = new Date()): Promise<string | null> {
  try {
    if (now.getTime() - fs.statSync(compactedMarker(loaded.dataDir)).mtimeMs < (loaded.config.compact.every_seconds - 60) * 1000) return null;
  } catch { /* never compacted: due */ }
  const { CompactionBusy } = await import('../compact.ts');
  let result: CompactResult;
  try {
    result = await compactAll(loaded);
  } catch (err) {
    // A long pass started by an earlier minute is still at work: it is not this minute's failure.
    if (err instanceof CompactionBusy) return null;
    throw err;
  }
  const { applyRetention } = await import('../retention.ts');
  const plan = await applyRetention(loaded.dataDir, now);
  const line = `compacted ${result.rows} rows into ${result.steps.length} segments in ${(result.ms / 1000).toFixed(1)} s`
    + (result.rollups?.steps.length ? `; rolled up ${result.rollups.steps.length} closed days of sys` : '')
    + (plan.deletions.length ? `; retention deleted ${plan.deletions.length} files` : '')
    + [...result.failed.map((f) => `not compacted: ${f}`), ...result.problems, ...(result.rollups?.problems ?? [])].map((p) => `; ${p}`).join('');
  if (result.failed.length) throw new Error(line);
  return line;
}

export default defineCommand({
  meta: { name: 'compact', description: 'Compact stored NDJSON into zstd Parquet per source and day (idempotent; safe while collectors append and reports read)' },
  args: {
    source: { type: 'string', description: 'only this source (repeatable, or comma-separated)', valueHint: 'SOURCE' },
    ...formatArgs,
    ...configArg,
  },
  async run(ctx) {
    checkArgs(ctx);
    const format = outputFormat(ctx.args);
    const sources = listArg(ctx, 'source');
    for (const s of sources) {
      if (!(SOURCES as readonly string[]).includes(s)) throw new UsageError(`unknown source "${s}"; sources: ${SOURCES.join(', ')}`);
    }
    const result = await compactAll(loadCliConfig(ctx.args), sources.length ? sources : undefined);
    const problems = [...result.failed.map((f) => `not compacted: ${f}`), ...result.problems, ...(result.rollups?.problems ?? [])];
    // A day that could not be compacted fails the command (its data is still read from NDJSON).
    if (result.failed.length) process.exitCode = 1;
    if (format === 'json') {
      printJson(envelope('compact', result, {}, problems));
      return;
    }
    // The rate is compaction's own: the rollups after it are timed apart.
    const ms = result.ms - (result.rollups?.ms ?? 0);
    const rate = ms > 0 ? Math.round(result.rows / (ms / 1000)) : 0;
    let out = `# vc compact\n\n${result.steps.length} segments written: ${result.rows} new rows from ${(result.ndjson_bytes / 2 ** 20).toFixed(1)} MiB of NDJSON in ${(ms / 1000).toFixed(1)} s (${rate} rows/s)`;
    out += result.removed.length ? `; ${result.removed.length} replaced or leftover files removed\n` : '\n';
    const merged = result.steps.filter((s) => s.action === 'merge').length;
    if (merged) out += `${merged} days merged into one segment each\n`;
    const rolled = result.rollups?.steps.length ?? 0;
    if (rolled) out += `${rolled} closed days of sys rolled up (hourly and daily, per machine and metric) in ${((result.rollups?.ms ?? 0) / 1000).toFixed(1)} s\n`;
    for (const p of problems) out += `\nWarning: ${p}\n`;
    print(out);
  },
});
