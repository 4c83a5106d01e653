import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { COLLECTOR_NAMES, SOURCES, sqlName } from '../lib/catalog.ts';
import { repoRoot } from '../lib/paths.ts';
import { agentsCollector } from '../lib/sources/agents.ts';
import { claudeLogsCollector } from '../lib/sources/claude-logs.ts';
import { codexLogsCollector } from '../lib/sources/codex-logs.ts';
import { geminiLogsCollector } from '../lib/sources/gemini-logs.ts';
import { reposCollector } from '../lib/sources/repos.ts';
import { sysCollector } from '../lib/sources/sys.ts';
import { toolsCollector } from '../lib/sources/tools.ts';

const ALL = [sysCollector, reposCollector, agentsCollector, toolsCollector, claudeLogsCollector, codexLogsCollector, geminiLogsCollector];

test('the catalog, the collector scripts, the collector code and the SQL name the same sources', () => {
  const scripts = fs.readdirSync(path.join(repoRoot, 'collect')).filter((f) => f.endsWith('.ts')).map((f) => f.slice(0, -3)).sort();
  assert.deepEqual(scripts, [...COLLECTOR_NAMES].sort());
  assert.deepEqual(ALL.map((d) => d.name).sort(), [...COLLECTOR_NAMES].sort());
  const sql = fs.readdirSync(path.join(repoRoot, 'sql')).filter((f) => f.endsWith('.sql'))
    .map((f) => fs.readFileSync(path.join(repoRoot, 'sql', f), 'utf8')).join('\n');
  for (const source of SOURCES) {
    assert.match(sql, new RegExp(`CREATE VIEW ${sqlName(source)} AS`), `a full-history view for ${source}`);
    assert.match(sql, new RegExp(`CREATE MACRO vc_${sqlName(source)}_recent\\(\\) AS TABLE`), `the recent window's rows for ${source} (lib/definitions.ts makes the table)`);
  }
});

test('the SQL reads every field a collector stores, with a matching type', () => {
  // Each source's vc_<source>_columns() declares data's fields; the zod schema declares what is stored.
  const sqlText = (file: string) => fs.readFileSync(path.join(repoRoot, 'sql', file), 'utf8');
  const cases = [
    ['10_sys.sql', sysCollector.schema], ['11_repos.sql', reposCollector.schema], ['12_agents.sql', agentsCollector.schema],
    ['14_tools.sql', toolsCollector.schema], ['15_claude_logs.sql', claudeLogsCollector.schema],
    ['16_codex_logs.sql', codexLogsCollector.schema], ['17_gemini_logs.sql', geminiLogsCollector.schema],
  ] as const;
  for (const [file, schema] of cases) {
    const struct = /data: 'STRUCT\(([\s\S]*?)\)'\n/.exec(sqlText(file))![1]!;
    // Top-level field names of the STRUCT (nested STRUCT(...) bodies removed first).
    let flat = struct;
    while (/\([^()]*\)/.test(flat)) flat = flat.replace(/\([^()]*\)/g, '');
    const sqlFields = flat.split(',').map((f) => f.trim().split(/\s+/)[0]!.replace(/"/g, '')).filter(Boolean).sort();
    const shape = 'options' in schema ? (schema as any).options[0].shape : (schema as any).shape;
    assert.deepEqual(sqlFields, Object.keys(shape).sort(), file);
  }
});
