import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { tmpDir, vc } from './helpers.ts';
import { SOURCES, sqlName } from '../lib/catalog.ts';

let env: NodeJS.ProcessEnv;

before(() => {
  const dir = tmpDir();
  env = { VC_DATA_DIR: path.join(dir, 'data'), VC_CONFIG: path.join(dir, 'vc.toml') };
  fs.writeFileSync(env.VC_CONFIG!, '');
  require_ok(vc(['demo', '--machines', '4', '--days', '1'], env));
});

function require_ok(r: ReturnType<typeof vc>) {
  assert.equal(r.code, 0, `exit ${r.code}: ${r.stderr}`);
  return r;
}

const q = (sql: string, ...args: string[]) => vc(['query', sql, ...args], env);

test('every source and every documented view is queryable by name', () => {
  const views = JSON.parse(require_ok(vc(['views', '--json'], env)).stdout).data.views as
    Array<{ name: string; kind: string; description: string | null; columns: Array<{ name: string; type: string }> }>;
  const names = views.map((v) => v.name);
  for (const source of SOURCES) assert.ok(names.includes(sqlName(source)), `source ${source} is listed as ${sqlName(source)}`);
  for (const v of ['triage_items', 'health_factors', 'machine_health', 'latest_sys', 'repo_status', 'agent_processes', 'source_freshness']) {
    assert.ok(names.includes(v), `view ${v} is listed`);
  }
  for (const v of views) {
    assert.ok(v.description && v.description.length > 20, `${v.name} has a description`);
    assert.ok(v.columns.length > 0, `${v.name} has columns`);
  }
  // Every one of them in one query (a process per view costs minutes); if that fails, one by
  // one, to name the view that does not work. Bound and planned, not run to the end (LIMIT 0):
  // running ~150 views, a score of which compute the health factors again, takes minutes; the
  // views' own tests run them on data.
  const all = q(views.map((v) => `SELECT '${v.name}' AS name, count(*) AS n FROM (FROM ${v.name} LIMIT 0)`).join(' UNION ALL '), '--format', 'json', '--timeout', '600');
  if (all.code !== 0) {
    for (const v of views) {
      const r = q(`SELECT count(*) AS n FROM (FROM ${v.name} LIMIT 0)`, '--format', 'json');
      assert.equal(r.code, 0, `${v.name}: ${r.stderr}`);
    }
  }
  assert.equal(all.code, 0, all.stderr);
  assert.deepEqual(JSON.parse(all.stdout).data.rows.map((r: { name: string }) => r.name).sort(), views.map((v) => v.name).sort());
  const md = require_ok(vc(['views'], env)).stdout;
  assert.match(md, /\| triage_items \| v1 \|/);
});

test('query formats: json envelope, markdown, csv and a terminal table', () => {
  const sql = "SELECT machine_id, 'a|b' AS pipe, 'x,\"y\"' AS comma, NULL AS nothing FROM machines ORDER BY machine_id LIMIT 2";
  const json = JSON.parse(require_ok(q(sql, '--format', 'json')).stdout);
  assert.equal(json.schema_version, 'vc.query.v1');
  assert.ok(Date.parse(json.generated_at));
  assert.deepEqual(json.data.columns.map((c: { name: string }) => c.name), ['machine_id', 'pipe', 'comma', 'nothing']);
  assert.deepEqual(json.data.rows[0], { machine_id: 'demo-01', pipe: 'a|b', comma: 'x,"y"', nothing: null });
  assert.ok(Array.isArray(json.warnings) && typeof json.staleness === 'object');

  assert.match(require_ok(q(sql)).stdout, /^\| machine_id \| pipe \| comma \| nothing \|\n\|---\|---\|---\|---\|\n\| demo-01 \| a\\\|b \| x,"y" \|  \|/);
  assert.equal(require_ok(q(sql, '--format', 'csv')).stdout.split('\n')[1], 'demo-01,a|b,"x,""y""",');
  assert.match(require_ok(q(sql, '--format', 'table')).stdout, /demo-01/);
});

