-- Alerts: persisted entities over the triage items. A rule names a health factor and the
-- severity from which it alerts; an alert is one (rule, machine, subject), with a stable id. Its
-- whole history is state/alerts.jsonl, one line per transition (lib/alerts.ts appends them):
--   open     the condition appears for the first time
--   update   it still holds: new severity, or a periodic refresh of evidence and last_seen_at
--   resolve  it cleared (the rule no longer fires)
--   reopen   it came back after resolving, once the rule's cooldown has passed
--   ack      someone acknowledged it (vc alerts ack); a reopen clears the ack
-- The state of every alert is a fold of those lines up to vc_now(), so --as-of answers as it
-- would have then; v1.alert_due says which transitions an evaluation appends now.

CREATE VIEW v1.alert_rules AS
SELECT * FROM (VALUES
  ('disk_full',          'disk_used',          'crit', 60,  'A filesystem has less than 10% free (its used % at the disk_used crit threshold)'),
  ('disk_filling',       'disk_full_eta',      'warn', 120, 'A filesystem will be full within a day if the recent trend holds'),
  ('disk_inodes',        'disk_inodes',        'crit', 60,  'A filesystem is nearly out of inodes'),
  ('load_high',          'load',               'warn', 30,  'load5 above 1.5 x the CPU cores for over 10 minutes'),
  ('anomaly',            'anomaly',            'crit', 60,  'A metric far above the machine''s own recent baseline (robust z)'),
  ('memory_low',         'memory',             'crit', 30,  'Less than 5% of memory available'),
  ('swap_rising',        'swap_rising',        'warn', 60,  'Swap in use and rising'),
  ('oom_kills',          'oom_kills',          'warn', 60,  'The OOM killer killed processes'),
  ('inotify_watches',    'inotify_watches',    'warn', 120, 'inotify watches near the limit'),
  ('inotify_instances',  'inotify_instances',  'warn', 120, 'inotify instances near the limit'),
  ('machine_silent',     'freshness',          'crit', 30,  'A machine or source stopped delivering data'),
  ('collector_failing',  'collector_failures', 'crit', 60,  'A collector fails on most of its runs'),
  ('dirty_repos',        'dirty_repos',        'warn', 240, 'Many repositories with uncommitted changes on a machine'),
  ('repo_went_cold',     'repo_cold',          'warn', 1440, 'A repository busy in the last week has had no commit for 2 days and still holds uncommitted or unpushed work'),
  ('usage_window',       'usage_limit',        'warn', 60,  'An agent account''s usage window is about to run out'),
  ('account_limit',      'account_limit',      'warn', 60,  'An account''s usage window (caut, caam) is near its limit'),
  ('dcg_denies',         'dcg_denies',         'warn', 60,  'The command guard (dcg) denies many commands an hour'),
  ('dcg_new_critical_rule', 'dcg_new_critical_rule', 'warn', 1440, 'A critical dcg rule fired for the first time'),
  ('network_unknown_domains', 'network_unknown_domains', 'warn', 240, 'Agents contact hosts never seen before (rano)'),
  ('network_spike',      'network_spike',      'warn', 60,  'Network connections spike against the machine''s own baseline (rano)'),
  ('rch_queue_depth',    'rch_queue_depth',    'warn', 30,  'Builds queue up in rch waiting for a worker'),
  ('rch_queue_growing',  'rch_queue_eta',      'warn', 30,  'rch''s build queue keeps growing and will reach its crit depth within the hour'),
  ('rch_no_worker',      'rch_no_worker',      'warn', 30,  'rch has builds active or queued and no worker available'),
  ('rch_daemon_down',    'rch_daemon_down',    'crit', 30,  'rch cannot reach its daemon (rchd)'),
  ('mail_urgent_unread', 'mail_urgent_unread', 'warn', 60,  'Urgent agent mail left unread'),
  ('mail_ack_overdue',   'mail_ack_overdue',   'warn', 60,  'Agent mail waiting too long for its acknowledgement'),
  ('cass_index_stale',   'cass_index_stale',   'warn', 240, 'The cass search index has not been updated for over 24 hours'),
  ('cass_unhealthy',     'cass_unhealthy',     'crit', 120, 'cass reports its index unhealthy, stalled or failing'),
  ('ntm_agent_error',    'ntm_agent_error',    'warn', 30,  'ntm reports agents in the error state'),
  ('setup_failures',     'setup_failures',     'warn', 240, 'Installers failing in the setup checker (afsc)'),
  ('bench_drift',        'bench_drift',        'warn', 720, 'A machine''s benchmark score fell well below its own baseline')
) t(rule_id, factor_id, min_severity, cooldown_minutes, description);
COMMENT ON VIEW v1.alert_rules IS 'Alert rules: the health factor each watches, the severity from which it alerts, its cooldown (minutes a resolved alert stays resolved before it may reopen) and what it means';

