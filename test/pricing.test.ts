// Pricing: the bundled table, LiteLLM normalization, name matching and the three cost formulas
// (given rows -> expected rows, hand-computed), and the vc pricing commands with good and bad files.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { openSession, type Row, type Session } from '../lib/duck.ts';
import {
  bundledPricingFile, dataPricingFile, diffTables, isWantedModel, normalizeLiteLLM, readPricingFile, writePricingFile,
  type PriceRow, type PricingFile,
} from '../lib/pricing.ts';
import { tmpDir, vc } from './helpers.ts';

const NOW = new Date('2026-08-01T12:00:00.000Z');
const M = 1e-6; // prices below are written in USD per million tokens

/** A price row with only what a case states; everything else has no value. */
function row(model: string, over: Partial<PriceRow> = {}): PriceRow {
  return {
    model, provider: 'test', input: 1 * M, output: 2 * M, cache_write_5m: null, cache_write_1h: null, cache_read: null,
    input_above_200k: null, output_above_200k: null, cache_write_above_200k: null, cache_write_1h_above_200k: null,
    cache_read_above_200k: null, fast_multiplier: null, ...over,
  };
}

/** A session whose active table is `models` (written as `vc pricing update` would). */
async function sessionWith(models: PriceRow[]): Promise<Session> {
  const dataDir = tmpDir();
  writePricingFile(dataPricingFile(dataDir), {
    source: { url: 'test', commit: null, date: null, fetched: NOW.toISOString() }, models,
  });
  return openSession({ dataDir, now: NOW, recent: [] });
}

/** `rows` as a SQL VALUES list with the given column names (strings quoted, null as NULL). */
function values(rows: ReadonlyArray<ReadonlyArray<string | number | null>>, columns: string[]): string {
  const lit = (v: string | number | null) => (v === null ? 'NULL' : typeof v === 'number' ? String(v) : `'${v.replace(/'/g, "''")}'`);
  return `(VALUES ${rows.map((r) => `(${r.map(lit).join(', ')})`).join(', ')}) AS t(${columns.join(', ')})`;
}

const close = (actual: unknown, expected: number | null, what: string) => {
  if (expected === null) return assert.equal(actual, null, `${what}: expected NULL, got ${actual}`);
  assert.equal(typeof actual, 'number', `${what}: expected ${expected}, got ${actual}`);
  assert.ok(Math.abs((actual as number) - expected) < 1e-12, `${what}: expected ${expected}, got ${actual}`);
};

// ---------------------------------------------------------------------------------------------

describe('the bundled table', () => {
  test('validates, holds the three providers\' chat models, sorted and unique, with its source', () => {
    const table = readPricingFile(bundledPricingFile);
    assert.ok(table.models.length > 100, `${table.models.length} models`);
    const names = table.models.map((m) => m.model);
    assert.deepEqual(names, [...names].sort(), 'sorted by name');
    assert.equal(new Set(names).size, names.length, 'unique');
    assert.ok(names.every(isWantedModel), 'only Claude, OpenAI and Gemini names');
    for (const n of ['claude-sonnet-4-5', 'claude-opus-4-6', 'gpt-5', 'gpt-5-codex', 'o3', 'gemini-2.5-pro', 'gemini/gemini-2.5-flash']) {
      assert.ok(names.includes(n), `${n} is priced`);
    }
    const sonnet = table.models.find((m) => m.model === 'claude-sonnet-4-5')!;
    assert.equal(sonnet.input, 3 * M);
    assert.equal(sonnet.input_above_200k, 6 * M);
    assert.equal(table.models.find((m) => m.model === 'claude-opus-4-6')!.fast_multiplier, 6);
    assert.match(table.source.url ?? '', /BerriAI\/litellm/);
    assert.ok(Date.parse(table.source.date ?? ''), 'source date');
    assert.ok(Date.parse(table.source.fetched), 'fetched');
  });

  test('loads into the pricing table; an updated table replaces it; the session stays locked down', async () => {
    const dataDir = tmpDir();
    let s = await openSession({ dataDir, now: NOW, recent: [] });
    try {
      const [src] = await s.query('SELECT * FROM pricing_source');
      assert.equal(src!.bundled, true);
      assert.equal(src!.models, readPricingFile(bundledPricingFile).models.length);
      const [n] = await s.query('SELECT count(*) AS n, count(DISTINCT model) AS d FROM pricing');
      assert.equal(n!.n, src!.models);
      assert.equal(n!.d, src!.models);
    } finally {
      s.close();
    }
    writePricingFile(dataPricingFile(dataDir), { source: { url: 'u', commit: null, date: null, fetched: 'f' }, models: [row('gpt-x')] });
    s = await openSession({ dataDir, now: NOW, recent: [] });
    try {
      assert.deepEqual(await s.query('SELECT bundled, models, source_url FROM pricing_source'), [{ bundled: false, models: 1, source_url: 'u' }]);
      assert.deepEqual(await s.query('SELECT model FROM pricing'), [{ model: 'gpt-x' }]);
      // Loaded before the lockdown: the file itself is out of reach afterwards.
      await assert.rejects(s.query(`SELECT * FROM read_json('${dataPricingFile(dataDir)}')`), /Permission Error|disabled|not allowed/i);
      await assert.rejects(s.query('SET enable_external_access = true'), /lock|configuration/i);
    } finally {
      s.close();
    }
  });
});

