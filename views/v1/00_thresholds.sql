-- Health thresholds: one row per factor. `higher_is_worse` says which way the value goes bad.
CREATE VIEW v1.health_thresholds AS
SELECT * FROM (VALUES
  ('disk_used',          'Filesystem used % (df Capacity)',                         '%',       80.0,  90.0, true),
  ('disk_inodes',        'Filesystem inodes used %',                                '%',       80.0,  90.0, true),
  ('memory',             'Memory available % of total',                             '%',       10.0,   5.0, false),
  ('swap',               'Swap used % of total',                                    '%',       25.0,  75.0, true),
  ('load',               'load5 per CPU core, held for 10 minutes',                 'per core', 1.5,   3.0, true),
  ('oom_kills',          'Processes killed by the OOM killer in the recent window', 'kills',    1.0,   5.0, true),
  ('inotify_watches',    'inotify watches of the busiest user, % of max_user_watches',   '%',  80.0,  95.0, true),
  ('inotify_instances',  'inotify instances of the busiest user, % of max_user_instances', '%', 80.0, 95.0, true),
  ('runaway_process',    'Minutes a process spent at >= 90% CPU in the last 2 hours', 'min',   30.0,  90.0, true),
  ('freshness',          'Age of the newest successful run, in expected intervals', 'intervals', 3.0, 10.0, true),
  ('collector_failures', 'Failed runs % in the recent window',                     '%',       20.0,  50.0, true),
  ('dirty_repos',        'Repositories with uncommitted or untracked changes',      'repos',    5.0,  15.0, true),
  ('agent_idle',         'Minutes an agent process has used no CPU',                'min',     30.0, 120.0, true),
  ('agent_dead',         'tmux panes whose agent exited in the recent window',     'panes',    1.0,   3.0, true),
  ('agent_stopped',      'Agent processes stopped (T) or zombie (Z)',               'agents',   1.0,   3.0, true)
) t(factor_id, description, unit, warn, crit, higher_is_worse);
COMMENT ON VIEW v1.health_thresholds IS 'Warn and crit thresholds of every health factor, with its unit and direction (the recent window is the last vc_recent_hours hours)';
