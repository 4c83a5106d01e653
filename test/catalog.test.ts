import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { COLLECTOR_NAMES, SOURCES, sqlName } from '../lib/catalog.ts';
import { repoRoot } from '../lib/paths.ts';
import { COLLECTOR_CODE } from '../lib/collectors.ts';

const ALL = await Promise.all(COLLECTOR_NAMES.map((n) => COLLECTOR_CODE[n]()));
const SQL = fs.readdirSync(path.join(repoRoot, 'sql')).filter((f) => f.endsWith('.sql'))
  .map((f) => fs.readFileSync(path.join(repoRoot, 'sql', f), 'utf8')).join('\n');

test('the catalog, the collector scripts, the collector code and the SQL name the same sources', () => {
  const scripts = fs.readdirSync(path.join(repoRoot, 'collect')).filter((f) => f.endsWith('.ts')).map((f) => f.slice(0, -3)).sort();
  assert.deepEqual(scripts, [...COLLECTOR_NAMES].sort());
  assert.deepEqual(ALL.map((d) => d.name), [...COLLECTOR_NAMES]);
  for (const source of SOURCES) {
    assert.match(SQL, new RegExp(`CREATE VIEW ${sqlName(source)} AS`), `a full-history view for ${source}`);
    assert.match(SQL, new RegExp(`CREATE MACRO vc_${sqlName(source)}_recent\\(\\) AS TABLE`), `the recent window's rows for ${source} (lib/definitions.ts makes the table)`);
  }
});

test('the SQL reads every field a collector stores, with a matching type', () => {
  // Each source's vc_<source>_columns() declares data's fields; the zod schema declares what is stored.
  for (const def of ALL) {
    const columns = new RegExp(`CREATE MACRO vc_${sqlName(def.name)}_columns\\(\\) AS \\{[\\s\\S]*?data: 'STRUCT\\(([\\s\\S]*?)\\)'\\n`).exec(SQL);
    assert.ok(columns, `vc_${sqlName(def.name)}_columns() with a data STRUCT`);
    const struct = columns[1]!;
    const schema = def.schema;
    let flat = struct;
    while (/\([^()]*\)/.test(flat)) flat = flat.replace(/\([^()]*\)/g, '');
    const sqlFields = flat.split(',').map((f) => f.trim().split(/\s+/)[0]!.replace(/"/g, '')).filter(Boolean).sort();
    const shape = 'options' in schema ? (schema as any).options[0].shape : (schema as any).shape;
    assert.deepEqual(sqlFields, Object.keys(shape).sort(), def.name);
  }
});
