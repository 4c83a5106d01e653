-- Setup: whether the machines' installers still install, by afsc's latest run of checks.

CREATE VIEW v1.setup_status AS
WITH r AS (
  SELECT machine_id, count(*) AS results,
    count(*) FILTER (WHERE status = 'passed') AS passed_results,
    count(*) FILTER (WHERE status IN ('failed', 'timedout')) AS failed_results,
    count(*) FILTER (WHERE status = 'timedout') AS timedout,
    list(installer ORDER BY installer) FILTER (WHERE status IN ('failed', 'timedout')) AS failing,
    list(DISTINCT error_category ORDER BY error_category) FILTER (WHERE status IN ('failed', 'timedout') AND error_category IS NOT NULL) AS categories,
    max(finished_at) AS last_finished_at
  FROM v1.afsc_results GROUP BY machine_id
)
SELECT a.machine_id, a.collected_at, a.afsc_run_id,
  CASE WHEN a.error IS NOT NULL THEN 'error' WHEN a.no_runs THEN 'no_runs'
    WHEN coalesce(a.failed, r.failed_results) > 0 THEN 'failing' ELSE 'passing' END AS state,
  a.error, a.started_at, coalesce(a.ended_at, r.last_finished_at) AS ended_at,
  seconds_between(coalesce(a.ended_at, r.last_finished_at), vc_now()) AS age_s,
  coalesce(a.total, r.results) AS total, coalesce(a.passed, r.passed_results) AS passed,
  coalesce(a.failed, r.failed_results) AS failed, r.timedout, a.skipped,
  coalesce(r.failing, []) AS failing_installers, coalesce(r.categories, []) AS error_categories
FROM v1.afsc_runs a LEFT JOIN r USING (machine_id);
COMMENT ON VIEW v1.setup_status IS 'Per machine, afsc''s latest run of installer checks: state (passing, failing, no_runs, error), when it ended and how long ago, totals (failed includes timed out), the failing installers and their error categories';

CREATE VIEW v1.setup_errors AS
SELECT machine_id, afsc_run_id, installer, status, installer_exit_code, error_category, error_severity, retryable, confidence,
  retry_count, finished_at, duration_ms, stderr_excerpt
FROM v1.afsc_results WHERE status IN ('failed', 'timedout');
COMMENT ON VIEW v1.setup_errors IS 'Installers whose check failed or timed out in afsc''s latest run, with afsc''s classified error (category, PascalCase severity, retryable, confidence 0-1), exit code and stderr excerpt';

CREATE VIEW v1.setup_factors AS
WITH failing AS (
  SELECT s.machine_id, 'setup_failures' AS factor_id, s.failed AS value,
    format('{} of {} installers failed their check in afsc''s run that ended {} UTC{}', s.failed, s.total,
      strftime(s.ended_at, '%Y-%m-%d %H:%M'),
      CASE WHEN s.failed > 0 THEN ': ' || (SELECT string_agg(format('{} ({}{}{})', e.installer, e.status,
          CASE WHEN e.error_category IS NOT NULL THEN ', ' || e.error_category ELSE '' END,
          CASE WHEN e.retryable THEN ', retryable' ELSE '' END), '; ' ORDER BY e.installer)
        FROM v1.setup_errors e WHERE e.machine_id = s.machine_id) ELSE '' END) AS summary,
    to_json({afsc_run_id: s.afsc_run_id, ended_at: s.ended_at, total: s.total, passed: s.passed, failed: s.failed, timedout: s.timedout,
      errors: (SELECT list({installer: e.installer, status: e.status, category: e.error_category, severity: e.error_severity,
                 retryable: e.retryable, exit_code: e.installer_exit_code} ORDER BY e.installer) FROM v1.setup_errors e WHERE e.machine_id = s.machine_id)}) AS evidence,
    format('{}: {} installer{} failing the setup check', s.machine_id, s.failed, CASE WHEN s.failed = 1 THEN '' ELSE 's' END) AS title,
    [vc_query_cmd(s.machine_id, 'installer, status, error_category, error_severity, retryable, installer_exit_code, stderr_excerpt', 'setup_errors', ' ORDER BY installer')] AS next,
    'RUST_LOG=off automated_flywheel_setup_checker status' AS fix
  FROM v1.setup_status s WHERE s.state IN ('failing', 'passing')
),
stale AS (
  -- afsc's shipped timer can fail without a trace: a latest run that keeps getting older says so.
  SELECT machine_id, 'setup_stale' AS factor_id, round(age_s / 3600, 1) AS value,
    CASE WHEN state = 'no_runs' THEN 'info' WHEN state = 'error' THEN 'warn' END AS severity_override,
    CASE WHEN state = 'no_runs' THEN 'afsc has recorded no run on this machine yet'
      WHEN state = 'error' THEN format('afsc status failed: {}', error)
      ELSE format('afsc''s latest run ended {} ago ({} UTC)', human_age(age_s), strftime(ended_at, '%Y-%m-%d %H:%M')) END AS summary,
    to_json({state: state, afsc_run_id: afsc_run_id, ended_at: ended_at, age_s: age_s, error: error}) AS evidence,
    CASE WHEN state = 'error' THEN format('{}: afsc cannot report its setup checks', machine_id)
      ELSE format('{}: setup last checked {} ago', machine_id, human_age(age_s)) END AS title,
    [vc_query_cmd(machine_id, 'state, afsc_run_id, ended_at, age_s, total, failed, error', 'setup_status', '')] AS next,
    CASE WHEN state = 'error' THEN 'RUST_LOG=off automated_flywheel_setup_checker status' ELSE 'systemctl list-timers --all' END AS fix
  FROM v1.setup_status
)
FROM failing UNION ALL BY NAME FROM stale;
COMMENT ON VIEW v1.setup_factors IS 'Setup health factors per machine: setup_failures (installers failing in afsc''s latest run), setup_stale (hours since that run ended; warn when afsc status fails, info when it has no run yet)';
