-- name: machines
SELECT machine_id, count(*) AS repos, count(*) FILTER (WHERE dirty) AS dirty,
  count(*) FILTER (WHERE coalesce(ahead, 0) > 0) AS ahead, count(*) FILTER (WHERE coalesce(behind, 0) > 0) AS behind,
  count(*) FILTER (WHERE state = 'conflicted') AS conflicted, count(*) FILTER (WHERE error IS NOT NULL) AS errors
FROM v1.repo_status GROUP BY machine_id ORDER BY machine_id;

-- name: repos
SELECT machine_id, name, path, state, branch, upstream, ahead, behind, dirty_files, staged_files, untracked_files,
  conflicted_files, stash_count, last_commit_at, last_commit_age_s, last_commit_subject, remote_url, error
FROM v1.repo_status
ORDER BY CASE state WHEN 'error' THEN 0 WHEN 'conflicted' THEN 1 WHEN 'dirty' THEN 2 WHEN 'diverged' THEN 3
  WHEN 'ahead' THEN 4 WHEN 'behind' THEN 5 ELSE 6 END, coalesce(dirty_files, 0) + coalesce(untracked_files, 0) DESC, machine_id, path;
