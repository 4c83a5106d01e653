// vc compact [--source S ...] [--md|--json]: NDJSON to Parquet segments (lib/compact.ts).
import { defineCommand } from 'citty';
import { SOURCES } from '../catalog.ts';
import { UsageError } from '../errors.ts';
import { envelope } from '../render.ts';
import { checkArgs, configArg, formatArgs, listArg, loadCliConfig, open, outputFormat, print, printJson } from './common.ts';

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
    const loaded = loadCliConfig(ctx.args);
    const { compactStore } = await import('../compact.ts');
    const session = await open(loaded, { recent: [] });
    let result;
    try {
      result = await compactStore(loaded.dataDir, session, { sources: sources.length ? sources : undefined });
    } finally {
      session.close();
    }
    if (format === 'json') {
      printJson(envelope('compact', result, {}, result.problems));
      return;
    }
    const rate = result.ms > 0 ? Math.round(result.rows / (result.ms / 1000)) : 0;
    let out = `# vc compact\n\n${result.steps.length} segments written: ${result.rows} new rows from ${(result.ndjson_bytes / 2 ** 20).toFixed(1)} MiB of NDJSON in ${(result.ms / 1000).toFixed(1)} s (${rate} rows/s)`;
    out += result.removed.length ? `; ${result.removed.length} replaced or leftover files removed\n` : '\n';
    const merged = result.steps.filter((s) => s.action === 'merge').length;
    if (merged) out += `${merged} days merged into one segment each\n`;
    for (const p of result.problems) out += `\nWarning: ${p}\n`;
    print(out);
  },
});
