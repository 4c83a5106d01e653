// bin/vc.mjs, the launcher, on a checkout of its own: the CLI runs from a bundle built on first
// use, built again when a file it came from changes, and from the TypeScript under tsx where no
// bundle can be (or should be) used. The checkout is a tiny one (its lib/cli/main.ts says which
// word it was built with and whether it runs bundled), sharing this repo's node_modules.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { repoRoot } from '../lib/paths.ts';
import { tmpDir } from './helpers.ts';

/** An hour ago, a second later at each call: as a checkout's files look, each edit told apart by its mtime. */
let past = Date.now() - 3600_000;
const nextPast = () => new Date((past += 1000));

function checkout(): string {
  const root = tmpDir('vc-launcher-');
  fs.mkdirSync(path.join(root, 'bin'));
  fs.mkdirSync(path.join(root, 'sql'));
  fs.mkdirSync(path.join(root, 'lib', 'cli'), { recursive: true });
  fs.copyFileSync(path.join(repoRoot, 'bin', 'vc.mjs'), path.join(root, 'bin', 'vc.mjs'));
  fs.symlinkSync(path.join(repoRoot, 'node_modules'), path.join(root, 'node_modules'));
  fs.writeFileSync(path.join(root, 'package.json'), '{ "type": "module" }\n');
  fs.writeFileSync(path.join(root, 'lib', 'cli', 'main.ts'), [
    "import { word } from '../word.ts';",
    "const from: string = import.meta.url.includes('/.build/') ? 'bundle' : 'source';",
    'console.log(`${word} ${from} ${process.argv.slice(2).join(",")}`);',
  ].join('\n'));
  setWord(root, 'alpha');
  return root;
}

/** Rewrites lib/word.ts; `recent` leaves its mtime at now (else an hour ago, like a checkout's). */
function setWord(root: string, word: string, recent = false): void {
  const file = path.join(root, 'lib', 'word.ts');
  fs.writeFileSync(file, `export const word: string = '${word}';\n`);
  if (recent) return;
  const at = nextPast();
  for (const f of [file, path.join(root, 'lib', 'cli', 'main.ts')]) fs.utimesSync(f, at, at);
}

function run(root: string, env: NodeJS.ProcessEnv = {}): string {
  const r = spawnSync(process.execPath, [path.join(root, 'bin', 'vc.mjs'), 'a', 'b'], { encoding: 'utf8', env: { ...process.env, ...env } });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout.trim();
}

const currentBuild = (root: string) => fs.readlinkSync(path.join(root, '.build', 'current'));

test('the first run builds the bundle and runs it; later runs reuse it', () => {
  const root = checkout();
  assert.equal(run(root), 'alpha bundle a,b');
  const first = currentBuild(root);
  const inputs = JSON.parse(fs.readFileSync(path.join(root, '.build', first, 'inputs.json'), 'utf8'));
  assert.deepEqual(inputs.inputs.map((i: unknown[]) => i[0]).sort(), ['lib/cli/main.ts', 'lib/word.ts']);
  assert.equal(run(root), 'alpha bundle a,b');
  assert.equal(currentBuild(root), first, 'nothing changed: no new build');
});

test('a changed source is built again before it runs', () => {
  const root = checkout();
  assert.equal(run(root), 'alpha bundle a,b');
  const first = currentBuild(root);
  setWord(root, 'beta');
  assert.equal(run(root), 'beta bundle a,b');
  assert.notEqual(currentBuild(root), first);
  // The superseded build stays for a day (a command may still be loading it).
  assert.ok(fs.existsSync(path.join(root, '.build', first, 'main.mjs')));
});

test('a source changed just now runs from the TypeScript: the build might hold its old text', () => {
  const root = checkout();
  assert.equal(run(root), 'alpha bundle a,b');
  const first = currentBuild(root);
  setWord(root, 'gamma', true);
  assert.equal(run(root), 'gamma source a,b');
  assert.equal(currentBuild(root), first, 'the doubtful build was not made current');
  setWord(root, 'gamma');
  assert.equal(run(root), 'gamma bundle a,b');
});

test('where no bundle can be built or used, vc runs the TypeScript under tsx', () => {
  const root = checkout();
  fs.writeFileSync(path.join(root, '.build'), 'not a directory');
  assert.equal(run(root), 'alpha source a,b');
  fs.rmSync(path.join(root, '.build'));
  assert.equal(run(root, { VC_NO_BUNDLE: '1' }), 'alpha source a,b');
  assert.equal(fs.existsSync(path.join(root, '.build')), false);
});

test('a damaged build record is built again', () => {
  const root = checkout();
  assert.equal(run(root), 'alpha bundle a,b');
  fs.writeFileSync(path.join(root, '.build', currentBuild(root), 'inputs.json'), '{"format":');
  assert.equal(run(root), 'alpha bundle a,b');
  assert.doesNotThrow(() => JSON.parse(fs.readFileSync(path.join(root, '.build', currentBuild(root), 'inputs.json'), 'utf8')));
});

test('vc itself runs from its bundle', () => {
  const r = spawnSync(path.join(repoRoot, 'bin', 'vc'), ['--version'], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const build = fs.readlinkSync(path.join(repoRoot, '.build', 'current'));
  const inputs: Array<[string]> = JSON.parse(fs.readFileSync(path.join(repoRoot, '.build', build, 'inputs.json'), 'utf8')).inputs;
  assert.ok(inputs.some(([f]) => f === 'lib/cli/main.ts') && inputs.some(([f]) => f === 'lib/paths.ts'));
});
