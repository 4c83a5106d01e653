// @ts-check
// What bin/vc runs: the CLI (lib/cli/main.ts) from an esbuild bundle of it, built on first use
// and again whenever a file it was built from changes. Under tsx's loader every command paid
// 0.3-0.5 s before doing anything (the loader, then a transform per module); the bundle loads
// in ~0.1 s. Where no bundle can be built (a read-only checkout, esbuild missing), vc runs the
// TypeScript under tsx as before, so it always runs what the sources say.
//
// Layout: .build/cli-<id>/ holds one build (main.mjs, its chunks, inputs.json: every file it was
// built from, with size, mtime and inode); .build/current is a symlink to the one in use, swapped
// atomically, so concurrent commands each see a whole build. Superseded builds are removed a
// day later (a command may still be loading one).
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const entry = path.join(root, 'lib', 'cli', 'main.ts');
const buildDir = path.join(root, '.build');
const current = path.join(buildDir, 'current');
/** Bumped when the build options change: a build made with others is then stale. */
const FORMAT = 1;
/** A long-running command (vc watch) may still load chunks of the build it started from. */
const STALE_MS = 24 * 3600_000;

/** @typedef {{ format: number, inputs: Array<[file: string, size: number, mtimeMs: number, ino: number]> }} Inputs */

/** A file's identity for staleness: size, mtime and inode (an edit, a checkout or a replacement changes one). */
function identity(/** @type {string} */ file) {
  const st = fs.statSync(path.join(root, file));
  return /** @type {const} */ ([st.size, st.mtimeMs, st.ino]);
}

/** The build in use when every file it was built from is as it was then, else null. */
function freshBuild() {
  let dir;
  try {
    dir = path.join(buildDir, fs.readlinkSync(current));
    /** @type {Inputs} */
    const recorded = JSON.parse(fs.readFileSync(path.join(dir, 'inputs.json'), 'utf8'));
    if (recorded.format !== FORMAT) return null;
    for (const [file, size, mtimeMs, ino] of recorded.inputs) {
      const [s, m, i] = identity(file);
      if (s !== size || m !== mtimeMs || i !== ino) return null;
    }
  } catch {
    return null; // none yet, or damaged: build again
  }
  return path.join(dir, 'main.mjs');
}

/** Builds the bundle into a new directory and makes it current; null when it cannot be built. */
async function build() {
  const started = Date.now();
  const dir = path.join(buildDir, `cli-${Date.now().toString(36)}-${crypto.randomBytes(4).toString('hex')}`);
  try {
    const esbuild = await import('esbuild');
    fs.mkdirSync(dir, { recursive: true });
    const result = await esbuild.build({
      entryPoints: [entry], outdir: dir, absWorkingDir: root, bundle: true, splitting: true, format: 'esm', platform: 'node', target: 'node20',
      outExtension: { '.js': '.mjs' }, metafile: true, logLevel: 'silent',
      // DuckDB's native binding is loaded from node_modules as it is; bundled CommonJS needs `require`.
      external: ['@duckdb/*'],
      banner: { js: "import { createRequire as __vcCreateRequire } from 'node:module'; const require = __vcCreateRequire(import.meta.url);" },
    });
    const files = Object.keys(result.metafile.inputs).map((f) => path.relative(root, path.resolve(root, f)));
    const inputs = files.map((f) => /** @type {Inputs['inputs'][number]} */ ([f, ...identity(f)]));
    // A file changed while esbuild read it (or so recently that a coarse clock cannot tell): this
    // build may hold its old text, so it is not used; a later command builds again.
    if (inputs.some(([, , mtimeMs]) => mtimeMs >= started - 2000)) throw new Error('sources changed during the build');
    fs.writeFileSync(path.join(dir, 'inputs.json'), JSON.stringify(/** @type {Inputs} */ ({ format: FORMAT, inputs })));
    const link = `${current}.${process.pid}.tmp`;
    fs.rmSync(link, { force: true });
    fs.symlinkSync(path.basename(dir), link);
    fs.renameSync(link, current);
  } catch {
    try {
      fs.rmSync(dir, { recursive: true, force: true });
    } catch { /* nothing was made there */ }
    return null;
  }
  removeSuperseded(path.basename(dir));
  return path.join(dir, 'main.mjs');
}

/** Builds other than `keep`, and links a killed build left, once a day old. */
function removeSuperseded(/** @type {string} */ keep) {
  for (const name of fs.readdirSync(buildDir)) {
    if (name === keep || !(name.startsWith('cli-') || /^current\.\d+\.tmp$/.test(name))) continue;
    const file = path.join(buildDir, name);
    try {
      if (Date.now() - fs.lstatSync(file).mtimeMs > STALE_MS) fs.rmSync(file, { recursive: true, force: true });
    } catch { /* removed meanwhile */ }
  }
}

const bundle = process.env.VC_NO_BUNDLE ? null : (freshBuild() ?? (await build()));
if (bundle) {
  await import(pathToFileURL(bundle).href);
} else {
  if (process.env.VC_PROFILE) process.stderr.write('vc: running the TypeScript under tsx (no bundle could be built or used)\n');
  const { register } = await import('tsx/esm/api');
  register();
  await import(pathToFileURL(entry).href);
}
