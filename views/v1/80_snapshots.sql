-- Snapshots and diffs: `vc snapshot` (cron, hourly) appends a compact picture of the fleet to
-- state/snapshots.jsonl, one line per machine: its health, the factors not ok, the alert
-- conditions holding. `vc diff --from T1 --to T2` compares the pictures nearest before T1 and T2.

-- What a snapshot writes now (health_factors must be computed first, as the reports do).
CREATE VIEW v1.snapshot_now AS
SELECT m.machine_id, m.severity, m.score, m.worst_factor,
  coalesce((SELECT list({factor_id: f.factor_id, subject: f.subject, severity: f.severity, value: f.value, summary: f.summary}
    ORDER BY f.factor_id, f.subject) FROM health_factors f WHERE f.machine_id = m.machine_id AND f.severity IN ('warn', 'crit')), []) AS factors,
  coalesce((SELECT list(c.alert_id ORDER BY c.alert_id) FROM v1.alert_candidates c WHERE c.machine_id = m.machine_id), []) AS alerts
FROM v1.machine_health m;
COMMENT ON VIEW v1.snapshot_now IS 'The fleet snapshot vc snapshot would write now: per machine its severity, score, worst factor, the factors not ok and the alert conditions holding';

CREATE VIEW snapshot_log AS
SELECT * FROM read_json(getvariable('vc_snapshots_file'), format = 'newline_delimited', ignore_errors = true,
  columns = {ts: 'TIMESTAMP', machine_id: 'VARCHAR', severity: 'VARCHAR', score: 'DOUBLE', worst_factor: 'VARCHAR',
    factors: 'STRUCT(factor_id VARCHAR, subject VARCHAR, severity VARCHAR, "value" DOUBLE, summary VARCHAR)[]', alerts: 'VARCHAR[]'})
WHERE ts IS NOT NULL AND machine_id IS NOT NULL AND ts <= vc_now();
COMMENT ON VIEW snapshot_log IS 'Every stored fleet snapshot line (state/snapshots.jsonl) up to now: ts, machine, severity, score, worst factor, factors not ok, alert ids';

-- Each machine's picture in the newest snapshot at or before t (a machine missing from the
-- newest snapshot before t is not carried over from an older one: it had left the fleet).
CREATE MACRO vc_snapshot_at(t) AS TABLE
SELECT l.* FROM snapshot_log l
WHERE l.ts = (SELECT max(ts) FROM snapshot_log WHERE ts <= t);

CREATE MACRO vc_diff_machines(t1, t2) AS TABLE
SELECT coalesce(b.machine_id, a.machine_id) AS machine_id,
  CASE WHEN a.machine_id IS NULL THEN 'appeared' WHEN b.machine_id IS NULL THEN 'gone'
    WHEN a.severity IS DISTINCT FROM b.severity THEN 'changed' ELSE 'same' END AS change,
  a.severity AS severity_before, b.severity AS severity_after, a.score AS score_before, b.score AS score_after,
  a.worst_factor AS worst_before, b.worst_factor AS worst_after
FROM vc_snapshot_at(t1) a FULL JOIN vc_snapshot_at(t2) b ON a.machine_id = b.machine_id
-- Without a picture on either side there is nothing to compare.
WHERE EXISTS (FROM vc_snapshot_at(t1)) AND EXISTS (FROM vc_snapshot_at(t2));

-- Factors that appeared, cleared or changed severity, on machines in both pictures.
CREATE MACRO vc_diff_factors(t1, t2) AS TABLE
WITH a AS (SELECT machine_id, unnest(factors, recursive := true) FROM vc_snapshot_at(t1)),
b AS (SELECT machine_id, unnest(factors, recursive := true) FROM vc_snapshot_at(t2)),
both_pictures AS (SELECT machine_id FROM vc_snapshot_at(t1) INTERSECT SELECT machine_id FROM vc_snapshot_at(t2))
SELECT coalesce(b.machine_id, a.machine_id) AS machine_id, coalesce(b.factor_id, a.factor_id) AS factor_id,
  coalesce(b.subject, a.subject) AS subject,
  CASE WHEN a.factor_id IS NULL THEN 'appeared' WHEN b.factor_id IS NULL THEN 'cleared' ELSE 'changed' END AS change,
  a.severity AS severity_before, b.severity AS severity_after, a."value" AS value_before, b."value" AS value_after,
  coalesce(b.summary, a.summary) AS summary
FROM a FULL JOIN b ON a.machine_id = b.machine_id AND a.factor_id = b.factor_id AND a.subject IS NOT DISTINCT FROM b.subject
WHERE coalesce(b.machine_id, a.machine_id) IN (SELECT machine_id FROM both_pictures)
  AND (a.factor_id IS NULL OR b.factor_id IS NULL OR a.severity IS DISTINCT FROM b.severity);

-- Alert transitions between the two times (state/alerts.jsonl), acks included.
CREATE MACRO vc_diff_alerts(t1, t2) AS TABLE
SELECT ts, alert_id, "transition", machine_id, rule_id, subject, severity, title, note
FROM alert_log WHERE ts > t1 AND ts <= t2 AND "transition" <> 'update';
