import { test } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { agentsSchema } from '../lib/sources/agents.ts';
import { reposSchema } from '../lib/sources/repos.ts';
import { sysSchema } from '../lib/sources/sys.ts';
import { toolsSchema } from '../lib/sources/tools.ts';
import { tmpDir, vc, withNulls } from './helpers.ts';

const END = '2026-11-20T12:00:00Z';

function demo(args: string[] = []) {
  const dir = tmpDir();
  const env = { VC_DATA_DIR: path.join(dir, 'data'), VC_CONFIG: path.join(dir, 'vc.toml') };
  fs.writeFileSync(env.VC_CONFIG, '');
  const r = vc(['demo', '--machines', '3', '--days', '1', '--end', END, ...args], env);
  return { env, r };
}

/** Every raw file under the data dir, by relative path, with a hash of its content. */
function snapshot(dataDir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else out[path.relative(dataDir, p)] = crypto.createHash('sha256').update(fs.readFileSync(p)).digest('hex');
    }
  };
  walk(path.join(dataDir, 'raw'));
  return out;
}

test('the same arguments write the same fleet, byte for byte; another seed differs', () => {
  const a = demo();
  const b = demo();
  const c = demo(['--seed', '2']);
  for (const x of [a, b, c]) assert.equal(x.r.code, 0, x.r.stderr);
  const sa = snapshot(a.env.VC_DATA_DIR);
  assert.ok(Object.keys(sa).length >= 15, 'sys, repos, agents, tools and collector_runs for 3 machines');
  assert.deepEqual(snapshot(b.env.VC_DATA_DIR), sa);
  assert.notDeepEqual(snapshot(c.env.VC_DATA_DIR), sa);
  assert.match(a.r.stdout, /synthetic fleet of 3 machines over 1 days/);
});

test('every demo line is what the real collectors store: the envelope and data pass their schemas', () => {
  const { env } = demo();
  const schemas = { sys: sysSchema, repos: reposSchema, agents: agentsSchema, tools: toolsSchema } as const;
  let checked = 0;
  for (const source of ['sys', 'repos', 'agents', 'tools', 'collector_runs']) {
    const dir = path.join(env.VC_DATA_DIR, 'raw', source);
    for (const m of fs.readdirSync(dir)) {
      for (const f of fs.readdirSync(path.join(dir, m))) {
        for (const line of fs.readFileSync(path.join(dir, m, f), 'utf8').split('\n').filter(Boolean)) {
          const e = JSON.parse(line);
          assert.deepEqual(Object.keys(e).filter((k) => k !== 'key'),
            ['v', 'source', 'machine_id', 'collected_at', 'run_id', 'collector_version', 'schema_version', 'kind', 'data']);
          assert.equal(e.source, source);
          assert.equal(`machine=${e.machine_id}`, m);
          assert.equal(`date=${e.collected_at.slice(0, 10)}.ndjson`, f);
          assert.ok(!line.includes(':null'), 'null keys are left out, as collectors store them');
          const schema = schemas[source as keyof typeof schemas];
          if (schema) schema.parse(withNulls(schema, e.data));
          checked++;
        }
      }
    }
  }
  assert.ok(checked > 1000, `${checked} lines checked`);
});

test('demo refuses a data dir holding collected data, and leaves it untouched', () => {
  const dir = tmpDir();
  const env = { VC_DATA_DIR: path.join(dir, 'data'), VC_CONFIG: path.join(dir, 'vc.toml') };
  fs.writeFileSync(env.VC_CONFIG, '');
  assert.equal(vc(['collect', '--source', 'sys'], env).code, 0);
  const before = snapshot(env.VC_DATA_DIR);
  const r = vc(['demo', '--machines', '2', '--days', '1'], env);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /already holds collected data \(machines: local\)/);
  assert.deepEqual(snapshot(env.VC_DATA_DIR), before);
});

test('demo may rewrite its own earlier fleet, and checks its arguments', () => {
  const { env } = demo();
  const r = vc(['demo', '--machines', '2', '--days', '1', '--end', END], env);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(fs.readdirSync(path.join(env.VC_DATA_DIR, 'raw', 'sys')).sort(), ['machine=demo-01', 'machine=demo-02']);
  for (const bad of [['--machines', '0'], ['--days', 'x'], ['--end', 'yesterday-ish']]) {
    const b = vc(['demo', ...bad], env);
    assert.equal(b.code, 2, bad.join(' '));
  }
});
