-- ru's latest answer per machine: the rows of each machine's last successful ru run.

CREATE VIEW v1.ru_latest AS
SELECT r.* FROM ru_recent r JOIN last_ok_runs l ON l.source = 'ru' AND r.machine_id = l.machine_id AND r.run_id = l.run_id;
COMMENT ON VIEW v1.ru_latest IS 'The rows of the last successful ru run of each machine: its run row and a repo row per configured repository';

CREATE VIEW v1.ru_repos AS
SELECT machine_id, collected_at, repo, path, url, status, branch, ahead, behind, dirty, mismatch
FROM v1.ru_latest WHERE "type" = 'repo'
QUALIFY row_number() OVER (PARTITION BY machine_id, path ORDER BY status IS NULL, "key") = 1;
COMMENT ON VIEW v1.ru_repos IS 'Per machine, one row per repository ru keeps (by path): repo id, configured URL, status (current, ahead, behind, diverged, no_upstream, not_git, missing; NULL: listed but not in status), branch, ahead/behind (NULL: ru could not count), dirty, origin mismatch';
