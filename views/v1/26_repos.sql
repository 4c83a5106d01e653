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
