import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { loadConfig, validateConfig } from '../lib/config.ts';
import { tmpDir, vc } from './helpers.ts';

function withConfig(text: string) {
  const dir = tmpDir();
  const file = path.join(dir, 'vc.toml');
  fs.writeFileSync(file, text);
  return { dir, file, env: { VC_CONFIG: file, VC_DATA_DIR: path.join(dir, 'data') } };
}

test('no config: one local machine and the defaults', () => {
  const c = validateConfig({}, 'test');
  assert.deepEqual(c.machines, [{ id: 'local', ssh: 'local', tags: [], collectors: { exclude: [], intervals: {} } }]);
  assert.equal(c.collect.machines_in_flight, 8);
  assert.equal(c.collect.collectors_per_machine, 4);
  assert.equal(c.ssh.connect_timeout_seconds, 10);
  assert.equal(c.collectors.repos.max_depth, 4);
  assert.deepEqual(c.collectors.repos.roots, ['~']);
  assert.ok(c.collectors.agents.names.includes('claude'));
});

test('every bad key is named with what is wrong, and the CLI exits 2', () => {
  const bad = [
    ['[collect]\nmachines_in_flight = "four"\n', /collect\.machines_in_flight: Invalid input: expected number, received string/],
    ['[[machines]]\nid = "w"\nssh = "u@h"\ncollectors = { exclude = ["sys", "nope"] }\n', /machines\[0\]\.collectors\.exclude\[1\]: Invalid option: expected one of "sys"\|"repos"\|"agents"\|"tools"/],
    ['[[machines]]\nid = "w"\nssh = "u@h"\nproxy_jump = "-oProxyCommand=x"\n', /machines\[0\]\.proxy_jump: must be \[user@\]host\[:port\]/],
    ['[collectors.repos]\nmax_depth = 99\n', /collectors\.repos\.max_depth: .*<=12/],
    ['[collectors.sys]\nintervall_seconds = 60\n', /collectors\.sys: Unrecognized key: "intervall_seconds"/],
    ['bogus = 1\n', /\(top level\): Unrecognized key: "bogus"/],
    ['[[machines]]\nid = "has space"\n', /machines\[0\]\.id: must be 1-63 letters/],
    ['[[machines]]\nid = "a"\n[[machines]]\nid = "a"\n', /machines\[1\]\.id: duplicate machine id "a"/],
    ['[[machines]]\nid = "w"\nssh = "user@host:22; rm -rf /"\n', /machines\[0\]\.ssh: must be "local" or "user@host:port"/],
    ['[collectors.agents]\nnames = ["claude", "../x"]\n', /collectors\.agents\.names\[1\]: must be a plain program name/],
    ['this is = = not toml\n', /is not valid TOML/],
  ] as const;
  for (const [text, why] of bad) {
    const { env } = withConfig(text);
    const r = vc(['collect', '--source', 'sys'], env);
    assert.equal(r.code, 2, `${text}: exit ${r.code}`);
    assert.match(r.stderr, why, text);
    assert.equal(fs.existsSync(env.VC_DATA_DIR), false, 'nothing was collected');
  }
});

test('a named config that does not exist is an error; the XDG default may be absent', () => {
  const dir = tmpDir();
  const r = vc(['report', 'health'], { VC_CONFIG: path.join(dir, 'missing.toml'), VC_DATA_DIR: path.join(dir, 'd') });
  assert.equal(r.code, 2);
  assert.match(r.stderr, /cannot read config .*missing\.toml/);
  const xdg = path.join(dir, 'xdg');
  const loaded = withEnv({ VC_CONFIG: undefined, XDG_CONFIG_HOME: xdg, VC_DATA_DIR: undefined, XDG_DATA_HOME: path.join(dir, 'share') }, () => loadConfig());
  assert.equal(loaded.path, null);
  assert.equal(loaded.dataDir, path.join(dir, 'share', 'vc'));
});

test('precedence: --config over VC_CONFIG over the XDG file; VC_DATA_DIR over data_dir', () => {
  const dir = tmpDir();
  const xdg = path.join(dir, 'xdg');
  fs.mkdirSync(path.join(xdg, 'vc'), { recursive: true });
  fs.writeFileSync(path.join(xdg, 'vc', 'vc.toml'), `data_dir = "${path.join(dir, 'from-xdg')}"\n`);
  const envFile = path.join(dir, 'env.toml');
  fs.writeFileSync(envFile, `data_dir = "${path.join(dir, 'from-env')}"\n`);
  const flagFile = path.join(dir, 'flag.toml');
  fs.writeFileSync(flagFile, `data_dir = "${path.join(dir, 'from-flag')}"\n`);
  const base = { XDG_CONFIG_HOME: xdg, VC_DATA_DIR: undefined };
  assert.equal(withEnv({ ...base, VC_CONFIG: undefined }, () => loadConfig()).dataDir, path.join(dir, 'from-xdg'));
  assert.equal(withEnv({ ...base, VC_CONFIG: envFile }, () => loadConfig()).dataDir, path.join(dir, 'from-env'));
  assert.equal(withEnv({ ...base, VC_CONFIG: envFile }, () => loadConfig(flagFile)).dataDir, path.join(dir, 'from-flag'));
  assert.equal(withEnv({ ...base, VC_CONFIG: envFile, VC_DATA_DIR: path.join(dir, 'override') }, () => loadConfig()).dataDir, path.join(dir, 'override'));
  // The CLI flag reaches the command.
  const r = vc(['collect', '--source', 'sys', '--config', flagFile, '--json'], { VC_CONFIG: envFile, XDG_CONFIG_HOME: xdg, VC_DATA_DIR: '' });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(JSON.parse(r.stdout).data.data_dir, path.join(dir, 'from-flag'));
});

test('an unknown machine or collector is bad usage naming the choices', () => {
  const { env } = withConfig('[[machines]]\nid = "main"\n');
  const m = vc(['collect', '--machine', 'nope'], env);
  assert.equal(m.code, 2);
  assert.match(m.stderr, /unknown machine "nope"; configured: main/);
  const s = vc(['collect', '--source', 'nope'], env);
  assert.equal(s.code, 2);
  assert.match(s.stderr, /unknown collector "nope"; collectors: sys, repos, agents, tools/);
  // A repeated flag keeps every value, not only its last; the comma form and --flag=value too.
  for (const args of [['--machine', 'nope', '--machine', 'main'], ['--machine=main,nope'], ['--source', 'nope', '--source=sys']]) {
    const r = vc(['collect', ...args], env);
    assert.equal(r.code, 2, args.join(' '));
    assert.match(r.stderr, /unknown (machine|collector) "nope"/, args.join(' '));
  }
});

/** Runs fn with process.env temporarily changed (undefined deletes a variable). */
function withEnv<T>(vars: Record<string, string | undefined>, fn: () => T): T {
  const saved = Object.fromEntries(Object.keys(vars).map((k) => [k, process.env[k]]));
  const apply = (v: Record<string, string | undefined>) => {
    for (const [k, x] of Object.entries(v)) if (x === undefined) delete process.env[k]; else process.env[k] = x;
  };
  apply(vars);
  try {
    return fn();
  } finally {
    apply(saved);
  }
}