-- The conditions that hold now: one per (rule, machine, subject).
CREATE VIEW v1.alert_candidates AS
SELECT 'a' || substr(md5(concat_ws(chr(31), r.rule_id, i.machine_id, coalesce(i.subject, ''))), 1, 10) AS alert_id,
  r.rule_id, i.machine_id, coalesce(i.subject, '') AS subject, i.severity, i.title, i.why AS summary, i.evidence, i.next, i.fix
FROM v1.triage_items i JOIN v1.alert_rules r USING (factor_id)
WHERE severity_rank(i.severity) >= severity_rank(r.min_severity);
COMMENT ON VIEW v1.alert_candidates IS 'The alert conditions that hold now: per rule, machine and subject, with the alert id, severity, title, summary, evidence and next commands';

-- Lines that are not whole transitions (a torn last line, a hand edit) are skipped.
CREATE VIEW alert_log AS
SELECT * FROM read_json(getvariable('vc_alerts_file'), format = 'newline_delimited', ignore_errors = true,
  columns = {ts: 'TIMESTAMP', alert_id: 'VARCHAR', "transition": 'VARCHAR', rule_id: 'VARCHAR', machine_id: 'VARCHAR',
    subject: 'VARCHAR', severity: 'VARCHAR', title: 'VARCHAR', summary: 'VARCHAR', evidence: 'JSON', "next": 'VARCHAR[]',
    fix: 'VARCHAR', note: 'VARCHAR'})
WHERE ts IS NOT NULL AND ts <= vc_now() AND alert_id IS NOT NULL AND rule_id IS NOT NULL AND machine_id IS NOT NULL
  AND "transition" IN ('open', 'update', 'resolve', 'reopen', 'ack');
COMMENT ON VIEW alert_log IS 'Every alert transition (state/alerts.jsonl) up to now: ts, alert_id, transition (open, update, resolve, reopen, ack), the rule, machine and subject, severity, title, summary, evidence, next commands, fix and an ack''s note';

CREATE VIEW v1.alerts AS
WITH per AS (
  SELECT alert_id, any_value(rule_id) AS rule_id, any_value(machine_id) AS machine_id, any_value(subject) AS subject,
    min(ts) FILTER (WHERE "transition" = 'open') AS first_seen_at,
    max(ts) FILTER (WHERE "transition" IN ('open', 'reopen')) AS opened_at,
    max(ts) FILTER (WHERE "transition" IN ('open', 'reopen', 'update')) AS last_seen_at,
    max(ts) FILTER (WHERE "transition" = 'resolve') AS last_resolve,
    max(ts) FILTER (WHERE "transition" = 'ack') AS last_ack,
    arg_max(note, ts) FILTER (WHERE "transition" = 'ack') AS last_note,
    count(*) FILTER (WHERE "transition" IN ('open', 'reopen')) AS episodes,
    arg_max(severity, ts) FILTER (WHERE "transition" IN ('open', 'reopen', 'update')) AS severity,
    arg_max(title, ts) FILTER (WHERE "transition" IN ('open', 'reopen', 'update')) AS title,
    arg_max(summary, ts) FILTER (WHERE "transition" IN ('open', 'reopen', 'update')) AS summary,
    arg_max(evidence, ts) FILTER (WHERE "transition" IN ('open', 'reopen', 'update')) AS evidence,
    arg_max("next", ts) FILTER (WHERE "transition" IN ('open', 'reopen', 'update')) AS "next",
    arg_max(fix, ts) FILTER (WHERE "transition" IN ('open', 'reopen', 'update')) AS fix
  FROM alert_log GROUP BY alert_id
)
SELECT alert_id, rule_id, machine_id, subject,
  CASE WHEN last_resolve >= opened_at THEN 'resolved' WHEN last_ack >= opened_at THEN 'acked' ELSE 'open' END AS state,
  severity, title, summary, first_seen_at, opened_at, last_seen_at,
  CASE WHEN last_resolve >= opened_at THEN last_resolve END AS resolved_at,
  CASE WHEN last_ack >= opened_at THEN last_ack END AS acked_at,
  CASE WHEN last_ack >= opened_at THEN last_note END AS ack_note,
  episodes, evidence, "next", fix
