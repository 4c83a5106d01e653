-- Repositories from vc's repos collector and ru, merged per machine and path (views/v1/26_repos.sql).

-- name: machines
SELECT machine_id, count(*) AS repos, count(*) FILTER (WHERE dirty) AS dirty,
  count(*) FILTER (WHERE coalesce(ahead, 0) > 0) AS ahead, count(*) FILTER (WHERE coalesce(behind, 0) > 0) AS behind,
  count(*) FILTER (WHERE state = 'conflicted') AS conflicted, count(*) FILTER (WHERE error IS NOT NULL) AS errors,
  count(*) FILTER (WHERE state = 'missing') AS missing, count(*) FILTER (WHERE mismatch) AS mismatched
FROM v1.repos_merged GROUP BY machine_id ORDER BY machine_id;

-- name: repos
SELECT machine_id, name, path, state, branch, detached, upstream, ahead, behind, dirty, dirty_files, staged_files, untracked_files,
  conflicted_files, stash_count, last_commit_at, last_commit_age_s, last_commit_subject, remote_url, error,
  seen_by, state_from, ru_repo, ru_url, ru_status, mismatch
FROM v1.repos_merged
ORDER BY CASE state WHEN 'error' THEN 0 WHEN 'conflicted' THEN 1 WHEN 'dirty' THEN 2 WHEN 'diverged' THEN 3
  WHEN 'missing' THEN 4 WHEN 'not_git' THEN 5 WHEN 'ahead' THEN 6 WHEN 'behind' THEN 7 ELSE 8 END,
  coalesce(dirty_files, 0) + coalesce(untracked_files, 0) DESC, machine_id, path;
