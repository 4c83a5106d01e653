// Model prices for agent-usage costs: vc's own flat table, normalized from LiteLLM's
// model_prices_and_context_window.json. The same code builds the bundled sql/pricing/litellm.json
// and `vc pricing update` writes <data_dir>/pricing/litellm.json; sql/06_pricing.sql loads
// whichever is active into the `pricing` table (lib/duck.ts names it in vc_pricing_file).
import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { UsageError } from './errors.ts';
import { repoRoot } from './paths.ts';

export const LITELLM_URL = 'https://raw.githubusercontent.com/BerriAI/litellm/main/model_prices_and_context_window.json';

/** The table shipped with vc, and where `vc pricing update` puts a newer one. */
export const bundledPricingFile = path.join(repoRoot, 'sql', 'pricing', 'litellm.json');
export const dataPricingFile = (dataDir: string) => path.join(dataDir, 'pricing', 'litellm.json');

/**
 * The table in force: an updated one in the data dir, else the bundled one. An updated file that
 * no longer validates (edited by hand, damaged) is not used: the bundled one is, and `problem` says why.
 */
export function activePricingFile(dataDir: string): { file: string; bundled: boolean; problem?: string } {
  const updated = dataPricingFile(dataDir);
  if (!fs.existsSync(updated)) return { file: bundledPricingFile, bundled: true };
  try {
    readPricingFile(updated);
    return { file: updated, bundled: false };
  } catch (err) {
    return { file: bundledPricingFile, bundled: true, problem: `${(err as Error).message.replace(/:\n/, ': ').split('\n')[0]}; using the bundled prices (vc pricing update --from FILE replaces it)` };
  }
}

// ---------------------------------------------------------------------------------------------
// LiteLLM's format (input)

/**
 * The chat models vc prices: Anthropic Claude (bare or anthropic/), OpenAI (gpt-*, o1/o3/o4*,
 * codex*), Google Gemini (gemini-* and gemini/...). Other providers' copies (bedrock, azure_ai,
 * vertex_ai/...) are left out: the agents vc reads log the first-party names.
 */
export function isWantedModel(name: string): boolean {
  return /^(anthropic\/)?claude-/.test(name) || /^(gpt-|o1|o3|o4|codex)/.test(name) || /^gemini[-/]/.test(name);
}

/** Modes that bill tokens of a conversation; an entry without a mode counts as one. */
const CHAT_MODES = new Set(['chat', 'responses']);

/** A price, USD per token: a finite number >= 0. JSON null means "no value", like an absent key. */
const price = z.unknown().optional().transform((v, ctx) => {
  if (v === undefined || v === null) return null;
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) {
    ctx.addIssue({ code: 'custom', message: `must be a finite number >= 0, not ${typeof v === 'number' ? String(v) : JSON.stringify(v) ?? typeof v}` });
    return z.NEVER;
  }
  return v;
});

/**
 * One LiteLLM entry, as far as vc reads it: extra fields are ignored, the numbers vc uses are
 * checked. Only entries of wanted chat models are parsed with it (image, audio, embedding and
 * other providers' entries are never looked at, whatever they hold).
 */
export const liteLLMEntrySchema = z.looseObject({
  litellm_provider: z.string().optional(),
  mode: z.string().optional(),
  input_cost_per_token: price,
  output_cost_per_token: price,
  cache_creation_input_token_cost: price,
  cache_creation_input_token_cost_above_1hr: price,
  cache_read_input_token_cost: price,
  input_cost_per_token_above_200k_tokens: price,
  output_cost_per_token_above_200k_tokens: price,
  cache_creation_input_token_cost_above_200k_tokens: price,
  cache_creation_input_token_cost_above_1hr_above_200k_tokens: price,
  cache_read_input_token_cost_above_200k_tokens: price,
  provider_specific_entry: z.looseObject({ fast: price }).nullable().optional(),
});

// ---------------------------------------------------------------------------------------------
// vc's format (output): flat rows, every price USD per token, null where LiteLLM has no value

/** zod's number() refuses NaN and the infinities. */
const storedPrice = z.number().min(0);

export const PRICE_COLUMNS = [
  'input', 'output', 'cache_write_5m', 'cache_write_1h', 'cache_read',
  'input_above_200k', 'output_above_200k', 'cache_write_above_200k', 'cache_write_1h_above_200k', 'cache_read_above_200k',
  'fast_multiplier',
] as const;

