-- Agent usage from the agents' own logs: which stored facts count, and for how many tokens, by the
-- rules in ../shared/upstream/agent-logs.md (followed exactly, including its unconfirmed parts).
-- Every entry keeps its machine, session, project and model; cost comes from the pricing table.

-- Claude Code: one entry per API response.
--   1. A line re-read (same file, same text) is stored again under the same key: once.
--   2. Locally generated (<synthetic>) and API-error lines are no usage.
--   3. A sidechain copy of a message (a subagent file replaying its parent's message, under another
--      request id) is dropped when a non-sidechain copy of that message id exists.
--   4. Per message.id + requestId (message.id alone without requestId), the line with the most
--      tokens wins (streaming writes partial snapshots first), on a tie the one with `speed` set.
--      Dedup is global: copies in both roots, in resumed sessions and on other machines collapse.
--      Lines without message.id cannot be deduplicated and count as they are.
CREATE MACRO vc_usage_claude(facts) AS TABLE
WITH lines AS (
  SELECT * FROM query_table(facts)
  WHERE coalesce(model, '') <> '<synthetic>' AND NOT coalesce(is_api_error, false)
  QUALIFY row_number() OVER (PARTITION BY "key" ORDER BY collected_at) = 1
),
main_copy AS (
  SELECT DISTINCT message_id FROM lines WHERE message_id IS NOT NULL AND NOT is_sidechain
),
kept AS (
  SELECT l.* FROM lines l
  WHERE NOT (l.is_sidechain AND l.message_id IN (SELECT message_id FROM main_copy))
),
ranked AS (
  SELECT *, input_tokens + output_tokens + cache_creation_tokens + cache_read_tokens AS line_tokens
  FROM kept
)
SELECT machine_id, ts, session_id, cwd AS project, model, speed, message_id, request_id, is_sidechain,
  input_tokens,
  output_tokens,
  -- Without the TTL split, every cache write counts as a 5-minute one.
  coalesce(cache_creation_5m_tokens, CASE WHEN cache_creation_1h_tokens IS NULL THEN cache_creation_tokens ELSE 0 END) AS cache_creation_5m_tokens,
  coalesce(cache_creation_1h_tokens, 0) AS cache_creation_1h_tokens,
  cache_read_tokens,
  cost_usd AS logged_cost_usd,
  file, byte_offset
FROM ranked
QUALIFY message_id IS NULL
  OR row_number() OVER (PARTITION BY message_id, coalesce(request_id, '')
    ORDER BY line_tokens DESC, (speed IS NOT NULL) DESC, ts, "key") = 1;

CREATE VIEW v1.usage_claude AS FROM vc_usage_claude('claude_logs');
COMMENT ON VIEW v1.usage_claude IS 'Claude Code usage after dedup: one row per API response (message id + request id), the most complete snapshot; sidechain replays, <synthetic> and API-error lines dropped';