describe('normalizing LiteLLM entries', () => {
  const doc = {
    sample_spec: { input_cost_per_token: 'one of ...', mode: 'one of: chat, embedding' },
    'claude-full': {
      litellm_provider: 'anthropic', mode: 'chat', max_tokens: 64000, supports_vision: true,
      input_cost_per_token: 3e-6, output_cost_per_token: 1.5e-5, cache_creation_input_token_cost: 3.75e-6,
      cache_creation_input_token_cost_above_1hr: 6e-6, cache_read_input_token_cost: 3e-7,
      input_cost_per_token_above_200k_tokens: 6e-6, output_cost_per_token_above_200k_tokens: 2.25e-5,
      cache_creation_input_token_cost_above_200k_tokens: 7.5e-6, cache_creation_input_token_cost_above_1hr_above_200k_tokens: 1.2e-5,
      cache_read_input_token_cost_above_200k_tokens: 6e-7, provider_specific_entry: { us: 1.1, fast: 6 },
      search_context_cost_per_query: { search_context_size_low: 0.01 },
    },
    'anthropic/claude-bare': { input_cost_per_token: 1e-6, output_cost_per_token: 5e-6, cache_read_input_token_cost: null },
    'gpt-5-codex': { litellm_provider: 'openai', mode: 'responses', input_cost_per_token: 1.25e-6, output_cost_per_token: 1e-5 },
    'gemini/gemini-x': { litellm_provider: 'gemini', mode: 'chat', input_cost_per_token: 1e-7, output_cost_per_token: 4e-7 },
    'gpt-image-1': { mode: 'image_generation', input_cost_per_token: -5, output_cost_per_image: 'n/a' },
    'mistral/bad': { mode: 'chat', input_cost_per_token: -1 },
    'gpt-realtime': { mode: 'realtime', input_cost_per_token: 'x' },
    'o3-no-output': { mode: 'chat', input_cost_per_token: 2e-6 },
    last_updated: '2026-07-24T18:23:43Z',
  };

  test('keeps the wanted chat models, tolerates the rest, and names what it skips', () => {
    const { file, skipped } = normalizeLiteLLM(doc, { url: 'u', commit: 'c', date: 'd', fetched: 'f' });
    assert.deepEqual(file.models.map((m) => m.model), ['anthropic/claude-bare', 'claude-full', 'gemini/gemini-x', 'gpt-5-codex']);
    assert.deepEqual(file.models[1], {
      model: 'claude-full', provider: 'anthropic', input: 3e-6, output: 1.5e-5, cache_write_5m: 3.75e-6, cache_write_1h: 6e-6,
      cache_read: 3e-7, input_above_200k: 6e-6, output_above_200k: 2.25e-5, cache_write_above_200k: 7.5e-6,
      cache_write_1h_above_200k: 1.2e-5, cache_read_above_200k: 6e-7, fast_multiplier: 6,
    });
    assert.deepEqual(file.models[0], { ...row('anthropic/claude-bare', { input: 1e-6, output: 5e-6 }), provider: null });
    assert.deepEqual(skipped, [{ model: 'o3-no-output', reason: 'no output_cost_per_token' }]);
    assert.deepEqual(file.source, { url: 'u', commit: 'c', date: 'd', fetched: 'f' });
  });

  test('a bad number in a wanted chat entry is an error naming the model and the field', () => {
    const bad: Array<[unknown, RegExp]> = [
      [{ 'claude-neg': { input_cost_per_token: -3e-6, output_cost_per_token: 1e-5 } }, /claude-neg: input_cost_per_token: must be a finite number >= 0, not -0\.000003/],
      [{ 'gpt-nan': { input_cost_per_token: 1e-6, output_cost_per_token: 'NaN' } }, /gpt-nan: output_cost_per_token: must be a finite number >= 0, not "NaN"/],
      [{ 'gemini-inf': { input_cost_per_token: Infinity, output_cost_per_token: 1e-6 } }, /gemini-inf: input_cost_per_token: .*not Infinity/],
      [{ 'claude-fast': { input_cost_per_token: 1e-6, output_cost_per_token: 1e-6, provider_specific_entry: { fast: -2 } } }, /claude-fast: provider_specific_entry\.fast: must be/],
      [{ 'claude-str': 'cheap' }, /claude-str: the entry must be an object, not string/],
      [[{ model: 'claude-x' }], /expected a JSON object of model entries, got an array/],
      [{ 'dall-e-3': { mode: 'image_generation', input_cost_per_token: 1 } }, /no usable model/],
    ];
    for (const [input, why] of bad) {
      assert.throws(() => normalizeLiteLLM(input, { url: null, commit: null, date: null, fetched: 'f' }), why, JSON.stringify(input));
    }
  });

  test('diff against the table it replaces: added, removed, repriced', () => {
    const a = [row('a'), row('b'), row('c')];
    const b = [row('a'), row('b', { output: 3 * M }), row('d')];
    assert.deepEqual(diffTables(a, b), { added: ['d'], removed: ['c'], repriced: ['b'] });
  });
});

