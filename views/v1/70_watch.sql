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

CREATE VIEW v1.watch_items AS
SELECT 'alert' AS "type", alert_id AS "key", machine_id, severity, title, summary, evidence, "next",
  to_json({rule_id: rule_id, subject: subject, fix: fix}) AS detail
FROM v1.alert_candidates
UNION ALL
SELECT 'prediction', concat_ws(':', kind, machine_id, subject), machine_id, NULL, format('{}: {} {} at {}', machine_id, subject, kind, eta),
  format('{} h left, confidence {}', hours_left, confidence), evidence, NULL,
  to_json({kind: kind, subject: subject, eta: eta, hours_left: hours_left, confidence: confidence})
FROM v1.predictions
UNION ALL
SELECT 'opportunity', concat_ws(':', kind, machine_id, subject), machine_id, NULL, title, summary, evidence, "next",
  to_json({kind: kind, subject: subject})
FROM v1.opportunities
UNION ALL
SELECT 'health', machine_id, machine_id, severity, format('{}: {}', machine_id, severity), worst_summary, NULL, NULL,
  to_json({score: score, worst_factor: worst_factor, crit_factors: crit_factors, warn_factors: warn_factors})
FROM v1.machine_health;
COMMENT ON VIEW v1.watch_items IS 'What vc watch follows: alert conditions, predictions, opportunities and each machine''s health, keyed by type and key';