export const priceRowSchema = z.strictObject({
  model: z.string().min(1),
  /** LiteLLM's litellm_provider (anthropic, openai, gemini, vertex_ai-language-models, ...). */
  provider: z.string().nullable(),
  input: storedPrice,
  output: storedPrice,
  /** Cache writes with the default 5-minute TTL. */
  cache_write_5m: storedPrice.nullable(),
  /** Cache writes with the 1-hour TTL; null means 2 x input (Anthropic's rule, ccusage's formula). */
  cache_write_1h: storedPrice.nullable(),
  cache_read: storedPrice.nullable(),
  /** The rates for the part of a component beyond 200k tokens (Anthropic's long-context tier). */
  input_above_200k: storedPrice.nullable(),
  output_above_200k: storedPrice.nullable(),
  cache_write_above_200k: storedPrice.nullable(),
  cache_write_1h_above_200k: storedPrice.nullable(),
  cache_read_above_200k: storedPrice.nullable(),
  /** Multiplier for speed = fast (provider_specific_entry.fast); null: no known fast price. */
  fast_multiplier: storedPrice.nullable(),
});
export type PriceRow = z.infer<typeof priceRowSchema>;

export const pricingSourceSchema = z.strictObject({
  /** Where the LiteLLM file came from. */
  url: z.string().nullable(),
  /** The upstream commit of that file, when known. */
  commit: z.string().nullable(),
  /** When the upstream content was current (commit or snapshot time), when known. */
  date: z.string().nullable(),
  /** When vc read and normalized it. */
  fetched: z.string(),
  note: z.string().nullable().optional(),
});
export type PricingSource = z.infer<typeof pricingSourceSchema>;

export const pricingFileSchema = z.strictObject({
  source: pricingSourceSchema,
  models: z.array(priceRowSchema).min(1, 'must hold at least one model'),
}).superRefine((doc, ctx) => {
  const seen = new Set<string>();
  doc.models.forEach((m, i) => {
    if (seen.has(m.model)) ctx.addIssue({ code: 'custom', path: ['models', i, 'model'], message: `duplicate model "${m.model}"` });
    seen.add(m.model);
  });
});
export type PricingFile = z.infer<typeof pricingFileSchema>;

/** Formats zod issues as `path: message`, one per line. */
function describe(issues: readonly z.core.$ZodIssue[]): string {
  return issues.map((i) => `${i.path.length ? i.path.map(String).join('.') : '(top level)'}: ${i.message}`).join('\n');
}

// ---------------------------------------------------------------------------------------------
// Normalizing

export interface Skipped { model: string; reason: string }

export interface Normalized {
  file: PricingFile;
  /** Wanted chat entries that could not be priced (no input or output price), named. */
  skipped: Skipped[];
}

/**
 * LiteLLM's JSON (already parsed) to vc's table. Throws UsageError naming every wanted chat
 * entry whose numbers are bad (negative, not finite, not numbers) or that is not an object, and
 * when no model is left: a bad entry is never priced at 0 nor silently dropped.
 */