// ---------------------------------------------------------------------------------------------

describe('vc_price_model: a logged name to a pricing.model', () => {
  let s: Session;
  before(async () => {
    s = await sessionWith([
      row('claude-sonnet-4-5'), row('claude-opus-4-1'), row('claude-opus-4-1-20250805'), row('claude-opus-4-6'),
      row('anthropic/claude-only-prefixed'),
      row('gpt-5'), row('openai/gpt-9'), row('azure/gpt-9'), row('azure/gpt-az'), row('openrouter/openai/gpt-or'),
      row('gemini/gemini-2.5-pro'), row('vertex_ai/gemini-vx'), row('google/gemini-g'), row('openrouter/google/gemini-org'),
    ]);
  });
  after(() => s.close());

  test('given rows -> expected rows', async () => {
    const cases: Array<[string | null, string | null, string | null]> = [
      // agent, logged model, expected pricing.model
      ['claude', 'claude-sonnet-4-5', 'claude-sonnet-4-5'], // 1. exact
      ['claude', 'claude-opus-4-1-20250805', 'claude-opus-4-1-20250805'], // exact beats date stripping
      ['claude', 'claude-sonnet-4-5-20250929', 'claude-sonnet-4-5'], // 4. date suffix dropped
      ['claude', 'claude-sonnet-4-5@20250929', 'claude-sonnet-4-5'], // vertex-style date
      ['claude', 'claude-opus-4-6-fast', 'claude-opus-4-6'], // 0. -fast is speed, not name
      ['claude', 'claude-only-prefixed', 'anthropic/claude-only-prefixed'], // 2. provider prefix
      ['claude', 'claude-only-prefixed-20260101', 'anthropic/claude-only-prefixed'], // 4 then 2
      ['codex', 'gpt-5', 'gpt-5'],
      ['codex', 'gpt-5-codex', 'gpt-5'], // 3. alias
      ['codex', 'gpt-9', 'openai/gpt-9'], // openai/ before azure/
      ['codex', 'gpt-az', 'azure/gpt-az'],
      ['codex', 'gpt-or', 'openrouter/openai/gpt-or'],
      ['gemini', 'gemini-2.5-pro', 'gemini/gemini-2.5-pro'],
      ['gemini', 'gemini-g', 'google/gemini-g'],
      ['gemini', 'gemini-vx', 'vertex_ai/gemini-vx'],
      ['gemini', 'gemini-org', 'openrouter/google/gemini-org'],
      ['claude', 'gpt-9', null], // an agent tries only its provider's prefixes
      ['gemini', 'claude-only-prefixed', null],
      [null, 'gpt-9', 'openai/gpt-9'], // no agent: every prefix
      [null, 'claude-only-prefixed', 'anthropic/claude-only-prefixed'],
      ['claude', 'claude-sonnet-9', null], // unknown: no fuzzy guess
      ['claude', 'sonnet-4-5', null],
      ['claude', '', null],
      ['claude', null, null],
    ];
    const rows = await s.query(`SELECT agent, model, vc_price_model(agent, model) AS resolved
      FROM ${values(cases.map(([a, m]) => [a, m]), ['agent', 'model'])}`);
    assert.deepEqual(rows.map((r) => [r.agent, r.model, r.resolved]), cases);
  });

  test('vc_price returns the resolved row, NULL for an unknown name', async () => {
    const [r] = await s.query(`SELECT vc_price('codex', 'gpt-5-codex').model AS a, vc_price('codex', 'nope') AS b`);
    assert.deepEqual(r, { a: 'gpt-5', b: null });
  });
});

