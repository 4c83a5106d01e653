// vc pricing show [--model NAME [--agent A]] [--json|--md]: the active price table, its source,
// and which entry a model name resolves to.
// vc pricing update --from FILE [--url U] [--commit C] [--date D] [--note T] [--out FILE] [--json]: a new
// table from a LiteLLM model_prices_and_context_window.json, written atomically.
import fs from 'node:fs';
import { defineCommand } from 'citty';
import type { Row } from '../duck.ts';
import { UsageError } from '../errors.ts';
import { log } from '../log.ts';
import {
  activePricingFile, dataPricingFile, diffTables, readLiteLLMFile, readPricingFile, writePricingFile,
  type PriceRow, type PricingSource,
} from '../pricing.ts';
import { envelope, mdCode, mdTable } from '../render.ts';
import { checkArgs, configArg, loadCliConfig, open, outputFormat, print, printJson } from './common.ts';

const AGENTS = ['claude', 'codex', 'gemini'];

/** USD per token as USD per million tokens, for people (JSON keeps the table's own numbers). */
const perMillion = (v: unknown) => (typeof v === 'number' ? Number((v * 1e6).toPrecision(6)) : null);

function priceTable(rows: readonly Row[]): string {
  return mdTable(rows.map((r) => ({
    model: r.model,
    provider: r.provider,
    input: perMillion(r.input),
    output: perMillion(r.output),
    'cache write 5m': perMillion(r.cache_write_5m),
    'cache write 1h': perMillion(r.cache_write_1h) ?? (typeof r.input === 'number' ? `(${perMillion(2 * r.input)})` : null),
    'cache read': perMillion(r.cache_read),
    'input >200k': perMillion(r.input_above_200k),
    'output >200k': perMillion(r.output_above_200k),
    'write >200k': perMillion(r.cache_write_above_200k),
    'write 1h >200k': perMillion(r.cache_write_1h_above_200k),
    'read >200k': perMillion(r.cache_read_above_200k),
    'fast x': r.fast_multiplier,
  })));
}

function sourceLine(s: Row): string {
  const where = s.source_url ? mdCode(String(s.source_url)) : 'an unnamed file';
  const commit = s.source_commit ? ` at commit ${mdCode(String(s.source_commit))}` : '';
  const date = s.source_date ? ` (${String(s.source_date)})` : '';
  const kind = s.bundled ? 'the table bundled with vc' : 'updated with `vc pricing update`';
  return `${s.models} models from ${where}${commit}${date}, normalized ${String(s.fetched_at)}; ${kind}.`
    + (s.note ? `\n\n${String(s.note)}` : '');
}

const show = defineCommand({
  meta: { name: 'show', description: 'The active price table and its source; with --model, the entry a model name resolves to' },
  args: {
    model: { type: 'string', description: 'a model name as an agent logs it (exit 1 when nothing matches)', valueHint: 'NAME' },
    agent: { type: 'string', description: `whose provider prefixes to try: ${AGENTS.join(', ')} (default: all)`, valueHint: 'AGENT' },
    md: { type: 'boolean', description: 'Markdown (default)' },
    json: { type: 'boolean', description: 'JSON envelope' },
    ...configArg,
  },
  async run(ctx) {
    checkArgs(ctx);
    const format = outputFormat(ctx.args);
    const name = ctx.args.model === undefined ? undefined : String(ctx.args.model);
    const agent = ctx.args.agent === undefined ? null : String(ctx.args.agent);
    if (agent !== null && !AGENTS.includes(agent)) throw new UsageError(`--agent must be one of ${AGENTS.join(', ')}, not "${agent}"`);
    if (agent !== null && name === undefined) throw new UsageError('--agent goes with --model');
    if (name !== undefined && name.trim() === '') throw new UsageError('--model needs a model name');
    const session = await open(loadCliConfig(ctx.args), { recent: [] });
    try {
      const [source] = await session.query('SELECT * FROM pricing_source');
      if (name === undefined) {
        const models = await session.query('SELECT * FROM pricing ORDER BY model');
        if (format === 'json') {
          printJson(envelope('pricing', { source, models }, {}, []));
          return;
        }
        print(`# vc pricing\n\n${sourceLine(source!)}\n\nUSD per million tokens. An empty "cache write 1h" is priced at 2 x input (shown in brackets); `
          + 'the ">200k" rates apply to the part of a component beyond 200k tokens; "fast x" multiplies the cost of speed=fast usage.\n\n'
          + priceTable(models));
        return;
      }
      const [hit] = await session.query('SELECT vc_price_model($1, $2) AS resolved', [agent, name]);
      const resolved = (hit?.resolved ?? null) as string | null;
      const [price] = resolved === null ? [] : await session.query('SELECT * FROM pricing WHERE model = $1', [resolved]);
      const warnings = resolved === null ? [`no price for "${name}": its usage cost is NULL (unknown)`] : [];
      if (format === 'json') {
        printJson(envelope('pricing', { source, model: name, agent, resolved, price: price ?? null }, {}, warnings));
      } else if (resolved === null) {
        print(`${mdCode(name)} matches no entry of the price table, so its cost is unknown (NULL).\n\n${sourceLine(source!)}`);
      } else {
        print(`${mdCode(name)} resolves to ${mdCode(resolved)}${resolved === name ? ' (exact name)' : ''}.\n\n`
          + `USD per million tokens:\n\n${priceTable([price!])}\n${sourceLine(source!)}`);
      }
      if (resolved === null) process.exitCode = 1;
    } finally {
      session.close();
    }
  },
});

