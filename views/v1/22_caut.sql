-- caut's latest answer per machine: the rows of each machine's last successful caut run.

CREATE VIEW v1.caut_latest AS
SELECT c.* FROM caut_recent c JOIN last_ok_runs l ON l.source = 'caut' AND c.machine_id = l.machine_id AND c.run_id = l.run_id;
COMMENT ON VIEW v1.caut_latest IS 'The rows of the last successful caut run of each machine: its run row, a provider row per account, an error row per provider it could not fetch';

CREATE VIEW v1.caut_windows AS
SELECT machine_id, collected_at, provider, account, source, login_method, account_organization, w.*,
  updated_at, status_indicator, status_description, auth_warning
FROM caut_latest,
  LATERAL (SELECT * FROM (VALUES
    ('primary', primary_used_percent, primary_window_minutes, primary_resets_at),
    ('secondary', secondary_used_percent, secondary_window_minutes, secondary_resets_at),
    ('tertiary', tertiary_used_percent, tertiary_window_minutes, tertiary_resets_at)
  ) v("window", used_percent, window_minutes, resets_at) WHERE used_percent IS NOT NULL OR resets_at IS NOT NULL) w
WHERE "type" = 'provider';
COMMENT ON VIEW v1.caut_windows IS 'One row per account and usage window caut reported (primary: the 5-hour window, secondary/tertiary: weekly), with used %, window length and reset time; windows caut had no data for are left out';