describe('cost macros: given usage rows -> expected cost', () => {
  let s: Session;
  before(async () => {
    s = await sessionWith([
      // Claude with tiers and fast mode; 1h writes priced at 2 x input (no 1h rate given).
      row('claude-t', {
        input: 3 * M, output: 15 * M, cache_write_5m: 3.75 * M, cache_read: 0.3 * M,
        input_above_200k: 6 * M, output_above_200k: 22.5 * M, cache_write_above_200k: 7.5 * M, cache_read_above_200k: 0.6 * M,
        fast_multiplier: 6,
      }),
      // An explicit 1h rate, no tiers, no fast price.
      row('claude-h', { input: 1 * M, output: 5 * M, cache_write_5m: 1.25 * M, cache_write_1h: 2 * M, cache_read: 0.1 * M }),
      // No cache-write price at all.
      row('claude-nocache', { input: 1 * M, output: 5 * M }),
      // Codex: tiers present in the table but not applied; one model without a cache-read price.
      row('gpt-5', { input: 1.25 * M, output: 10 * M, cache_read: 0.125 * M, input_above_200k: 9 * M }),
      row('gpt-nocr', { input: 2 * M, output: 8 * M }),
      // Gemini: tiers not applied.
      row('gemini/gemini-t', { input: 1.25 * M, output: 10 * M, cache_read: 0.125 * M, input_above_200k: 2.5 * M, output_above_200k: 15 * M }),
      row('gemini-nocr', { input: 1 * M, output: 4 * M }),
    ]);
  });
  after(() => s.close());

  const claudeCols = ['id', 'model', 'speed', 'input', 'output', 'c5m', 'c1h', 'cread'];
  const claudeCases: Array<[string, string | null, string | null, number | null, number | null, number | null, number | null, number | null, number | null]> = [
    // id, model, speed, input, output, cache 5m, cache 1h, cache read -> expected USD
    ['plain', 'claude-t-20250929', null, 1000, 500, 2000, 0, 10000, 0.003 + 0.0075 + 0.0075 + 0.003],
    ['at 200k: base only', 'claude-t', 'standard', 200_000, 0, 0, 0, 0, 0.6],
    ['input and output cross 200k', 'claude-t', null, 300_000, 250_000, 0, 0, 0, (0.6 + 100_000 * 6 * M) + (3.0 + 50_000 * 22.5 * M)],
    ['cache write and read cross 200k', 'claude-t', null, 0, 0, 300_000, 0, 250_000, (0.75 + 0.75) + (0.06 + 0.03)],
    ['1h writes at 2 x input', 'claude-t', null, 0, 0, 0, 100_000, 0, 0.6],
    ['1h writes cross 200k at 2 x input above', 'claude-t', null, 0, 0, 0, 300_000, 0, 1.2 + 100_000 * 12 * M],
    ['1h writes at their own rate', 'claude-h', null, 0, 0, 0, 100_000, 0, 0.2],
    ['no tier rate: all at base', 'claude-h', null, 300_000, 0, 0, 0, 0, 0.3],
    ['fast', 'claude-t', 'fast', 1000, 500, 0, 0, 0, (0.003 + 0.0075) * 6],
    ['fast via -fast name', 'claude-t-fast', 'fast', 1000, 500, 0, 0, 0, (0.003 + 0.0075) * 6],
    ['fast without a fast price', 'claude-h', 'fast', 1000, 500, 0, 0, 0, null],
    ['missing token counts are 0', 'claude-h', null, 1000, null, null, null, null, 0.001],
    ['cache writes without a price', 'claude-nocache', null, 1000, 0, 500, 0, 0, null],
    ['no cache writes: the missing price does not matter', 'claude-nocache', null, 1000, 100, 0, 0, 0, 0.001 + 0.0005],
    ['unknown model', 'claude-unknown-9', null, 1000, 500, 0, 0, 0, null],
    ['unknown model, no tokens', 'claude-unknown-9', null, 0, 0, 0, 0, 0, null],
    ['known model, no tokens', 'claude-t', null, 0, 0, 0, 0, 0, 0],
  ];

  test('Claude: tiers per component, 1h writes, fast; unknown model -> NULL with tokens kept', async () => {
    const rows = await s.query(`SELECT id, input, output, c5m, c1h, cread,
        vc_cost_claude(model, speed, input, output, c5m, c1h, cread) AS cost
      FROM ${values(claudeCases.map((c) => c.slice(0, 8) as Array<string | number | null>), claudeCols)}`);
    assert.equal(rows.length, claudeCases.length);
    rows.forEach((r, i) => {
      const c = claudeCases[i]!;
      assert.equal(r.id, c[0]);
      assert.deepEqual([r.input, r.output, r.c5m, r.c1h, r.cread], c.slice(3, 8), `${c[0]}: tokens kept`);
      close(r.cost, c[8], c[0]);
    });
  });

  test('Claude: the join pattern (pricing joined on the resolved name, *_at macro) gives the same costs', async () => {
    const rows = await s.query(`SELECT t.id, vc_cost_claude_at(p, t.speed, t.input, t.output, t.c5m, t.c1h, t.cread) AS cost
      FROM ${values(claudeCases.map((c) => c.slice(0, 8) as Array<string | number | null>), claudeCols)}
      LEFT JOIN pricing p ON p.model = vc_price_model('claude', t.model)`);
    const byId = new Map(rows.map((r) => [r.id, r.cost]));
    for (const c of claudeCases) close(byId.get(c[0]), c[8], `${c[0]} (join)`);
  });

  test('Codex: (input - cached) at input, cached at cache read (else input), output; no tiers', async () => {
    const cases: Array<[string, string, number | null, number | null, number | null, number | null]> = [
      // id, model, input, cached input, output -> expected USD
      ['plain', 'gpt-5', 10_000, 8000, 1000, 2000 * 1.25 * M + 8000 * 0.125 * M + 1000 * 10 * M],
      ['alias', 'gpt-5-codex', 10_000, 8000, 1000, 2000 * 1.25 * M + 8000 * 0.125 * M + 1000 * 10 * M],
      ['no cache-read price: cached at input', 'gpt-nocr', 10_000, 8000, 1000, 0.004 + 0.016 + 0.008],
      ['no tier beyond 200k', 'gpt-5', 300_000, 0, 0, 0.375],
      ['cached missing', 'gpt-5', 1000, null, 0, 0.00125],
      ['unknown model', 'gpt-unknown', 1000, 0, 10, null],
    ];
    const rows = await s.query(`SELECT id, input, cached, output, vc_cost_codex(model, input, cached, output) AS cost,
        (SELECT vc_cost_codex_at(p, t.input, t.cached, t.output) FROM pricing p WHERE p.model = vc_price_model('codex', t.model)) AS cost_at
      FROM ${values(cases.map((c) => c.slice(0, 5) as Array<string | number | null>), ['id', 'model', 'input', 'cached', 'output'])}`);
    rows.forEach((r, i) => {
      const c = cases[i]!;
      assert.deepEqual([r.id, r.input, r.cached, r.output], [c[0], ...c.slice(2, 5)], `${c[0]}: tokens kept`);
      close(r.cost, c[5], c[0]);
      close(r.cost_at, c[5], `${c[0]} (_at)`);
    });
  });

  test('Gemini: (input - min(input, cached)) at input, cached at cache read, output + thoughts at output; no tiers', async () => {
    const cases: Array<[string, string, number, number, number, number, number | null]> = [
      // id, model, input, cached, output, thoughts -> expected USD (the example line of the upstream doc)
      ['doc example', 'gemini-t', 12_840, 8192, 96, 311, 4648 * 1.25 * M + 8192 * 0.125 * M + 407 * 10 * M],
      ['cached above input', 'gemini-t', 100, 150, 0, 0, 150 * 0.125 * M],
      ['no tier beyond 200k', 'gemini-t', 300_000, 0, 300_000, 0, 0.375 + 3.0],
      ['cached without a cache-read price', 'gemini-nocr', 1000, 500, 0, 0, null],
      ['no cache use: the missing price does not matter', 'gemini-nocr', 1000, 0, 10, 5, 0.001 + 15 * 4 * M],
      ['unknown model', 'gemini-9-ultra', 1000, 0, 0, 0, null],
    ];
    const rows = await s.query(`SELECT id, vc_cost_gemini(model, input, cached, output, thoughts) AS cost
      FROM ${values(cases.map((c) => c.slice(0, 6)), ['id', 'model', 'input', 'cached', 'output', 'thoughts'])}`);
    rows.forEach((r, i) => close(r.cost, cases[i]![6], cases[i]![0]));
  });
});

