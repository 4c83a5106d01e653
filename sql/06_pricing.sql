-- Model prices and the cost of agent usage (lib/pricing.ts; README, "Pricing").
-- The active table is vc's normalized copy of LiteLLM's price list: the bundled
-- sql/pricing/litellm.json, or <data_dir>/pricing/litellm.json after `vc pricing update`;
-- lib/duck.ts names it in vc_pricing_file. Every price is USD per token.
--
-- Matching a logged model name to a row (vc_price_model), first hit wins:
--   0. a trailing "-fast" is dropped (speed is its own column, not part of the name);
--   1. the name itself;
--   2. the name behind a provider prefix, for the agent's provider: claude -> anthropic/;
--      codex -> openai/, azure/, openrouter/openai/; gemini -> gemini/, google/, vertex_ai/,
--      openrouter/google/ (any other or NULL agent: all of them, in that order);
--   3. an alias (gpt-5-codex -> gpt-5, gpt-5.1-codex -> gpt-5.1, gpt-5.2-codex -> gpt-5.2), then 1-2;
--   4. without an Anthropic date suffix (claude-sonnet-4-5-20250929 -> claude-sonnet-4-5,
--      also @20250929), then 1-2.
-- This is ccusage's order (exact, provider prefixes, Codex aliases; the Rust ccusage adds the
-- date suffix) minus its last resort, a fuzzy substring match: a name nothing matches has no
-- price, and its cost is NULL, never a guess.
--
-- Costs over many rows: join `pricing` on the resolved name and use the *_at macros, which only
-- do arithmetic on the joined row (about 0.1 s per million rows on 2 cores):
--   SELECT u.*, vc_cost_claude_at(p, u.speed, u.input_tokens, u.output_tokens, u.cache_5m_tokens,
--                                 u.cache_1h_tokens, u.cache_read_tokens) AS cost_usd
--   FROM claude_usage u LEFT JOIN pricing p ON p.model = vc_price_model('claude', u.model)
-- vc_cost_claude/vc_cost_codex/vc_cost_gemini take the logged model name and do the lookup
-- themselves: the same numbers, for a few rows or ad-hoc queries (about 0.5 s per million rows).

