-- The repository picture of each machine: vc's own repos collector (every git repository under
-- its roots, with counts, stash and last commit) merged with ru's (the repositories ru is set to
-- keep, cloned or not, and whether origin matches ru's config), one row per machine and path.
-- Where both saw a repository, its branch, ahead/behind and dirty come from the fresher of the two
-- runs (both measure against the last fetched tracking refs; the older falls in where the fresher
-- does not know), and vc's counts, stash and last commit stay as vc last read them.

-- Paths as both collectors may print them: one slash between names, none at the end.
CREATE MACRO vc_path_key(p) AS CASE WHEN p IS NULL THEN NULL
  ELSE coalesce(nullif(rtrim(regexp_replace(p, '/+', '/', 'g'), '/'), ''), '/') END;

CREATE VIEW v1.repos_merged AS
WITH vc_side AS (SELECT *, vc_path_key(path) AS pkey FROM repo_status),
ru_side AS (SELECT *, vc_path_key(path) AS pkey FROM v1.ru_repos),
joined AS (
  SELECT r, u, coalesce(r.machine_id, u.machine_id) AS machine_id, coalesce(r.path, u.path) AS path,
    -- ru's git state counts when it is the newer reading (a tie goes to vc's richer one); its
    -- listed-only rows (status NULL) say nothing about git.
    u.machine_id IS NOT NULL AND u.status IS NOT NULL AND (r.machine_id IS NULL OR u.collected_at > r.collected_at) AS ru_fresher
  FROM vc_side r FULL JOIN ru_side u ON r.machine_id = u.machine_id AND r.pkey = u.pkey
),
merged AS (
  SELECT machine_id, path,
    coalesce(r.name, regexp_extract(u.path, '([^/]+)/*$', 1)) AS name,
    list_filter(['repos', 'ru'], s -> (s = 'repos' AND r.machine_id IS NOT NULL) OR (s = 'ru' AND u.machine_id IS NOT NULL)) AS seen_by,
    CASE WHEN ru_fresher THEN 'ru' WHEN r.machine_id IS NOT NULL THEN 'repos' END AS state_from,
    r.collected_at AS repos_collected_at, u.collected_at AS ru_collected_at,
    CASE WHEN ru_fresher THEN u.branch ELSE coalesce(r.branch, u.branch) END AS branch,
    CASE WHEN ru_fresher THEN coalesce(u.ahead, r.ahead) ELSE coalesce(r.ahead, u.ahead) END AS ahead,
    CASE WHEN ru_fresher THEN coalesce(u.behind, r.behind) ELSE coalesce(r.behind, u.behind) END AS behind,
    CASE WHEN ru_fresher THEN u.dirty WHEN r.machine_id IS NOT NULL THEN r.dirty ELSE u.dirty END AS dirty,
    -- vc's branch is NULL when HEAD is detached (or unreadable: then error is set); ru's is "" (stored NULL).
    CASE WHEN ru_fresher THEN u.branch IS NULL AND u.status NOT IN ('missing', 'not_git')
      WHEN r.machine_id IS NOT NULL THEN r.branch IS NULL AND r.error IS NULL END AS detached,
    r.upstream, r.dirty_files, r.staged_files, r.untracked_files, r.conflicted_files, r.stash_count,
    r.last_commit_at, r.last_commit_subject, r.last_commit_age_s, r.remote_url, r.error,
    u.repo AS ru_repo, u.url AS ru_url, u.status AS ru_status, u.mismatch,
    ru_fresher, r.state AS repos_state
  FROM joined
)
SELECT machine_id, path, name, seen_by, state_from, repos_collected_at, ru_collected_at,
  CASE
    WHEN state_from IS NULL THEN NULL
    WHEN ru_fresher AND ru_status IN ('missing', 'not_git') THEN ru_status
    WHEN NOT ru_fresher THEN repos_state
    WHEN dirty THEN 'dirty'
    WHEN ru_status = 'diverged' OR (coalesce(ahead, 0) > 0 AND coalesce(behind, 0) > 0) THEN 'diverged'
    WHEN coalesce(ahead, 0) > 0 THEN 'ahead'
    WHEN coalesce(behind, 0) > 0 THEN 'behind'
    WHEN detached THEN 'detached'
    ELSE 'clean' END AS state,
  branch, upstream, ahead, behind, dirty, detached, dirty_files, staged_files, untracked_files, conflicted_files, stash_count,
  last_commit_at, last_commit_subject, last_commit_age_s, remote_url, error, ru_repo, ru_url, ru_status, mismatch
FROM merged;
COMMENT ON VIEW v1.repos_merged IS 'One row per machine and repository path, from vc''s repos collector and ru merged (seen_by): state (as repo_status, plus missing and not_git from ru; NULL for a repository ru lists but has no status of), branch, ahead/behind and dirty from the fresher reading (state_from), vc''s counts, stash and last commit, ru''s repo id, URL, status and origin mismatch';

