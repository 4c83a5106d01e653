-- cass: its latest answer per machine (health, index age, archive totals, by agent and workspace)
-- and its timeline buckets, the newest complete count of each.

CREATE VIEW v1.cass_latest AS
SELECT c.* FROM cass_recent c JOIN last_ok_runs l ON l.source = 'cass' AND c.machine_id = l.machine_id AND c.run_id = l.run_id;
COMMENT ON VIEW v1.cass_latest IS 'The rows of the last successful cass run of each machine: run, health, stats, agent, workspace, timeline, bucket and error rows';

CREATE VIEW v1.cass_health AS
WITH r AS (SELECT machine_id, collected_at, cass_version, contract_version FROM cass_latest WHERE "type" = 'run'),
h AS (FROM cass_latest WHERE "type" = 'health'),
s AS (SELECT machine_id, conversations, messages, oldest_at, newest_at, raw_mirror_bytes FROM cass_latest WHERE "type" = 'stats'),
tl AS (SELECT machine_id, range_start AS timeline_from, range_end AS timeline_to FROM cass_latest WHERE "type" = 'timeline'),
e AS (
  SELECT machine_id, list({step: step, exit_code: exit_code, error_kind: error_kind, message: message} ORDER BY step) AS failed_commands,
    any_value(format('{} ({})', error_kind, message)) FILTER (WHERE step = 'health') AS health_error
  FROM cass_latest WHERE "type" = 'error' GROUP BY machine_id
)
SELECT r.machine_id, r.collected_at, r.cass_version, r.contract_version,
  h.status, h.healthy, h.health_level, h.initialized, h.exit_policy, h.errors, h.warnings, h.recommended_action, h.recommended_commands,
  h.index_exists, h.index_status, h.index_fresh, h.index_stale,
  -- cass gives both; either stands in for the other.
  coalesce(h.last_indexed_at, coalesce(h.reported_at, r.collected_at) - to_seconds(h.index_age_s)) AS last_indexed_at,
  coalesce(h.index_age_s, seconds_between(h.last_indexed_at, coalesce(h.reported_at, r.collected_at))::BIGINT) AS index_age_s,
  h.stale_threshold_s, h.documents, h.rebuilding, h.rebuild_stalled, h.rebuild_phase, h.rebuild_completion,
  h.pending_sessions, h.watch_active, h.quarantined_conversations, h.db_exists, h.db_opened, h.db_open_error, h.reported_at,
  s.conversations, s.messages, s.oldest_at, s.newest_at, s.raw_mirror_bytes, tl.timeline_from, tl.timeline_to,
  coalesce(e.failed_commands, []) AS failed_commands, e.health_error
FROM r LEFT JOIN h USING (machine_id) LEFT JOIN s USING (machine_id) LEFT JOIN tl USING (machine_id) LEFT JOIN e USING (machine_id);
COMMENT ON VIEW v1.cass_health IS 'Per machine, cass''s latest answer: version, health status (healthy, rebuilding, stalled, unhealthy, not_initialized, degraded) and errors, index status, last_indexed_at and index_age_s (when cass answered), rebuild, pending sessions, archive totals (conversations, messages, date range), the range its timeline covered, and the commands that failed with cass''s error (failed_commands; health_error for health itself)';

CREATE VIEW v1.cass_agents AS
SELECT a.machine_id, a.collected_at, a.agent, a.conversations, pct(a.conversations, s.conversations) AS pct_of_conversations
FROM cass_latest a LEFT JOIN cass_latest s ON s.machine_id = a.machine_id AND s."type" = 'stats'
WHERE a."type" = 'agent';
COMMENT ON VIEW v1.cass_agents IS 'Conversations in each machine''s cass archive per agent (claude_code, codex, ..., unknown), with their share of all conversations';

CREATE VIEW v1.cass_workspaces AS
SELECT machine_id, collected_at, workspace, conversations FROM cass_latest WHERE "type" = 'workspace';
COMMENT ON VIEW v1.cass_workspaces IS 'Conversations in each machine''s cass archive per workspace (cass lists its top 10)';

-- Each run asks for the last days, so runs overlap. A bucket's count comes from the newest run
-- whose range covered all of it (else, the newest that covered part of it, flagged incomplete):
-- an agent missing from that run's bucket had no session there, whatever an older run said.
CREATE MACRO vc_cass_timeline(src) AS TABLE
WITH runs AS (
  SELECT machine_id, run_id, collected_at, range_start, range_end FROM query_table(src) WHERE "type" = 'timeline'
),
b AS (
  SELECT machine_id, run_id, collected_at, bucket_start, bucket_hours, agent, sessions, messages FROM query_table(src) WHERE "type" = 'bucket'
),
best AS (
  SELECT k.machine_id, k.bucket_start, k.bucket_hours, r.run_id, r.range_start <= k.bucket_start AS complete
  FROM (SELECT DISTINCT machine_id, bucket_start, bucket_hours FROM b) k
  JOIN runs r ON r.machine_id = k.machine_id AND r.range_end > k.bucket_start
  QUALIFY row_number() OVER (PARTITION BY k.machine_id, k.bucket_start, k.bucket_hours
    ORDER BY r.range_start <= k.bucket_start DESC, r.collected_at DESC, r.run_id DESC) = 1
)
SELECT b.machine_id, b.bucket_start, b.bucket_hours, b.agent, b.sessions, b.messages, best.complete, b.collected_at
FROM best JOIN b USING (machine_id, bucket_start, bucket_hours, run_id);

CREATE VIEW v1.cass_timeline AS FROM vc_cass_timeline('cass_recent');
COMMENT ON VIEW v1.cass_timeline IS 'Sessions started (and their messages) per hour (UTC) and agent on each machine, from cass timeline over the runs of the recent window: each bucket as the newest run covering all of it counted it (complete false: no run covered all of it)';