-- Codex: token_count events carry the session's cumulative usage.
--   1. An event counts only when the cumulative total differs from the previous event's in the
--      same file (Codex re-emits unchanged totals on UI and rate-limit refreshes); events without
--      usage (info: null, rate limits only) are not in that chain.
--   2. Its tokens are last_token_usage when that is consistent (previous total + last = total),
--      otherwise the change of the total, clamped at 0.
--   3. The model is the event's own, else the latest turn_context's before it in the file, else
--      gpt-5 (flagged as a fallback).
--   4. A forked session's file replays the parent's events: an event seen in several files (same
--      timestamp and cumulative counts) counts once, globally, from a file that is not a fork (also
--      a file moved to archived_sessions). Replays stay in their file's chain, so the fork's own
--      events add only what is new.
--   5. Events that add nothing are dropped.
-- `whole_files`: the facts hold each file from its start. Over the recent window they do not, and
-- the first event of each file there only serves as the base of the next (it may repeat one read
-- before the window).
CREATE MACRO vc_usage_codex(facts, whole_files) AS TABLE
WITH facts AS (
  SELECT * FROM query_table(facts)
  QUALIFY row_number() OVER (PARTITION BY "key" ORDER BY collected_at) = 1
),
ctx AS (
  SELECT *,
    last_value(CASE WHEN "type" = 'turn' THEN model END IGNORE NULLS) OVER w AS turn_model,
    last_value(CASE WHEN "type" IN ('turn', 'session') THEN cwd END IGNORE NULLS) OVER w AS ctx_cwd,
    last_value(CASE WHEN "type" = 'session' THEN session_id END IGNORE NULLS) OVER w AS ctx_session,
    last_value(CASE WHEN "type" = 'session' THEN forked_from_id END IGNORE NULLS) OVER w AS ctx_forked_from
  FROM facts
  WINDOW w AS (PARTITION BY machine_id, file ORDER BY byte_offset ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)
),
chain AS (
  SELECT *,
    lag(total_input_tokens) OVER f AS p_in, lag(total_cached_input_tokens) OVER f AS p_cached,
    lag(total_output_tokens) OVER f AS p_out, lag(total_reasoning_output_tokens) OVER f AS p_reasoning,
    lag(total_tokens) OVER f AS p_total
  FROM ctx WHERE "type" = 'tokens' AND total_input_tokens IS NOT NULL
  WINDOW f AS (PARTITION BY machine_id, file ORDER BY byte_offset)
),
changed AS (
  SELECT *,
    last_input_tokens IS NOT NULL AND last_output_tokens IS NOT NULL
      AND coalesce(p_in, 0) + last_input_tokens = total_input_tokens
      AND coalesce(p_out, 0) + last_output_tokens = total_output_tokens
      AND coalesce(p_cached, 0) + coalesce(last_cached_input_tokens, 0) = coalesce(total_cached_input_tokens, 0)
      AND coalesce(p_reasoning, 0) + coalesce(last_reasoning_output_tokens, 0) = coalesce(total_reasoning_output_tokens, 0)
      AS consistent
  FROM chain
  WHERE p_total IS NULL
    OR total_input_tokens IS DISTINCT FROM p_in OR total_cached_input_tokens IS DISTINCT FROM p_cached
    OR total_output_tokens IS DISTINCT FROM p_out OR total_reasoning_output_tokens IS DISTINCT FROM p_reasoning
    OR total_tokens IS DISTINCT FROM p_total
),
deltas AS (
  SELECT machine_id, ts, file, byte_offset, ctx_session AS session_id, ctx_cwd AS project, ctx_forked_from AS forked_from_id,
    coalesce(model, turn_model, 'gpt-5') AS model, model IS NULL AND turn_model IS NULL AS is_fallback_model,
    CASE WHEN consistent THEN last_input_tokens ELSE greatest(total_input_tokens - coalesce(p_in, 0), 0) END AS input_tokens,
    CASE WHEN consistent THEN coalesce(last_cached_input_tokens, 0) ELSE greatest(coalesce(total_cached_input_tokens, 0) - coalesce(p_cached, 0), 0) END AS cached_input_tokens,
    CASE WHEN consistent THEN last_output_tokens ELSE greatest(total_output_tokens - coalesce(p_out, 0), 0) END AS output_tokens,
    CASE WHEN consistent THEN coalesce(last_reasoning_output_tokens, 0) ELSE greatest(coalesce(total_reasoning_output_tokens, 0) - coalesce(p_reasoning, 0), 0) END AS reasoning_output_tokens,
    total_input_tokens, total_cached_input_tokens, total_output_tokens, total_reasoning_output_tokens, total_tokens AS cumulative_tokens
  FROM changed
  WHERE whole_files OR p_total IS NOT NULL
  QUALIFY row_number() OVER (PARTITION BY ts, total_input_tokens, total_cached_input_tokens, total_output_tokens,
    total_reasoning_output_tokens, total_tokens ORDER BY forked_from_id IS NOT NULL, file, byte_offset) = 1
)
SELECT machine_id, ts, session_id, project, model, is_fallback_model, forked_from_id,
  input_tokens, cached_input_tokens, output_tokens, reasoning_output_tokens, input_tokens + output_tokens AS total_tokens,
  file, byte_offset
FROM deltas
WHERE input_tokens + output_tokens + cached_input_tokens + reasoning_output_tokens > 0;