const update = defineCommand({
  meta: { name: 'update', description: 'Replace the price table with one normalized from a LiteLLM model_prices_and_context_window.json' },
  args: {
    from: { type: 'string', description: 'the LiteLLM file to read', valueHint: 'FILE' },
    url: { type: 'string', description: 'where that file came from, to record as its source', valueHint: 'URL' },
    commit: { type: 'string', description: 'its upstream commit, to record', valueHint: 'SHA' },
    date: { type: 'string', description: 'when its content was current (ISO 8601), to record', valueHint: 'TIME' },
    note: { type: 'string', description: 'a note on the source, to record', valueHint: 'TEXT' },
    out: { type: 'string', description: 'write here instead of <data_dir>/pricing/litellm.json (how the bundled table is made)', valueHint: 'FILE' },
    json: { type: 'boolean', description: 'JSON envelope' },
    ...configArg,
  },
  async run(ctx) {
    checkArgs(ctx);
    if (typeof ctx.args.from !== 'string' || ctx.args.from === '') throw new UsageError('--from FILE is required: a LiteLLM model_prices_and_context_window.json');
    const date = ctx.args.date === undefined ? null : String(ctx.args.date);
    if (date !== null && !Number.isFinite(Date.parse(date))) throw new UsageError(`--date "${date}" is not a time; use ISO 8601 like 2026-07-24T18:23:43Z`);
    const loaded = loadCliConfig(ctx.args);
    const source: Omit<PricingSource, 'fetched'> = {
      url: ctx.args.url === undefined ? null : String(ctx.args.url),
      commit: ctx.args.commit === undefined ? null : String(ctx.args.commit),
      date,
      note: ctx.args.note === undefined ? null : String(ctx.args.note),
    };
    const { file: table, skipped } = readLiteLLMFile(ctx.args.from, source);

    // Compared with the table this one replaces: the target if it exists, else the active one.
    const target = typeof ctx.args.out === 'string' ? ctx.args.out : dataPricingFile(loaded.dataDir);
    const warnings = skipped.map((s) => `skipped ${s.model}: ${s.reason}`);
    const replaced = fs.existsSync(target) ? target : activePricingFile(loaded.dataDir).file;
    let before: PriceRow[] = [];
    if (fs.existsSync(replaced)) {
      try {
        before = readPricingFile(replaced).models;
      } catch (err) {
        warnings.push(`the table it replaces is invalid, so every model counts as added: ${(err as Error).message}`);
      }
    }
    const diff = diffTables(before, table.models);
    writePricingFile(target, table);

    const changed = diff.added.length + diff.removed.length + diff.repriced.length;
    const data = {
      file: target, models: table.models.length, changed, added: diff.added.length, removed: diff.removed.length,
      repriced: diff.repriced.length, source: table.source, diff, skipped,
    };
    if (ctx.args.json) {
      printJson(envelope('pricing_update', data, {}, warnings));
      return;
    }
    let out = `Pricing updated: ${table.models.length} models, ${changed} changed vs the previous table `
      + `(${diff.added.length} added, ${diff.removed.length} removed, ${diff.repriced.length} repriced).\n`
      + `Source: ${table.source.url ?? ctx.args.from}${table.source.commit ? ` at ${table.source.commit}` : ''}${table.source.date ? ` (${table.source.date})` : ''}.\n`
      + `Written to ${target}.\n`;
    for (const [label, names] of [['added', diff.added], ['removed', diff.removed], ['repriced', diff.repriced]] as const) {
      if (names.length) out += `${label}: ${names.slice(0, 30).join(', ')}${names.length > 30 ? `, ... (${names.length})` : ''}\n`;
    }
    print(out);
    for (const w of warnings) await log.warn(w);
  },
});

export default defineCommand({
  meta: { name: 'pricing', description: 'Model prices used for agent-usage costs: show the table, or update it from a LiteLLM file' },
  subCommands: { show, update },
});
