-- vc diff --from T1 --to T2 (vc report diff --since T1 --until T2): what changed between the
-- fleet snapshots nearest before each time (views/v1/80_snapshots.sql). Default: the last day.

-- name: window one
SELECT t.from_ts, t.to_ts,
  (SELECT max(ts) FROM snapshot_log WHERE ts <= t.from_ts) AS from_snapshot,
  (SELECT max(ts) FROM snapshot_log WHERE ts <= t.to_ts) AS to_snapshot
FROM (SELECT coalesce(getvariable('vc_report_since'), vc_now() - INTERVAL 1 DAY) AS from_ts,
  least(coalesce(getvariable('vc_report_until'), vc_now()), vc_now()) AS to_ts) t;

-- name: machines
SELECT * FROM vc_diff_machines(
  coalesce(getvariable('vc_report_since'), vc_now() - INTERVAL 1 DAY), least(coalesce(getvariable('vc_report_until'), vc_now()), vc_now()))
WHERE change <> 'same' AND (getvariable('vc_report_machine') IS NULL OR machine_id = getvariable('vc_report_machine'))
ORDER BY change, machine_id;

-- name: factors
SELECT * FROM vc_diff_factors(
  coalesce(getvariable('vc_report_since'), vc_now() - INTERVAL 1 DAY), least(coalesce(getvariable('vc_report_until'), vc_now()), vc_now()))
WHERE getvariable('vc_report_machine') IS NULL OR machine_id = getvariable('vc_report_machine')
ORDER BY machine_id, change, factor_id, subject;

-- name: alerts
SELECT * FROM vc_diff_alerts(
  coalesce(getvariable('vc_report_since'), vc_now() - INTERVAL 1 DAY), least(coalesce(getvariable('vc_report_until'), vc_now()), vc_now()))
WHERE getvariable('vc_report_machine') IS NULL OR machine_id = getvariable('vc_report_machine')
ORDER BY ts, alert_id;
