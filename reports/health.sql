-- The health factors are computed once before these (ReportDef.healthFactors, lib/report.ts).

-- name: fleet one
SELECT * FROM v1.fleet_health;

-- name: machines
SELECT machine_id, score, severity, worst_factor, worst_summary, crit_factors, warn_factors, factors
FROM v1.machine_health ORDER BY score NULLS FIRST, machine_id;

-- name: factors
SELECT machine_id, factor_id, subject, description, value, unit, warn, crit, severity, score, summary, evidence
FROM health_factors
ORDER BY machine_id, severity_rank(severity) DESC, factor_id, subject;