export function normalizeLiteLLM(doc: unknown, source: PricingSource): Normalized {
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) {
    throw new UsageError(`not a LiteLLM price list: expected a JSON object of model entries, got ${Array.isArray(doc) ? 'an array' : doc === null ? 'null' : typeof doc}`);
  }
  const models: PriceRow[] = [];
  const skipped: Skipped[] = [];
  const bad: string[] = [];
  for (const [name, entry] of Object.entries(doc)) {
    if (!isWantedModel(name)) continue;
    if (entry === null || typeof entry !== 'object' || Array.isArray(entry)) {
      bad.push(`${name}: the entry must be an object, not ${Array.isArray(entry) ? 'an array' : entry === null ? 'null' : typeof entry}`);
      continue;
    }
    const mode = (entry as Record<string, unknown>).mode;
    if (typeof mode === 'string' && !CHAT_MODES.has(mode)) continue; // an image, audio, embedding... model
    const parsed = liteLLMEntrySchema.safeParse(entry);
    if (!parsed.success) {
      bad.push(...parsed.error.issues.map((i) => `${name}: ${i.path.map(String).join('.')}: ${i.message}`));
      continue;
    }
    const e = parsed.data;
    if (e.input_cost_per_token === null || e.output_cost_per_token === null) {
      skipped.push({ model: name, reason: `no ${e.input_cost_per_token === null ? 'input_cost_per_token' : 'output_cost_per_token'}` });
      continue;
    }
    models.push({
      model: name,
      provider: e.litellm_provider ?? null,
      input: e.input_cost_per_token,
      output: e.output_cost_per_token,
      cache_write_5m: e.cache_creation_input_token_cost,
      cache_write_1h: e.cache_creation_input_token_cost_above_1hr,
      cache_read: e.cache_read_input_token_cost,
      input_above_200k: e.input_cost_per_token_above_200k_tokens,
      output_above_200k: e.output_cost_per_token_above_200k_tokens,
      cache_write_above_200k: e.cache_creation_input_token_cost_above_200k_tokens,
      cache_write_1h_above_200k: e.cache_creation_input_token_cost_above_1hr_above_200k_tokens,
      cache_read_above_200k: e.cache_read_input_token_cost_above_200k_tokens,
      fast_multiplier: e.provider_specific_entry?.fast ?? null,
    });
  }
  if (bad.length) {
    const shown = bad.slice(0, 20).join('\n');
    throw new UsageError(`bad prices in ${bad.length === 1 ? 'an entry' : `${bad.length} places`}:\n${shown}${bad.length > 20 ? `\n... and ${bad.length - 20} more` : ''}`);
  }
  if (models.length === 0) {
    throw new UsageError('no usable model: the file has no chat entry for claude-*, gpt-*, o1/o3/o4*, codex* or gemini* with input and output prices');
  }
  models.sort((a, b) => (a.model < b.model ? -1 : a.model > b.model ? 1 : 0));
  const file: PricingFile = { source, models };
  const check = pricingFileSchema.safeParse(file);
  if (!check.success) throw new UsageError(`the normalized table is invalid:\n${describe(check.error.issues)}`);
  return { file: check.data, skipped };
}

/** Reads and normalizes a LiteLLM file; every failure is a UsageError saying what is wrong. */
export function readLiteLLMFile(file: string, source: Omit<PricingSource, 'fetched'> & { fetched?: string }): Normalized {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw new UsageError(`cannot read ${file}: ${(err as Error).message}`);
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw new UsageError(`${file} is not JSON: ${(err as Error).message}`);
  }
  return normalizeLiteLLM(doc, { ...source, fetched: source.fetched ?? new Date().toISOString() });
}

// ---------------------------------------------------------------------------------------------
// vc's table on disk

/** Reads and validates a table in vc's format; throws UsageError naming what is wrong. */
export function readPricingFile(file: string): PricingFile {
  let doc: unknown;
  try {
    doc = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (err) {
    throw new UsageError(`cannot read pricing table ${file}: ${(err as Error).message}`);
  }
  const r = pricingFileSchema.safeParse(doc);
  if (!r.success) throw new UsageError(`invalid pricing table ${file}:\n${describe(r.error.issues)}`);
  return r.data;
}

/** The table as text: one model per line, so a price change is a one-line diff. */
export function formatPricingFile(table: PricingFile): string {
  const rows = table.models.map((m) => `    ${JSON.stringify(m)}`).join(',\n');
  return `{\n  "source": ${JSON.stringify(table.source)},\n  "models": [\n${rows}\n  ]\n}\n`;
}

/** Writes the table atomically: a temp file beside it, fsynced, then renamed over it. */
export function writePricingFile(file: string, table: PricingFile): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  try {
    const fd = fs.openSync(tmp, 'w');
    try {
      fs.writeFileSync(fd, formatPricingFile(table));
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    fs.renameSync(tmp, file);
  } catch (err) {
    fs.rmSync(tmp, { force: true });
    throw err;
  }
}

export interface TableDiff { added: string[]; removed: string[]; repriced: string[] }

/** Which models a new table adds, drops, or prices differently. */
export function diffTables(before: readonly PriceRow[], after: readonly PriceRow[]): TableDiff {
  const old = new Map(before.map((m) => [m.model, m]));
  const now = new Map(after.map((m) => [m.model, m]));
  const same = (a: PriceRow, b: PriceRow) => a.provider === b.provider && PRICE_COLUMNS.every((c) => a[c] === b[c]);
  return {
    added: [...now.keys()].filter((k) => !old.has(k)),
    removed: [...old.keys()].filter((k) => !now.has(k)),
    repriced: [...now.keys()].filter((k) => old.has(k) && !same(old.get(k)!, now.get(k)!)),
  };
}