CREATE VIEW v1.usage_codex AS FROM vc_usage_codex('codex_logs', true);
COMMENT ON VIEW v1.usage_codex IS 'Codex usage: one row per token_count event that advanced its session''s cumulative total, with the tokens it added (input includes cached_input, output includes reasoning); forked replays counted once';

-- Gemini: every change of a message appends it again; the last copy per message id counts
-- (by when it was read, then where in the file). Rewound messages were billed and still count.
CREATE MACRO vc_usage_gemini(facts) AS TABLE
WITH facts AS (
  SELECT * FROM query_table(facts)
  QUALIFY row_number() OVER (PARTITION BY "key" ORDER BY collected_at) = 1
),
sessions AS (
  SELECT machine_id, file, any_value(session_id) AS session_id FROM facts WHERE "type" = 'session' GROUP BY ALL
),
messages AS (
  SELECT m.*, coalesce(m.session_id, s.session_id) AS session
  FROM facts m LEFT JOIN sessions s USING (machine_id, file)
  WHERE m."type" = 'message'
)
SELECT machine_id, ts, session AS session_id, project, model, message_id,
  input_tokens, cached_tokens, output_tokens, thoughts_tokens, tool_tokens,
  coalesce(total_tokens, input_tokens + output_tokens + thoughts_tokens + tool_tokens) AS total_tokens, file, byte_offset
FROM messages
QUALIFY row_number() OVER (PARTITION BY coalesce(session, machine_id || ':' || file), message_id
  ORDER BY collected_at DESC, byte_offset DESC) = 1;

CREATE VIEW v1.usage_gemini AS FROM vc_usage_gemini('gemini_logs');
COMMENT ON VIEW v1.usage_gemini IS 'Gemini usage: one row per model message, its last copy (input includes cached; thoughts are billed as output)';