// ---------------------------------------------------------------------------------------------

describe('vc pricing update and show', () => {
  let dir: string;
  let env: NodeJS.ProcessEnv;
  let active: string;
  before(() => {
    dir = tmpDir();
    env = { VC_DATA_DIR: path.join(dir, 'data'), VC_CONFIG: path.join(dir, 'vc.toml') };
    fs.writeFileSync(env.VC_CONFIG!, '');
    active = dataPricingFile(env.VC_DATA_DIR!);
  });

  const litellm = (doc: unknown, name: string) => {
    const file = path.join(dir, name);
    fs.writeFileSync(file, typeof doc === 'string' ? doc : JSON.stringify(doc, null, 4));
    return file;
  };
  const good = {
    'claude-sonnet-4-5': {
      litellm_provider: 'anthropic', mode: 'chat', input_cost_per_token: 3e-6, output_cost_per_token: 1.5e-5,
      cache_creation_input_token_cost: 3.75e-6, cache_read_input_token_cost: 3e-7,
    },
    'claude-new-7': { litellm_provider: 'anthropic', mode: 'chat', input_cost_per_token: 4e-6, output_cost_per_token: 2e-5 },
    'gpt-5': { litellm_provider: 'openai', mode: 'chat', input_cost_per_token: 1.25e-6, output_cost_per_token: 1e-5, cache_read_input_token_cost: 1.25e-7 },
    'dall-e-3': { mode: 'image_generation', output_cost_per_image: 0.04 },
  };

  /** The active file's bytes, or null when there is none: bad input must leave it as it was. */
  const snapshot = () => (fs.existsSync(active) ? fs.readFileSync(active, 'utf8') : null);

  test('bad input exits 2 naming what is wrong, and the active table is untouched', () => {
    const bad: Array<[string[], RegExp]> = [
      [['--from', litellm('{"claude-x": {"input_cost_per_token": 1e-6,', 'truncated.json')], /truncated\.json is not JSON/],
      [['--from', litellm([{ 'claude-x': {} }], 'array.json')], /expected a JSON object of model entries, got an array/],
      [['--from', litellm('"just a string"', 'string.json')], /expected a JSON object of model entries, got string/],
      [['--from', litellm({ ...good, 'claude-neg': { mode: 'chat', input_cost_per_token: -3e-6, output_cost_per_token: 1e-5 } }, 'negative.json')],
        /claude-neg: input_cost_per_token: must be a finite number >= 0, not -0\.000003/],
      [['--from', litellm({ ...good, 'gpt-nan': { mode: 'chat', input_cost_per_token: 'NaN', output_cost_per_token: 1e-5 } }, 'nan.json')],
        /gpt-nan: input_cost_per_token: must be a finite number >= 0, not "NaN"/],
      [['--from', litellm(JSON.stringify(good).replace('1.25e-7', '1e999'), 'infinite.json')], /gpt-5: cache_read_input_token_cost: .*not Infinity/],
      [['--from', litellm({ 'dall-e-3': good['dall-e-3'], 'mistral/large': { mode: 'chat', input_cost_per_token: 1e-6, output_cost_per_token: 1e-6 } }, 'none.json')],
        /no usable model/],
      [['--from', path.join(dir, 'missing.json')], /cannot read .*missing\.json/],
      [[], /--from FILE is required/],
      [['--from', litellm(good, 'good-but-bad-date.json'), '--date', 'yesterday'], /--date "yesterday" is not a time/],
    ];
    for (const first of [true, false]) {
      if (!first) assert.equal(vc(['pricing', 'update', '--from', litellm(good, 'good.json')], env).code, 0);
      const before = snapshot();
      assert.equal(before === null, first, first ? 'no table written yet' : 'a table is active');
      for (const [args, why] of bad) {
        const r = vc(['pricing', 'update', ...args, '--json'], env);
        assert.equal(r.code, 2, `${args.join(' ')}: exit ${r.code} ${r.stderr}`);
        assert.match(r.stderr, why, args.join(' '));
        assert.equal(r.stdout, '', 'nothing on stdout');
        assert.equal(snapshot(), before, `${args.join(' ')}: the active table is unchanged`);
      }
      const left = fs.existsSync(path.dirname(active)) ? fs.readdirSync(path.dirname(active)) : [];
      assert.deepEqual(left.filter((f) => f !== 'litellm.json'), [], 'no temp file left');
    }
  });

  test('a good file: counted against the active table, written, and then used by the views', () => {
    fs.rmSync(active, { force: true });
    const bundled = readPricingFile(bundledPricingFile).models;
    const r = vc(['pricing', 'update', '--from', litellm(good, 'good.json'), '--url', 'https://example.test/prices.json',
      '--commit', 'abc123', '--date', '2026-07-01T00:00:00Z', '--json'], env);
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout);
    assert.equal(out.schema_version, 'vc.pricing_update.v1');
    const table: PricingFile = readPricingFile(active);
    const expected = diffTables(bundled, table.models);
    assert.deepEqual(table.models.map((m) => m.model), ['claude-new-7', 'claude-sonnet-4-5', 'gpt-5']);
    assert.equal(out.data.models, 3);
    assert.deepEqual(out.data.diff, expected, 'compared with the bundled table it replaces');
    assert.deepEqual(expected.added, ['claude-new-7']);
    assert.equal(out.data.changed, expected.added.length + expected.removed.length + expected.repriced.length);
    assert.deepEqual(table.source, { url: 'https://example.test/prices.json', commit: 'abc123', date: '2026-07-01T00:00:00Z', fetched: table.source.fetched, note: null });

    // Again with one price changed: one repriced, nothing else.
    const changed = { ...good, 'gpt-5': { ...good['gpt-5'], output_cost_per_token: 1.2e-5 } };
    const md = vc(['pricing', 'update', '--from', litellm(changed, 'changed.json')], env);
    assert.equal(md.code, 0, md.stderr);
    assert.match(md.stdout, /3 models, 1 changed vs the previous table \(0 added, 0 removed, 1 repriced\)/);
    assert.match(md.stdout, /repriced: gpt-5/);

    const show = JSON.parse(vc(['pricing', 'show', '--json'], env).stdout);
    assert.equal(show.schema_version, 'vc.pricing.v1');
    assert.equal(show.data.source.bundled, false);
    assert.equal(show.data.source.models, 3);
    assert.deepEqual(show.data.models.map((m: Row) => m.model), ['claude-new-7', 'claude-sonnet-4-5', 'gpt-5']);
    const q = vc(['query', "SELECT vc_cost_codex('gpt-5-codex', 1000, 0, 1000) AS cost", '--format', 'json'], env);
    assert.equal(q.code, 0, q.stderr);
    close(JSON.parse(q.stdout).data.rows[0].cost, 1000 * 1.25 * M + 1000 * 12 * M, 'views use the updated table');
  });

  test('show --model: the entry a name resolves to, with its prices; unknown names exit 1', () => {
    const fresh = { VC_DATA_DIR: path.join(dir, 'fresh'), VC_CONFIG: env.VC_CONFIG };
    const r = vc(['pricing', 'show', '--model', 'claude-sonnet-4-5-20250929', '--json'], fresh);
    assert.equal(r.code, 0, r.stderr);
    const d = JSON.parse(r.stdout).data;
    assert.equal(d.source.bundled, true);
    assert.equal(d.resolved, 'claude-sonnet-4-5-20250929');
    assert.equal(d.price.input, 3 * M);

    const fast = JSON.parse(vc(['pricing', 'show', '--model', 'claude-opus-4-6-fast', '--agent', 'claude', '--json'], fresh).stdout).data;
    assert.equal(fast.resolved, 'claude-opus-4-6');
    assert.equal(fast.price.fast_multiplier, 6);

    const md = vc(['pricing', 'show', '--model', 'gemini-2.5-pro'], fresh);
    assert.equal(md.code, 0, md.stderr);
    assert.match(md.stdout, /`gemini-2\.5-pro` resolves to `gemini-2\.5-pro`/);
    assert.match(md.stdout, /\| gemini-2\.5-pro \| vertex_ai-language-models \| 1\.25 \| 10 \|/);

    const unknown = vc(['pricing', 'show', '--model', 'claude-nonesuch-1', '--json'], fresh);
    assert.equal(unknown.code, 1);
    const u = JSON.parse(unknown.stdout);
    assert.equal(u.data.resolved, null);
    assert.equal(u.data.price, null);
    assert.match(u.warnings[0], /no price for "claude-nonesuch-1"/);

    assert.equal(vc(['pricing', 'show', '--model', 'x', '--agent', 'cursor'], fresh).code, 2);
    assert.equal(vc(['pricing', 'show', '--md', '--json'], fresh).code, 2);
    assert.equal(vc(['pricing', 'show', '--bogus'], fresh).code, 2);
    const all = vc(['pricing', 'show'], fresh);
    assert.equal(all.code, 0, all.stderr);
    assert.match(all.stdout, /^# vc pricing\n\n\d+ models from `https:\/\/raw\.githubusercontent\.com\/BerriAI\/litellm/);
  });
});

test('a damaged updated table is not used: the bundled one is, with a warning naming the file', async () => {
  const dir = tmpDir('vc-pricing-damaged-');
  const file = path.join(dir, 'pricing', 'litellm.json');
  fs.mkdirSync(path.dirname(file), { recursive: true });
  for (const text of ['{"models": [', '{"source": {}, "models": [{"model": "x", "input": -1}]}']) {
    fs.writeFileSync(file, text);
    const r = vc(['query', "SELECT count(*) AS n FROM pricing WHERE model = 'claude-sonnet-4-5'", '--format', 'csv'], { VC_DATA_DIR: dir, VC_CONFIG: '/dev/null' });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.trim().split('\n')[1], '1', 'the bundled prices');
    assert.match(r.stderr, new RegExp(`pricing table ${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}.*using the bundled prices`));
    assert.equal(fs.readFileSync(file, 'utf8'), text, 'the damaged file is left as it is');
  }
});
