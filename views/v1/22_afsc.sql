-- afsc's latest answer per machine: the rows of each machine's last successful afsc run.

CREATE VIEW v1.afsc_latest AS
SELECT a.* FROM afsc_recent a JOIN last_ok_runs l ON l.source = 'afsc' AND a.machine_id = l.machine_id AND a.run_id = l.run_id;
COMMENT ON VIEW v1.afsc_latest IS 'The rows of the last successful afsc collection of each machine: a run row (afsc''s latest run, or no_runs, or afsc''s error) and a result row per installer';

CREATE VIEW v1.afsc_runs AS
SELECT machine_id, collected_at, afsc_run_id, coalesce(no_runs, false) AS no_runs, exit_code, error,
  total, passed, failed, skipped, duration_total_ms, started_at, ended_at
FROM v1.afsc_latest WHERE "type" = 'run'
QUALIFY row_number() OVER (PARTITION BY machine_id ORDER BY collected_at DESC) = 1;
COMMENT ON VIEW v1.afsc_runs IS 'Per machine, afsc''s latest run as its status command reported it: afsc run id, totals (failed includes timed out), start and end; no_runs when afsc has none; error when afsc status itself failed';

CREATE VIEW v1.afsc_results AS
SELECT machine_id, collected_at, afsc_run_id, installer, status, installer_exit_code, duration_ms, finished_at,
  error_category, error_severity, retryable, confidence, retry_count, sha256_verified, stderr_excerpt
FROM v1.afsc_latest WHERE "type" = 'result' AND installer IS NOT NULL
QUALIFY row_number() OVER (PARTITION BY machine_id, installer ORDER BY finished_at DESC NULLS LAST) = 1;
COMMENT ON VIEW v1.afsc_results IS 'Per machine and installer, how its check ended in afsc''s latest run: status (passed, failed, timedout, skipped), installer exit code, duration, afsc''s classification of the error (category, severity, retryable, confidence), retries, checksum verified, stderr excerpt';