test('queries read the views: a day filter on a source, a CTE, a join', () => {
  const r = JSON.parse(require_ok(q(`WITH m AS (SELECT machine_id FROM machines)
    SELECT count(*) AS n FROM sys JOIN m USING (machine_id) WHERE day <= current_date`, '--format', 'json')).stdout);
  assert.ok(r.data.rows[0].n > 100);
});

test('anything but one read-only SELECT over the views is refused with exit 2 and a reason', () => {
  const refused: Array<[string, RegExp]> = [
    ["CREATE TABLE t AS SELECT 1", /only SELECT queries are allowed, not CREATE/],
    ["INSERT INTO machines VALUES ('x')", /not INSERT/],
    ["COPY (SELECT 1) TO '/tmp/vc-out.csv'", /not COPY/],
    ["ATTACH '/tmp/x.db' AS x", /not ATTACH/],
    ["INSTALL httpfs", /not INSTALL/],
    ["LOAD httpfs", /not LOAD/],
    ["SET threads = 1", /not SET/],
    ["PRAGMA version", /not PRAGMA/],
    ["SELECT * FROM read_csv('/etc/passwd')", /table function read_csv\(\) is not allowed/],
    ["SELECT * FROM read_text('/etc/hostname')", /read_text\(\) is not allowed/],
    ["SELECT * FROM '/etc/passwd'", /unknown table or view "\/etc\/passwd"/],
    ["SELECT * FROM query('SELECT 1')", /query\(\) is not allowed/],
    ["SELECT * FROM vc_read(['/etc/passwd'], true, {a: 'INTEGER'})", /vc_read\(\) is not allowed/],
    ["SELECT getenv('HOME')", /getenv\(\) is not allowed/],
    ["SELECT 1; SELECT 2", /exactly one statement/],
    ["SELEC 1", /does not parse/],
    ["   ", /empty/],
  ];
  for (const [sql, why] of refused) {
    const r = q(sql);
    assert.equal(r.code, 2, `${sql}: exit ${r.code} ${r.stderr}`);
    assert.match(r.stderr, why, sql);
    assert.equal(r.stdout, '', `${sql} printed nothing`);
  }
});

test('an unknown flag or a bad format is bad usage, exit 2', () => {
  assert.equal(q('SELECT 1', '--format', 'xml').code, 2);
  const r = q('SELECT 1', '--jsn');
  assert.equal(r.code, 2);
  assert.match(r.stderr, /unknown option --jsn/);
  assert.equal(vc(['query', 'SELECT', '1'], env).code, 2);
});

test('a query that runs too long is stopped at --timeout', () => {
  const r = q('SELECT count(*) FROM range(10000000000) a, range(10) b', '--timeout', '1');
  assert.equal(r.code, 1);
  assert.match(r.stderr, /longer than 1s and was stopped/);
});

test('a query over sources alone skips the recent window; one over a derived view reads it', async () => {
  const { needsRecentWindow } = await import('../lib/guard.ts');
  assert.equal(await needsRecentWindow("SELECT count(*) FROM sys WHERE day = DATE '2026-01-01'"), false);
  assert.equal(await needsRecentWindow('WITH x AS (SELECT * FROM repos) SELECT * FROM x JOIN configured_machines USING (machine_id)'), false);
  assert.equal(await needsRecentWindow("SELECT day, avg FROM sys_daily WHERE metric = 'cpu_util' UNION ALL SELECT day, avg FROM sys_hourly"), false);
  assert.equal(await needsRecentWindow('SELECT * FROM latest_sys'), true);
  assert.equal(await needsRecentWindow('SELECT * FROM sys WHERE machine_id IN (SELECT machine_id FROM v1.machines)'), true);
  assert.equal(await needsRecentWindow('SELECT * FROM sys_recent'), true);
  assert.equal(await needsRecentWindow('SELEC nonsense'), true);
  // Same answers either way, and the JSON envelope's staleness is always real.
  const viaSource = JSON.parse(q('SELECT count(*) AS n FROM sys', '--format', 'json').stdout);
  assert.ok(viaSource.data.rows[0].n > 0);
  assert.equal(typeof viaSource.staleness.sys, 'number');
  assert.match(q('SELECT count(*) AS n FROM sys').stdout, new RegExp(`\\| ${viaSource.data.rows[0].n} \\|`));
});
