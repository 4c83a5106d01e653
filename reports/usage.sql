-- Usage over the chosen span (--since/--until; default all), optionally one machine (--machine),
-- grouped by --by. Variables: vc_report_since, vc_report_until, vc_report_by, vc_report_machine.

-- name: entries setup
-- Every entry once (the dedup reads all history); the span's entries from them.
CREATE OR REPLACE TEMP TABLE usage_all AS FROM v1.usage_entries;
CREATE OR REPLACE TEMP TABLE usage_span AS
SELECT * FROM usage_all
WHERE (getvariable('vc_report_since') IS NULL OR ts >= getvariable('vc_report_since'))
  AND (getvariable('vc_report_until') IS NULL OR ts < getvariable('vc_report_until'))
  AND (getvariable('vc_report_machine') IS NULL OR machine_id = getvariable('vc_report_machine'));

-- name: totals one
SELECT count(*) AS entries, sum(total_tokens) AS tokens, sum(input_tokens) AS input_tokens,
  sum(output_tokens) AS output_tokens, sum(cache_creation_5m_tokens + cache_creation_1h_tokens) AS cache_creation_tokens,
  sum(cache_read_tokens) AS cache_read_tokens, vc_sum_usd(cost_usd) AS cost_usd,
  coalesce(sum(total_tokens) FILTER (WHERE cost_usd IS NULL), 0) AS unpriced_tokens,
  min(ts) AS first_entry_at, max(ts) AS last_entry_at,
  getvariable('vc_report_since') AS since, getvariable('vc_report_until') AS until,
  getvariable('vc_report_by') AS by, getvariable('vc_report_machine') AS machine
FROM usage_span;

-- name: rows
SELECT
  CASE getvariable('vc_report_by')
    WHEN 'day' THEN strftime(day, '%Y-%m-%d')
    WHEN 'week' THEN strftime(date_trunc('week', day), '%G-W%V')
    WHEN 'month' THEN strftime(day, '%Y-%m')
    WHEN 'machine' THEN machine_id
    WHEN 'project' THEN coalesce(project, '(unknown)')
    WHEN 'model' THEN coalesce(model, '(unknown)')
    WHEN 'session' THEN agent || ':' || coalesce(session_id, '(unknown)')
  END AS "key",
  list_sort(list_distinct(list(agent))) AS agents,
  count(DISTINCT machine_id) AS machines,
  count(*) AS entries, sum(input_tokens) AS input_tokens, sum(output_tokens) AS output_tokens,
  sum(cache_creation_5m_tokens + cache_creation_1h_tokens) AS cache_creation_tokens, sum(cache_read_tokens) AS cache_read_tokens,
  sum(total_tokens) AS tokens, vc_sum_usd(cost_usd) AS cost_usd,
  coalesce(sum(total_tokens) FILTER (WHERE cost_usd IS NULL), 0) AS unpriced_tokens,
  list_sort(list_distinct(list(model))) AS models,
  min(ts) AS first_entry_at, max(ts) AS last_entry_at
FROM usage_span
GROUP BY 1
ORDER BY CASE WHEN getvariable('vc_report_by') IN ('day', 'week', 'month') THEN "key" END,
  coalesce(vc_sum_usd(cost_usd), 0) DESC, sum(total_tokens) DESC, "key";

-- name: unpriced
SELECT agent, model, count(*) AS entries, sum(total_tokens) AS tokens
FROM usage_span WHERE cost_usd IS NULL
GROUP BY ALL ORDER BY tokens DESC;

-- name: windows
SELECT w.*, r.primary_used_percent AS server_used_percent, r.primary_resets_at AS server_resets_at,
  r.secondary_used_percent AS server_weekly_used_percent, r.secondary_resets_at AS server_weekly_resets_at
FROM vc_usage_current_windows('usage_all') w
LEFT JOIN v1.usage_rate_limits r ON r.machine_id = w.machine_id AND r.agent = w.agent
WHERE getvariable('vc_report_machine') IS NULL OR w.machine_id = getvariable('vc_report_machine')
ORDER BY w.projected_tokens DESC;

-- name: rate_limits
SELECT * FROM v1.usage_rate_limits
WHERE getvariable('vc_report_machine') IS NULL OR machine_id = getvariable('vc_report_machine')
ORDER BY primary_used_percent DESC NULLS LAST;
