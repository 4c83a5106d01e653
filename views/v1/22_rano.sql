-- rano staging: every connect and close once, with the remote host it stands for.

-- From a table of rano rows (rano, rano_recent or a span of rano): a row read again (the same key)
-- counts once. `host` is the resolved domain (lower case, without a trailing dot), else the remote
-- IP: rano writes "unknown" when it could not resolve the address.
CREATE MACRO vc_rano_events(src) AS TABLE
SELECT machine_id, ts, "event", provider, pid, comm, cmdline_head, proto, local_ip, local_port, remote_ip, remote_port,
  "domain",
  coalesce(nullif(nullif(rtrim(lower("domain"), '.'), ''), 'unknown'), remote_ip) AS host,
  coalesce(nullif(nullif(rtrim(lower("domain"), '.'), ''), 'unknown') IS NOT NULL, false) AS resolved,
  remote_is_private, ip_version, duration_ms, alert, retry_count, ancestry_path, host_first_seen_at,
  monitor_run_id, id AS store_id, collected_at, "key"
FROM query_table(src)
QUALIFY row_number() OVER (PARTITION BY machine_id, "key" ORDER BY collected_at DESC) = 1;

CREATE VIEW v1.rano_events AS FROM vc_rano_events('rano_recent');
COMMENT ON VIEW v1.rano_events IS 'rano over the recent window: one row per connect or close (deduplicated), with process, provider, addresses, domain, host (the domain, else the remote IP), duration of a close, alert flag and when the store first saw the host';