FROM per WHERE opened_at IS NOT NULL;
COMMENT ON VIEW v1.alerts IS 'Every alert as of now: state (open, acked, resolved), severity, title, summary, first seen (ever), opened (this episode), last seen, resolved/acked time, the ack note, episodes (times it opened), evidence, next commands and fix';

-- What an evaluation appends now (lib/alerts.ts): new conditions open, held ones update (a new
-- severity at once, else every 30 minutes so last_seen_at and evidence stay current), cleared
-- ones resolve, returning ones reopen once their rule's cooldown has passed since they resolved.
CREATE VIEW v1.alert_due AS
WITH c AS (FROM v1.alert_candidates),
a AS (FROM v1.alerts a JOIN v1.alert_rules r USING (rule_id))
SELECT c.*, 'open' AS "transition" FROM c WHERE c.alert_id NOT IN (SELECT alert_id FROM a)
UNION ALL BY NAME
SELECT c.*, 'reopen' AS "transition" FROM c JOIN a USING (alert_id)
WHERE a.state = 'resolved' AND vc_now() >= a.resolved_at + to_minutes(a.cooldown_minutes)
UNION ALL BY NAME
SELECT c.*, 'update' AS "transition" FROM c JOIN a USING (alert_id)
WHERE a.state IN ('open', 'acked')
  AND (c.severity IS DISTINCT FROM a.severity OR vc_now() >= a.last_seen_at + INTERVAL 30 MINUTE)
UNION ALL BY NAME
SELECT alert_id, rule_id, machine_id, subject, severity, title, summary, evidence, "next", fix, 'resolve' AS "transition"
FROM a WHERE state IN ('open', 'acked') AND alert_id NOT IN (SELECT alert_id FROM c);
COMMENT ON VIEW v1.alert_due IS 'The alert transitions an evaluation at vc_now() appends: open, update, resolve, reopen (after the rule''s cooldown)';

-- Webhook deliveries (state/alert-deliveries.jsonl): one line per attempt.
CREATE VIEW alert_delivery_log AS
SELECT * FROM read_json(getvariable('vc_alert_deliveries_file'), format = 'newline_delimited', ignore_errors = true,
  columns = {ts: 'TIMESTAMP', alert_id: 'VARCHAR', "transition": 'VARCHAR', transition_ts: 'TIMESTAMP', attempt: 'INTEGER',
    ok: 'BOOLEAN', status: 'INTEGER', error: 'VARCHAR'})
WHERE ts IS NOT NULL AND ts <= vc_now() AND alert_id IS NOT NULL AND transition_ts IS NOT NULL AND attempt IS NOT NULL;
COMMENT ON VIEW alert_delivery_log IS 'Every webhook delivery attempt of an alert transition: when, which transition, attempt number, ok, HTTP status, error';

-- Transitions still to deliver: not delivered yet, fewer than 8 attempts, and past the backoff
-- after the last failure (1, 2, 4, ... 64 minutes). Acks are the user's own doing: not sent.
CREATE VIEW v1.alert_deliveries_due AS
WITH tries AS (
  SELECT alert_id, "transition", transition_ts, count(*) AS attempts, bool_or(ok) AS delivered, max(ts) AS last_try
  FROM alert_delivery_log GROUP BY ALL
)
SELECT l.*, coalesce(t.attempts, 0) AS attempts
FROM alert_log l LEFT JOIN tries t ON t.alert_id = l.alert_id AND t."transition" = l."transition" AND t.transition_ts = l.ts
WHERE l."transition" <> 'ack' AND l.ts >= vc_now() - INTERVAL 1 DAY
  AND NOT coalesce(t.delivered, false) AND coalesce(t.attempts, 0) < 8
  AND (t.last_try IS NULL OR vc_now() >= t.last_try + to_minutes(CAST(2 ** (t.attempts - 1) AS INTEGER)))
ORDER BY l.ts, l.alert_id;
COMMENT ON VIEW v1.alert_deliveries_due IS 'Alert transitions whose webhook delivery is due: never tried, or failed and past their backoff (at most 8 attempts)';
