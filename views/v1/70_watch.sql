-- What `vc watch` streams (lib/watch.ts): each interval it reads these, keyed, and says what is
-- new, changed or gone. Alerts are the conditions holding now (not only the ones an evaluation
-- already recorded), so a condition shows up within one interval.

-- Opportunities: capacity going unused that someone could act on. An agent idle long enough to
-- be a triage item is a free worker.
CREATE VIEW v1.opportunities AS
SELECT machine_id, 'idle_agent' AS kind, subject,
  format('{}: {} is free for work ({})', machine_id, evidence->>'agent', why) AS title,
  why AS summary, evidence, "next"
FROM v1.triage_items WHERE factor_id = 'agent_idle';
COMMENT ON VIEW v1.opportunities IS 'Unused capacity to act on: idle agents (kind idle_agent) with what they are and the next commands';

-- One view per kind of item, each with its own typed detail: lib/watch.ts streams their rows and
-- lib/schemas.ts derives the records' schema from their columns.
CREATE VIEW v1.watch_alerts AS
SELECT alert_id AS "key", machine_id, severity, title, summary, evidence, "next",
  {rule_id: rule_id, subject: subject, fix: fix} AS detail
FROM v1.alert_candidates;
COMMENT ON VIEW v1.watch_alerts IS 'vc watch''s alert items: the alert conditions holding now, keyed by alert id, with rule, subject and fix';

CREATE VIEW v1.watch_predictions AS
SELECT concat_ws(':', kind, machine_id, subject) AS "key", machine_id, NULL::VARCHAR AS severity,
  format('{}: {} {} at {}', machine_id, subject, kind, eta) AS title,
  format('{} h left, confidence {}', hours_left, confidence) AS summary, evidence, NULL::VARCHAR[] AS "next",
  {kind: kind, subject: subject, eta: eta, hours_left: hours_left, confidence: confidence} AS detail
FROM v1.predictions;
COMMENT ON VIEW v1.watch_predictions IS 'vc watch''s prediction items: every forecast, keyed by kind, machine and subject, with its eta, hours left and confidence';

CREATE VIEW v1.watch_opportunities AS
SELECT concat_ws(':', kind, machine_id, subject) AS "key", machine_id, NULL::VARCHAR AS severity, title, summary, evidence, "next",
  {kind: kind, subject: subject} AS detail
FROM v1.opportunities;
COMMENT ON VIEW v1.watch_opportunities IS 'vc watch''s opportunity items: unused capacity (idle agents), keyed by kind, machine and subject';

CREATE VIEW v1.watch_health AS
SELECT machine_id AS "key", machine_id, severity, format('{}: {}', machine_id, severity) AS title, worst_summary AS summary,
  NULL::JSON AS evidence, NULL::VARCHAR[] AS "next",
  {score: score, worst_factor: worst_factor, crit_factors: crit_factors, warn_factors: warn_factors} AS detail
FROM v1.machine_health;
COMMENT ON VIEW v1.watch_health IS 'vc watch''s health items: each machine''s severity (a change is a health_change event), score, worst factor and counts';

CREATE VIEW v1.watch_items AS
SELECT 'alert' AS "type", * REPLACE (to_json(detail) AS detail) FROM v1.watch_alerts
UNION ALL SELECT 'prediction', * REPLACE (to_json(detail) AS detail) FROM v1.watch_predictions
UNION ALL SELECT 'opportunity', * REPLACE (to_json(detail) AS detail) FROM v1.watch_opportunities
UNION ALL SELECT 'health', * REPLACE (to_json(detail) AS detail) FROM v1.watch_health;
COMMENT ON VIEW v1.watch_items IS 'What vc watch follows, in one table: alert conditions, predictions, opportunities and each machine''s health, keyed by type and key (detail as JSON)';
