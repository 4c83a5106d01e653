-- The health factors are computed once before these (ReportDef.healthFactors, lib/report.ts).

-- name: fleet one
SELECT * FROM v1.fleet_health;

-- name: items
SELECT rank, severity, machine_id, factor_id, subject, title, why, value, unit, warn, crit, evidence, next, fix
FROM v1.triage_items ORDER BY rank;

-- name: machines
SELECT machine_id, score, severity, worst_factor, worst_summary, crit_factors, warn_factors
FROM v1.machine_health ORDER BY score NULLS FIRST, machine_id;