CREATE TABLE pricing_doc AS
SELECT * FROM read_json(getvariable('vc_pricing_file'), format = 'auto', columns = {
  source: 'STRUCT(url VARCHAR, "commit" VARCHAR, date VARCHAR, fetched VARCHAR, note VARCHAR)',
  models: 'STRUCT(model VARCHAR, provider VARCHAR, input DOUBLE, output DOUBLE, cache_write_5m DOUBLE,
    cache_write_1h DOUBLE, cache_read DOUBLE, input_above_200k DOUBLE, output_above_200k DOUBLE,
    cache_write_above_200k DOUBLE, cache_write_1h_above_200k DOUBLE, cache_read_above_200k DOUBLE,
    fast_multiplier DOUBLE)[]'});

CREATE TABLE pricing (
  model VARCHAR PRIMARY KEY,
  provider VARCHAR,
  input DOUBLE NOT NULL,
  output DOUBLE NOT NULL,
  cache_write_5m DOUBLE,
  cache_write_1h DOUBLE,
  cache_read DOUBLE,
  input_above_200k DOUBLE,
  output_above_200k DOUBLE,
  cache_write_above_200k DOUBLE,
  cache_write_1h_above_200k DOUBLE,
  cache_read_above_200k DOUBLE,
  fast_multiplier DOUBLE
);
INSERT INTO pricing
SELECT m.model, m.provider, m.input, m.output, m.cache_write_5m, m.cache_write_1h, m.cache_read,
  m.input_above_200k, m.output_above_200k, m.cache_write_above_200k, m.cache_write_1h_above_200k,
  m.cache_read_above_200k, m.fast_multiplier
FROM (SELECT unnest(models) AS m FROM pricing_doc);
COMMENT ON TABLE pricing IS 'Model prices in USD per token (LiteLLM''s list, normalized; see pricing_source): input, output, cache writes (5m; 1h, NULL = 2 x input), cache reads, the rates beyond 200k tokens of a component, and the fast-mode multiplier. Resolve a logged name with vc_price_model(agent, model)';
COMMENT ON COLUMN pricing.model IS 'LiteLLM model name, e.g. claude-sonnet-4-5, gpt-5, gemini-2.5-pro';
COMMENT ON COLUMN pricing.provider IS 'LiteLLM litellm_provider';
COMMENT ON COLUMN pricing.input IS 'USD per uncached input token';
COMMENT ON COLUMN pricing.output IS 'USD per output token (reasoning and thoughts included)';
COMMENT ON COLUMN pricing.cache_write_5m IS 'USD per cache-write token, 5-minute TTL';
COMMENT ON COLUMN pricing.cache_write_1h IS 'USD per cache-write token, 1-hour TTL; NULL means 2 x input';
COMMENT ON COLUMN pricing.cache_read IS 'USD per cache-read (cached input) token';
COMMENT ON COLUMN pricing.fast_multiplier IS 'Multiplier on the whole cost when speed = fast; NULL: no known fast price';

CREATE TABLE pricing_source AS
SELECT source.url AS source_url, source."commit" AS source_commit, source.date AS source_date,
  source.fetched AS fetched_at, source.note AS note, getvariable('vc_pricing_bundled')::BOOLEAN AS bundled,
  len(models) AS models
FROM pricing_doc;
COMMENT ON TABLE pricing_source IS 'Where the active pricing table comes from: upstream URL, commit and date when known, when vc normalized it, whether it is the table bundled with vc (else one written by vc pricing update), and its number of models';
DROP TABLE pricing_doc;

-- The table's model names as an ENUM: testing a name is a hash lookup, and its code indexes
-- vc_pricing_rows (the rows as structs, in ENUM order; set each session by sql/session/06_pricing.sql),
-- so no per-row subquery or join is needed.
CREATE TYPE vc_pricing_model AS ENUM (SELECT model FROM pricing ORDER BY model);

CREATE MACRO vc_is_priced(name) AS TRY_CAST(name AS vc_pricing_model) IS NOT NULL;

-- A sum of dollars that is the same every time: a DOUBLE sum depends on the order DuckDB's threads
-- add in, so the same report would differ in its last digits from run to run.
CREATE MACRO vc_sum_usd(usd) AS sum(usd::DECIMAL(38, 12))::DOUBLE;

-- The provider whose prefixes an agent's model names may need: claude, codex, gemini, else any.
CREATE MACRO vc_price_family(agent) AS CASE lower(agent)
  WHEN 'claude' THEN 'anthropic' WHEN 'claude-code' THEN 'anthropic'
  WHEN 'codex' THEN 'openai' WHEN 'gemini' THEN 'google' ELSE 'any' END;

-- Steps 1-2: the name, else the name behind one of the agent's provider prefixes; NULL if none is priced.
CREATE MACRO vc_price_prefixed(agent, name) AS CASE
  WHEN name IS NULL OR name = '' THEN NULL
  WHEN vc_is_priced(name) THEN name
  WHEN vc_price_family(agent) IN ('anthropic', 'any') AND vc_is_priced('anthropic/' || name) THEN 'anthropic/' || name
  WHEN vc_price_family(agent) IN ('openai', 'any') AND vc_is_priced('openai/' || name) THEN 'openai/' || name
  WHEN vc_price_family(agent) IN ('openai', 'any') AND vc_is_priced('azure/' || name) THEN 'azure/' || name
  WHEN vc_price_family(agent) IN ('openai', 'any') AND vc_is_priced('openrouter/openai/' || name) THEN 'openrouter/openai/' || name
  WHEN vc_price_family(agent) IN ('google', 'any') AND vc_is_priced('gemini/' || name) THEN 'gemini/' || name
  WHEN vc_price_family(agent) IN ('google', 'any') AND vc_is_priced('google/' || name) THEN 'google/' || name
  WHEN vc_price_family(agent) IN ('google', 'any') AND vc_is_priced('vertex_ai/' || name) THEN 'vertex_ai/' || name
  WHEN vc_price_family(agent) IN ('google', 'any') AND vc_is_priced('openrouter/google/' || name) THEN 'openrouter/google/' || name
  END;

-- Step 0: the logged name without a trailing -fast.
CREATE MACRO vc_model_base(model) AS CASE WHEN ends_with(model, '-fast') THEN substr(model, 1, length(model) - 5) ELSE model END;
-- Step 3: names a release logs that LiteLLM lists under another (ccusage's Codex aliases); NULL otherwise.
CREATE MACRO vc_model_alias(name) AS CASE name
  WHEN 'gpt-5-codex' THEN 'gpt-5' WHEN 'gpt-5.1-codex' THEN 'gpt-5.1' WHEN 'gpt-5.2-codex' THEN 'gpt-5.2' END;
-- Step 4: the name without an 8-digit date suffix (-YYYYMMDD or @YYYYMMDD); NULL when it has none.
CREATE MACRO vc_model_undated(name) AS CASE WHEN regexp_matches(name, '[-@][0-9]{8}$') THEN substr(name, 1, length(name) - 9) END;

-- The pricing.model a logged model name resolves to, or NULL (see the top of this file).
-- Cheap per row, cheaper still on DISTINCT names.
CREATE MACRO vc_price_model(agent, model) AS coalesce(
  vc_price_prefixed(agent, vc_model_base(model)),
  vc_price_prefixed(agent, vc_model_alias(vc_model_base(model))),
  vc_price_prefixed(agent, vc_model_undated(vc_model_base(model))));

-- The pricing row (a STRUCT of pricing's columns) a logged name resolves to, or NULL.
CREATE MACRO vc_price(agent, model) AS
  getvariable('vc_pricing_rows')[enum_code(TRY_CAST(vc_price_model(agent, model) AS vc_pricing_model)) + 1];

-- n tokens at `price`: 0 tokens (or NULL, or negative) cost 0 whatever the price; tokens without a price cost NULL.
CREATE MACRO vc_token_cost(n, price) AS CASE WHEN coalesce(n, 0) <= 0 THEN 0::DOUBLE ELSE n * price END;
-- ccusage's per-component tier: the first 200k tokens of a component at `base`, the rest at
-- `above` when there is such a rate, else all at `base`.
CREATE MACRO vc_tiered_cost(n, base, above) AS CASE
  WHEN coalesce(n, 0) <= 0 THEN 0::DOUBLE
  WHEN above IS NOT NULL AND n > 200000 THEN 200000 * base + (n - 200000) * above
  ELSE n * base END;

-- Claude, given the pricing row `p` (NULL, or all-NULL from an unmatched LEFT JOIN: cost NULL):
-- in, out, 5m cache writes, 1h cache writes (cache_write_1h, else 2 x input) and cache reads, each
-- tiered beyond 200k, times fast_multiplier when speed = 'fast'.
CREATE MACRO vc_cost_claude_at(p, speed, input_tokens, output_tokens, cache_5m_tokens, cache_1h_tokens, cache_read_tokens) AS
  CASE WHEN p.model IS NULL THEN NULL ELSE
    (vc_tiered_cost(input_tokens, p.input, p.input_above_200k)
     + vc_tiered_cost(output_tokens, p.output, p.output_above_200k)
     + vc_tiered_cost(cache_5m_tokens, p.cache_write_5m, p.cache_write_above_200k)
     + vc_tiered_cost(cache_1h_tokens, coalesce(p.cache_write_1h, 2 * p.input),
                      coalesce(p.cache_write_1h_above_200k, 2 * p.input_above_200k))
     + vc_tiered_cost(cache_read_tokens, p.cache_read, p.cache_read_above_200k))
    * CASE WHEN speed = 'fast' THEN p.fast_multiplier ELSE 1 END
  END;

-- Codex: cached input is part of input. (input - cached) at input, cached at cache_read (else
-- input), output (reasoning included) at output. No tiers.
CREATE MACRO vc_cost_codex_at(p, input_tokens, cached_input_tokens, output_tokens) AS
  CASE WHEN p.model IS NULL THEN NULL ELSE
    vc_token_cost(greatest(coalesce(input_tokens, 0) - coalesce(cached_input_tokens, 0), 0), p.input)
    + vc_token_cost(cached_input_tokens, coalesce(p.cache_read, p.input))
    + vc_token_cost(output_tokens, p.output)
  END;

-- Gemini: cached is part of input. (input - min(input, cached)) at input, cached at cache_read,
-- output + thoughts at output. No tiers.
CREATE MACRO vc_cost_gemini_at(p, input_tokens, cached_tokens, output_tokens, thoughts_tokens) AS
  CASE WHEN p.model IS NULL THEN NULL ELSE
    vc_token_cost(coalesce(input_tokens, 0) - least(coalesce(input_tokens, 0), coalesce(cached_tokens, 0)), p.input)
    + vc_token_cost(cached_tokens, p.cache_read)
    + vc_token_cost(coalesce(output_tokens, 0) + coalesce(thoughts_tokens, 0), p.output)
  END;

-- The same from a logged model name. The lambda looks the row up once per row (a macro argument
-- used n times would be evaluated n times).
CREATE MACRO vc_cost_claude(model, speed, input, output, cache_5m, cache_1h, cache_read) AS
  list_transform([vc_price('claude', model)],
    lambda vc_p: vc_cost_claude_at(vc_p, speed, input, output, cache_5m, cache_1h, cache_read))[1];
CREATE MACRO vc_cost_codex(model, input, cached_input, output) AS
  list_transform([vc_price('codex', model)], lambda vc_p: vc_cost_codex_at(vc_p, input, cached_input, output))[1];
CREATE MACRO vc_cost_gemini(model, input, cached, output, thoughts) AS
  list_transform([vc_price('gemini', model)], lambda vc_p: vc_cost_gemini_at(vc_p, input, cached, output, thoughts))[1];
