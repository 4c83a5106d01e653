-- Source `tools`: per probe, the machine's host name, kernel, arch and the programs it has.

-- The stored line's columns, typed once.
CREATE MACRO vc_tools_columns() AS {
  machine_id: 'VARCHAR', collected_at: 'TIMESTAMP', run_id: 'VARCHAR', collector_version: 'VARCHAR',
  schema_version: 'INTEGER', "key": 'VARCHAR',
  data: 'STRUCT(
    hostname VARCHAR, kernel VARCHAR, arch VARCHAR, tools STRUCT(name VARCHAR, path VARCHAR)[]
  )'
};

CREATE VIEW tools AS
FROM vc_read_days(getvariable('vc_files_tools'), getvariable('vc_parquet_tools'), vc_tools_columns());
COMMENT ON VIEW tools IS 'Source tools (all history; filter on day to read only those days): per probe, host name, kernel, arch and tools[] (name, path or NULL when absent)';

-- The recent window's rows (the last hours, plus each machine's newest day): what every derived
-- view reads as tools_recent, which each session sets up once (lib/duck.ts loadRecent).
CREATE MACRO vc_tools_recent() AS TABLE
FROM vc_read(getvariable('vc_recent_tools'), getvariable('vc_recent_parquet_tools'), getvariable('vc_recent_tail_tools'), getvariable('vc_tolerant'), vc_tools_columns());
