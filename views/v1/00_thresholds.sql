-- Health thresholds: one row per factor. `higher_is_worse` says which way the value goes bad;
-- `weight` (0-1) says how much a factor matters against others of the same severity in triage.
CREATE VIEW v1.health_thresholds AS
SELECT * FROM (VALUES
  ('disk_used',          'Filesystem used % (df Capacity)',                         '%',       80.0,  90.0, true, 1.0),
  ('disk_inodes',        'Filesystem inodes used %',                                '%',       80.0,  90.0, true, 1.0),
  ('memory',             'Memory available % of total',                             '%',       10.0,   5.0, false, 1.0),
  ('swap',               'Swap used % of total',                                    '%',       25.0,  75.0, true, 0.6),
  ('load',               'load5 per CPU core, sustained for 10 minutes',           'per core', 1.5,   3.0, true, 0.7),
  ('oom_kills',          'Processes killed by the OOM killer in the recent window', 'kills',    1.0,   5.0, true, 0.9),
  ('inotify_watches',    'inotify watches of the busiest user, % of max_user_watches',   '%',  80.0,  95.0, true, 0.7),
  ('inotify_instances',  'inotify instances of the busiest user, % of max_user_instances', '%', 80.0, 95.0, true, 0.7),
  ('runaway_process',    'Minutes a process spent at >= 90% CPU in the last 2 hours', 'min',   30.0,  90.0, true, 0.8),
  ('freshness',          'Age of the newest successful run, in expected intervals', 'intervals', 3.0, 10.0, true, 0.9),
  ('collector_failures', 'Failed runs % in the recent window',                     '%',       20.0,  50.0, true, 0.6),
  ('dirty_repos',        'Repositories with uncommitted or untracked changes',      'repos',    5.0,  15.0, true, 0.4),
  ('agent_idle',         'Minutes an agent process has used no CPU',                'min',     30.0, 240.0, true, 0.4),
  ('agent_dead',         'tmux panes whose agent exited in the recent window',     'panes',    1.0,   3.0, true, 0.5),
  ('agent_stopped',      'Agent processes stopped (T) or zombie (Z)',               'agents',   1.0,   3.0, true, 0.6),
  ('usage_limit',        'Share of an agent''s usage window used, as its server reports it', '%', 80.0, 95.0, true, 0.9),
  ('usage_burn',         'Tokens in the last hour, as a multiple of the usual hour (from 1M tokens/h)', 'x', 3.0, 6.0, true, 0.5),
  ('usage_no_commits',   'Hours an agent session has burned tokens with no commit in its repository', 'h', 2.0, 4.0, true, 0.5),
  ('dcg_denies',         'Commands dcg denied in the last hour',                    'denies',  10.0,  30.0, true, 0.6),
  ('dcg_new_critical_rule', 'Hits of a critical dcg rule the machine first hit in the recent window', 'hits', 1.0, 5.0, true, 0.8),
  ('network_unknown_domains', 'Hosts agents first contacted in the recent window, not on the known list nor local', 'hosts', 3.0, 10.0, true, 0.4),
  ('network_spike',      'Agent connections in the last hour, as a multiple of the usual hour (from 30 an hour)', 'x', 3.0, 6.0, true, 0.5)
) t(factor_id, description, unit, warn, crit, higher_is_worse, weight);
COMMENT ON VIEW v1.health_thresholds IS 'Warn and crit thresholds of every health factor, with its unit, direction and triage weight (the recent window is the last vc_recent_hours hours)';
