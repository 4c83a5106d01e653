-- Shared macros. Everything time-dependent goes through vc_now(), so `--as-of` can move it.

CREATE MACRO vc_now() AS getvariable('vc_now')::TIMESTAMP;

-- Severity order used for ranking: crit > warn > info > ok.
CREATE MACRO severity_rank(s) AS CASE s WHEN 'crit' THEN 3 WHEN 'warn' THEN 2 WHEN 'info' THEN 1 ELSE 0 END;

-- Grades a value against warn/crit thresholds; `higher_is_worse` picks the direction.
-- NULL value -> NULL severity (unknown is not ok).
CREATE MACRO grade(value, warn, crit, higher_is_worse) AS CASE
  WHEN value IS NULL THEN NULL
  WHEN higher_is_worse AND crit IS NOT NULL AND value >= crit THEN 'crit'
  WHEN higher_is_worse AND warn IS NOT NULL AND value >= warn THEN 'warn'
  WHEN NOT higher_is_worse AND crit IS NOT NULL AND value <= crit THEN 'crit'
  WHEN NOT higher_is_worse AND warn IS NOT NULL AND value <= warn THEN 'warn'
  ELSE 'ok' END;

-- Health score of one factor: 1 is fine, 0 is on fire.
CREATE MACRO severity_score(s) AS CASE s WHEN 'crit' THEN 0.2 WHEN 'warn' THEN 0.6 WHEN 'info' THEN 0.9 WHEN 'ok' THEN 1.0 ELSE NULL END;

CREATE MACRO pct(part, whole) AS CASE WHEN whole IS NULL OR whole = 0 THEN NULL ELSE round(100.0 * part / whole, 1) END;

-- Seconds between two timestamps (NULL-safe), exact to the millisecond (no float noise).
CREATE MACRO seconds_between(a, b) AS CASE WHEN a IS NULL OR b IS NULL THEN NULL ELSE (epoch_ms(b) - epoch_ms(a)) / 1000 END;

-- "3d 4h", "12m", "40s": compact ages for Markdown.
CREATE MACRO human_age(s) AS CASE
  WHEN s IS NULL THEN NULL
  WHEN s < 90 THEN CAST(CAST(round(s) AS BIGINT) AS VARCHAR) || 's'
  WHEN s < 5400 THEN CAST(CAST(round(s / 60) AS BIGINT) AS VARCHAR) || 'm'
  WHEN s < 172800 THEN CAST(CAST(floor(s / 3600) AS BIGINT) AS VARCHAR) || 'h' ||
       CASE WHEN s < 36000 AND CAST(floor((s % 3600) / 60) AS BIGINT) > 0 THEN CAST(CAST(floor((s % 3600) / 60) AS BIGINT) AS VARCHAR) || 'm' ELSE '' END
  ELSE CAST(CAST(floor(s / 86400) AS BIGINT) AS VARCHAR) || 'd' ||
       CASE WHEN CAST(floor((s % 86400) / 3600) AS BIGINT) > 0 THEN CAST(CAST(floor((s % 86400) / 3600) AS BIGINT) AS VARCHAR) || 'h' ELSE '' END
  END;

-- "12.35M", "3.4k", "950": token counts for Markdown.
CREATE MACRO human_count(n) AS CASE
  WHEN n IS NULL THEN NULL
  WHEN abs(n) >= 1e9 THEN printf('%.2fB', n / 1e9)
  WHEN abs(n) >= 1e6 THEN printf('%.2fM', n / 1e6)
  WHEN abs(n) >= 1e3 THEN printf('%.1fk', n / 1e3)
  ELSE CAST(CAST(round(n) AS BIGINT) AS VARCHAR)
  END;

-- Configured machines (from vc.toml; the local machine when there is none; a demo's machines).
CREATE VIEW configured_machines AS
SELECT m.machine_id, m.ssh, m.tags, m.collectable, m.collectors FROM (SELECT unnest(getvariable('vc_machines')) AS m);
COMMENT ON VIEW configured_machines IS 'Machines listed in vc.toml (or the implicit local machine, or a demo fleet''s): id, ssh target, tags, whether vc collect can reach it, and the collectors it runs with their intervals';

-- Expected collection interval per source (seconds), from each collector's settings.
CREATE VIEW source_intervals AS
SELECT unnest(map_keys(getvariable('vc_intervals'))) AS source, unnest(map_values(getvariable('vc_intervals'))) AS interval_s;
COMMENT ON VIEW source_intervals IS 'Expected collection interval of each enabled collector, in seconds';

-- A `vc query` command line about one machine, for triage's next steps. Callers pass only
-- column lists, view names and plain ids, never free text, so the result is safe to paste into sh.
CREATE MACRO vc_query_cmd(machine, cols, view_name, extra) AS
  format('vc query "SELECT {} FROM {} WHERE machine_id = ''{}''{}"', cols, view_name, machine, extra);

-- Start of the recent window that derived views work in (lib/duck.ts RECENT_HOURS).
CREATE MACRO vc_recent_since() AS vc_now() - to_hours(getvariable('vc_recent_hours')::BIGINT);