-- All three agents in one shape. input_tokens are the uncached ones; cache_read_tokens the cached
-- (Codex's cached_input, Gemini's cached); output_tokens include reasoning (Codex) and thoughts
-- (Gemini), which are billed as output; reasoning_tokens says how many of them that was.
CREATE MACRO vc_usage_entries(claude, codex, gemini) AS TABLE
WITH priced AS (
  -- Prices join on the model each name resolves to (sql/06_pricing.sql): arithmetic per row only.
  SELECT 'claude' AS agent, machine_id, ts, session_id, project, u.model,
    input_tokens, output_tokens, cache_creation_5m_tokens, cache_creation_1h_tokens, cache_read_tokens,
    NULL::BIGINT AS reasoning_tokens,
    input_tokens + output_tokens + cache_creation_5m_tokens + cache_creation_1h_tokens + cache_read_tokens AS total_tokens,
    -- Old Claude Code versions logged a cost: it is used as logged (ccusage's "auto" mode).
    coalesce(logged_cost_usd, vc_cost_claude_at(p, speed, input_tokens, output_tokens, cache_creation_5m_tokens, cache_creation_1h_tokens, cache_read_tokens)) AS cost_usd
  FROM query_table(claude) u LEFT JOIN pricing p ON p.model = vc_price_model('claude', u.model)
  UNION ALL
  SELECT 'codex', machine_id, ts, session_id, project, u.model,
    greatest(input_tokens - cached_input_tokens, 0), output_tokens, 0, 0, cached_input_tokens,
    reasoning_output_tokens, total_tokens,
    vc_cost_codex_at(p, input_tokens, cached_input_tokens, output_tokens)
  FROM query_table(codex) u LEFT JOIN pricing p ON p.model = vc_price_model('codex', u.model)
  UNION ALL
  SELECT 'gemini', machine_id, ts, session_id, project, u.model,
    input_tokens - least(input_tokens, cached_tokens), output_tokens + thoughts_tokens, 0, 0, least(input_tokens, cached_tokens),
    thoughts_tokens, total_tokens,
    vc_cost_gemini_at(p, input_tokens, cached_tokens, output_tokens, thoughts_tokens)
  FROM query_table(gemini) u LEFT JOIN pricing p ON p.model = vc_price_model('gemini', u.model)
)
SELECT *, ts::DATE AS day FROM priced;

CREATE VIEW v1.usage_entries AS FROM vc_usage_entries('v1.usage_claude', 'v1.usage_codex', 'v1.usage_gemini');
COMMENT ON VIEW v1.usage_entries IS 'Every counted usage entry of Claude Code, Codex and Gemini: agent, machine, time, session, project, model, tokens by class (input = uncached), cost in USD (NULL when the model has no price)';

-- Billing windows of 5 hours per machine and agent, as ccusage draws them: a window starts at the
-- hour of its first entry and ends 5 hours later; the next starts at the hour of the first entry
-- after that, or after a pause of more than 5 hours. So windows depend only on the active hours
-- (each window starts on one), and a window's successor is the first active hour 5 hours on.
CREATE MACRO vc_usage_blocks(entries) AS TABLE
WITH e AS MATERIALIZED (
  SELECT machine_id, agent, ts, total_tokens, cost_usd, model,
    ts - lag(ts) OVER (PARTITION BY machine_id, agent ORDER BY ts) AS gap
  FROM query_table(entries)
),
hours AS (
  SELECT machine_id, agent, date_trunc('hour', ts) AS hour,
    bool_or(gap IS NULL OR gap > INTERVAL 5 HOUR) AS after_pause
  FROM e GROUP BY ALL
),
-- A pause starts a new run of windows; within a run, windows follow each other.
runs AS (
  SELECT *, sum(after_pause::INTEGER) OVER (PARTITION BY machine_id, agent ORDER BY hour) AS run FROM hours
),
-- The chain of window starts of a run, folded over its sorted hours: the first hour, then each
-- hour at least 5 hours after the last start (a recursive CTE did the same one window per step,
-- 30x slower over a month of history).
starts AS (
  SELECT machine_id, agent,
    unnest(list_reduce(list_transform(list(hour ORDER BY hour), h -> [h]),
      (acc, x) -> CASE WHEN x[1] >= acc[-1] + INTERVAL 5 HOUR THEN list_concat(acc, x) ELSE acc END)) AS start
  FROM runs GROUP BY machine_id, agent, run
),
assigned AS (
  SELECT s.start, e.* FROM e ASOF JOIN starts s
    ON e.machine_id = s.machine_id AND e.agent = s.agent AND e.ts >= s.start
)
SELECT machine_id, agent, start AS window_start, start + INTERVAL 5 HOUR AS window_end,
  min(ts) AS first_entry_at, max(ts) AS last_entry_at, count(*) AS entries,
  sum(total_tokens) AS tokens, vc_sum_usd(cost_usd) AS cost_usd,
  count(*) FILTER (WHERE cost_usd IS NULL) AS unpriced_entries,
  list_sort(list_distinct(list(model))) AS models,
  vc_now() < start + INTERVAL 5 HOUR AND vc_now() - max(ts) < INTERVAL 5 HOUR AS is_active
FROM assigned GROUP BY machine_id, agent, start;

CREATE VIEW v1.usage_blocks AS FROM vc_usage_blocks('v1.usage_entries');
COMMENT ON VIEW v1.usage_blocks IS '5-hour billing windows per machine and agent (ccusage''s blocks): start, end, entries, tokens, cost, models, whether it is the active one';

-- The window each machine and agent is in now, with its pace: tokens per hour since its first
-- entry, the total projected at the window's end at that pace, the time left, and the largest
-- window of the last 30 days as the yardstick for "about to be exhausted" (ccusage's --token-limit max).
CREATE MACRO vc_usage_current_windows(entries) AS TABLE
WITH blocks AS MATERIALIZED (FROM vc_usage_blocks(entries)),
past AS (
  SELECT machine_id, agent, max(tokens) AS max_window_tokens, median(tokens / greatest(epoch(last_entry_at - first_entry_at) / 3600, 0.25)) AS median_tokens_per_hour,
    count(*) AS past_windows
  FROM blocks
  WHERE NOT is_active AND window_start >= vc_now() - INTERVAL 30 DAY
  GROUP BY ALL
)
SELECT b.machine_id, b.agent, b.window_start, b.window_end, b.first_entry_at, b.last_entry_at, b.entries, b.tokens, b.cost_usd,
  b.models,
  round(b.tokens / h.elapsed) AS tokens_per_hour,
  round(b.cost_usd / h.elapsed, 4) AS cost_per_hour,
  round(b.tokens + b.tokens / h.elapsed * epoch(b.window_end - vc_now()) / 3600) AS projected_tokens,
  round(epoch(b.window_end - vc_now()) / 60) AS minutes_left,
  p.max_window_tokens, p.median_tokens_per_hour, coalesce(p.past_windows, 0) AS past_windows
FROM blocks b LEFT JOIN past p USING (machine_id, agent),
  -- Hours since the window's first entry, at least a quarter: a first minute's burst is no pace.
  LATERAL (SELECT greatest(epoch(vc_now() - b.first_entry_at) / 3600, 0.25) AS elapsed) h
WHERE b.is_active;

CREATE VIEW v1.usage_current_windows AS FROM vc_usage_current_windows('v1.usage_entries');
COMMENT ON VIEW v1.usage_current_windows IS 'The active 5-hour window per machine and agent: tokens and cost so far, burn rate per hour (floor 15 minutes of elapsed time), projected total at its end, minutes left, and the largest and median pace of the last 30 days'' windows';

-- Codex's own account of its windows (server-side percent used and reset time), newest per machine.
CREATE MACRO vc_codex_rate_limits(facts) AS TABLE
SELECT machine_id, 'codex' AS agent, max(ts) AS reported_at,
  arg_max(plan_type, ts) AS plan_type,
  arg_max(primary_used_percent, ts) AS primary_used_percent, arg_max(primary_window_minutes, ts) AS primary_window_minutes,
  arg_max(primary_resets_at, ts) AS primary_resets_at,
  arg_max(secondary_used_percent, ts) AS secondary_used_percent, arg_max(secondary_window_minutes, ts) AS secondary_window_minutes,
  arg_max(secondary_resets_at, ts) AS secondary_resets_at
FROM query_table(facts)
WHERE "type" = 'tokens' AND (primary_used_percent IS NOT NULL OR secondary_used_percent IS NOT NULL) AND ts <= vc_now()
GROUP BY machine_id;

CREATE VIEW v1.usage_rate_limits AS FROM vc_codex_rate_limits('codex_logs');
COMMENT ON VIEW v1.usage_rate_limits IS 'Codex rate limits as the server last reported them per machine: primary (5-hour) and secondary (weekly) percent used, window length and reset time';

-- Usage over the recent window, for health and triage (reading all history at every session open
-- would cost too much): the same rules over the *_recent tables.
CREATE VIEW v1.usage_recent_claude AS FROM vc_usage_claude('claude_logs_recent');
CREATE VIEW v1.usage_recent_codex AS FROM vc_usage_codex('codex_logs_recent', false);
CREATE VIEW v1.usage_recent_gemini AS FROM vc_usage_gemini('gemini_logs_recent');
COMMENT ON VIEW v1.usage_recent_claude IS 'usage_claude over the recent window only';
COMMENT ON VIEW v1.usage_recent_codex IS 'usage_codex over the recent window only (the first event of each file there is not counted: it may repeat one from before)';
COMMENT ON VIEW v1.usage_recent_gemini IS 'usage_gemini over the recent window only';
CREATE VIEW v1.usage_recent_entries AS
FROM vc_usage_entries('v1.usage_recent_claude', 'v1.usage_recent_codex', 'v1.usage_recent_gemini');
COMMENT ON VIEW v1.usage_recent_entries IS 'usage_entries over the recent window only (what health and triage read); the first Codex event of each file in the window is not counted';

-- The usage health factors, in health_factors' shape (views/v1/30_health.sql adds them):
--   usage_limit       Codex's own figure for its 5-hour and weekly windows, while they last;
--   usage_burn        tokens in the last hour against the median of the hours before it (same
--                     machine and agent, recent window; only from 1M tokens an hour, below that
--                     a jump is noise);
--   usage_no_commits  an agent session still burning after hours with no commit in its repository.
CREATE VIEW v1.usage_factors AS
-- The window's entries, deduplicated once for the three factors below.
WITH entries AS MATERIALIZED (
  FROM v1.usage_recent_entries WHERE ts > vc_recent_since() AND ts <= vc_now()
),
limits AS (FROM vc_codex_rate_limits('codex_logs_recent')),
limit_rows AS (
  SELECT machine_id, 'usage_limit' AS factor_id, w.name AS subject, w.used AS value,
    format('Codex reports {}% of its {} window used; it resets at {} UTC (in {})', w.used, w.name,
      strftime(w.resets, '%Y-%m-%d %H:%M'), human_age(epoch(w.resets - vc_now()))) AS summary,
    to_json({agent: 'codex', usage_window: w.name, used_percent: w.used, resets_at: w.resets, reported_at: reported_at, plan_type: plan_type}) AS evidence
  FROM limits, LATERAL (VALUES ('codex 5-hour', primary_used_percent, primary_resets_at),
    ('codex weekly', secondary_used_percent, secondary_resets_at)) w(name, used, resets)
  WHERE w.used IS NOT NULL AND w.resets > vc_now()
),
hourly AS (
  SELECT machine_id, agent, date_trunc('hour', ts) AS hour, sum(total_tokens) AS tokens
  FROM entries WHERE ts <= vc_now() - INTERVAL 1 HOUR GROUP BY ALL
),
base AS (
  SELECT machine_id, agent, median(tokens) AS typical, count(*) AS hours FROM hourly GROUP BY ALL
),
last_hour AS (
  SELECT machine_id, agent, sum(total_tokens) AS tokens, vc_sum_usd(cost_usd) AS cost_usd
  FROM entries WHERE ts > vc_now() - INTERVAL 1 HOUR GROUP BY ALL
),
burn AS (
  SELECT l.machine_id, 'usage_burn' AS factor_id, l.agent AS subject, round(l.tokens / b.typical, 1) AS value,
    format('{} burned {} tokens in the last hour, {}x its usual {} an hour', l.agent, human_count(l.tokens),
      round(l.tokens / b.typical, 1), human_count(b.typical)) AS summary,
    to_json({agent: l.agent, last_hour_tokens: l.tokens, last_hour_cost_usd: l.cost_usd, typical_hour_tokens: b.typical, hours_compared: b.hours}) AS evidence
  FROM last_hour l JOIN base b USING (machine_id, agent)
  WHERE b.hours >= 2 AND l.tokens >= 1000000
),
sessions AS (
  SELECT machine_id, agent, session_id, project, min(ts) AS first_at, max(ts) AS last_at,
    sum(total_tokens) AS tokens, vc_sum_usd(cost_usd) AS cost_usd
  FROM entries
  WHERE session_id IS NOT NULL AND project IS NOT NULL
  GROUP BY ALL
),
no_commits AS (
  SELECT s.machine_id, 'usage_no_commits' AS factor_id, format('{} {}', s.agent, s.session_id) AS subject,
    round(epoch(s.last_at - s.first_at) / 3600, 1) AS value,
    format('{} session in {} has burned {} tokens over {} with no commit in {} (last commit {})', s.agent, s.project,
      human_count(s.tokens), human_age(epoch(s.last_at - s.first_at)), r.path,
      CASE WHEN r.last_commit_at IS NULL THEN 'never' ELSE human_age(epoch(vc_now() - r.last_commit_at)) || ' ago' END) AS summary,
    to_json({agent: s.agent, session_id: s.session_id, project: s.project, repo: r.path, first_entry_at: s.first_at,
      last_entry_at: s.last_at, tokens: s.tokens, cost_usd: s.cost_usd, last_commit_at: r.last_commit_at}) AS evidence
  FROM sessions s JOIN repo_status r
    ON r.machine_id = s.machine_id AND (s.project = r.path OR starts_with(s.project, r.path || '/'))
  WHERE s.last_at > vc_now() - INTERVAL 30 MINUTE AND (r.last_commit_at IS NULL OR r.last_commit_at < s.first_at)
  QUALIFY row_number() OVER (PARTITION BY s.machine_id, s.agent, s.session_id ORDER BY length(r.path) DESC) = 1
)
FROM limit_rows UNION ALL BY NAME FROM burn UNION ALL BY NAME FROM no_commits;
COMMENT ON VIEW v1.usage_factors IS 'Usage health factors per machine: usage_limit (Codex''s own window use), usage_burn (last hour against the usual hour), usage_no_commits (a session burning for hours with no commit in its repository)';