-- A repository hot recently that went cold: work that was moving and stopped with something left
-- behind. A repos run sees only a repository's newest commit, so the last run of a day sees that
-- day's commits if it had any: the distinct days of the newest commits seen by the last run of
-- each of the last vc_day_end_days closed days (repos_day_ends, a run's few KB per day instead of
-- whole day files) and by the latest run are the days it had commits. Hot: commits on at least
-- vc_repo_hot_days() of those days. Quiet since: the newest commit seen at all (a reset to an older
-- commit or a switch to an older branch is no new work). Work left: uncommitted changes or commits
-- not pushed, as vc's latest scan saw them (repo_status, like dirty_repos: merging ru's reading in,
-- as repos_merged does, made the health factors measurably slower for little).
-- repo_cold grades the hours quiet (warn 48 h); a repository that stays cold drops out by itself
-- once its busy days leave the window.
CREATE MACRO vc_repo_hot_days() AS 3;

CREATE VIEW v1.repo_commit_days AS
WITH seen AS (
  -- Per repository and day of a commit seen: the newest, and whether it falls in the window.
  SELECT machine_id, path, last_commit_at::DATE AS day, max(last_commit_at) AS newest,
    bool_or(last_commit_at > vc_now() - to_days(getvariable('vc_day_end_days')) AND last_commit_at <= vc_now()) AS in_window
  FROM (SELECT machine_id, path, last_commit_at FROM repos_day_ends UNION ALL SELECT machine_id, path, last_commit_at FROM repo_status)
  WHERE last_commit_at IS NOT NULL
  GROUP BY ALL
),
days AS (
  SELECT machine_id, path, max(newest) AS newest_seen_at, list("day" ORDER BY "day") FILTER (WHERE in_window) AS commit_dates
  FROM seen GROUP BY machine_id, path
),
repos AS (
  SELECT r.machine_id, r.path, r.name, r.branch, r.state, coalesce(d.commit_dates, []) AS commit_dates,
    greatest(d.newest_seen_at, r.last_commit_at) AS newest_commit_at, r.last_commit_subject,
    r.dirty_files, r.untracked_files, r.ahead, coalesce(r.dirty, false) OR coalesce(r.ahead, 0) > 0 AS work_left
  FROM repo_status r LEFT JOIN days d ON d.machine_id = r.machine_id AND d.path = r.path
)
SELECT machine_id, path, name, branch, state, len(commit_dates) AS commit_days, commit_dates,
  len(commit_dates) >= vc_repo_hot_days() AS hot, newest_commit_at,
  round(seconds_between(newest_commit_at, vc_now()) / 3600, 1) AS hours_quiet, last_commit_subject,
  dirty_files, untracked_files, ahead, work_left
FROM repos;
COMMENT ON VIEW v1.repo_commit_days IS 'Per repository of vc''s latest repos scan: the days with commits among the last vc_day_end_days (commit_dates, from the newest commit each day''s last run saw), hot (commits on at least vc_repo_hot_days() of them), the newest commit seen and the hours since (hours_quiet), and whether work is left (uncommitted changes or commits not pushed)';

CREATE VIEW v1.repo_factors AS
SELECT machine_id, 'repo_cold' AS factor_id, path AS subject, hours_quiet AS value,
  format('{} ({}) had commits on {} of the last {} days, none for {}; left: {}', name, coalesce(branch, 'detached HEAD'), commit_days,
    getvariable('vc_day_end_days'), human_age(hours_quiet * 3600),
    coalesce(nullif(concat_ws(', ', CASE WHEN dirty_files > 0 THEN format('{} changed', dirty_files) END,
      CASE WHEN untracked_files > 0 THEN format('{} untracked', untracked_files) END,
      CASE WHEN ahead > 0 THEN format('{} commit{} not pushed', ahead, CASE WHEN ahead = 1 THEN '' ELSE 's' END) END), ''), 'uncommitted changes')) AS summary,
  to_json({path: path, branch: branch, state: state, commit_days: commit_days, commit_dates: commit_dates, newest_commit_at: newest_commit_at,
    last_commit_subject: last_commit_subject, dirty_files: dirty_files, untracked_files: untracked_files, ahead: ahead}) AS evidence,
  format('{}: {} went cold {} ago with work left', machine_id, name, human_age(hours_quiet * 3600)) AS title,
  [vc_query_cmd(machine_id, 'name, branch, commit_days, newest_commit_at, hours_quiet, dirty_files, untracked_files, ahead, path', 'repo_commit_days',
    ' AND hot AND work_left ORDER BY newest_commit_at'), 'vc report repos --md'] AS next,
  -- The path is free text: single-quoted for sh.
  format('git -C ''{}'' status --short --branch', replace(path, '''', '''\''''')) AS fix
FROM v1.repo_commit_days WHERE hot AND work_left;
COMMENT ON VIEW v1.repo_factors IS 'Repository health factors: repo_cold (hours since the newest commit of a repository hot in the last days that still has work left), with triage titles and next commands';
