// Fake upstream programs for tests: a script under the tool's name that prints a recorded case
// from fixtures/<tool>/ (stdout, stderr, exit status, a delay) and logs how it was called. The
// case is chosen by a file beside the script, so the same fake serves local runs and ssh sessions.
import fs from 'node:fs';
import path from 'node:path';
import { repoRoot } from '../lib/paths.ts';
import { shQuote } from '../lib/shell.ts';
import { readRaw, tmpDir, vc, writeExecutable } from './helpers.ts';

export interface FakeTool {
  /** The fake's path. */
  path: string;
  /** Serve this case from now on (fixtures/<tool>/<case>.*). */
  use(caseName: string): void;
  /** Each call's arguments, in order. */
  calls(): string[][];
}

/**
 * Writes a fake `name` into `binDir` serving the cases of fixtures/<fixtures>/. For a call with
 * first argument A it serves `<case>.A.out` (and .err/.rc/.sleep) where that exists, else `<case>.out`.
 * `binDir` must be readable (and its files writable for the case file) by whoever runs the fake.
 */
export function fakeTool(binDir: string, name: string, fixtures = name): FakeTool {
  const dir = path.join(repoRoot, 'fixtures', fixtures);
  const caseFile = path.join(binDir, `${name}.case`);
  const log = path.join(binDir, `${name}.calls`);
  fs.writeFileSync(caseFile, 'default\n', { mode: 0o644 });
  fs.writeFileSync(log, '', { mode: 0o666 });
  fs.chmodSync(log, 0o666);
  const script = `#!/bin/sh
c=$(cat ${shQuote(caseFile)})
# One call per line: the arguments, each as a JSON string.
{ printf '['; s=''; for a in "$@"; do printf '%s"%s"' "$s" "$(printf '%s' "$a" | sed 's/\\\\/\\\\\\\\/g; s/"/\\\\"/g')"; s=,; done; printf ']\\n'; } >> ${shQuote(log)}
f=${shQuote(dir)}/$c
[ -n "$1" ] && [ -e "$f.$1.out" -o -e "$f.$1.err" -o -e "$f.$1.rc" ] && f=$f.$1
[ -f "$f.sleep" ] && sleep "$(cat "$f.sleep")"
[ -f "$f.out" ] && cat "$f.out"
[ -f "$f.err" ] && cat "$f.err" >&2
exit "$(cat "$f.rc" 2>/dev/null || echo 0)"
`;
  const file = writeExecutable(binDir, name, script);
  return {
    path: file,
    use(caseName) {
      if (!fs.readdirSync(dir).some((f) => f.startsWith(`${caseName}.`))) throw new Error(`no case ${caseName} in fixtures/${fixtures}`);
      fs.writeFileSync(caseFile, `${caseName}\n`);
    },
    calls: () => fs.readFileSync(log, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as string[]),
  };
}

/**
 * A data dir and vc.toml for collecting one source on the local machine, with `bin` (for fake
 * tools) first on PATH: collect, the last recorded run, and the stored rows.
 */
export function collectEnv(source: string, toml = '', extraEnv: Record<string, string> = {}) {
  const dir = tmpDir(`vc-${source}-`);
  const bin = path.join(dir, 'bin');
  fs.mkdirSync(bin);
  const conf = path.join(dir, 'vc.toml');
  fs.writeFileSync(conf, toml);
  const env = { VC_DATA_DIR: path.join(dir, 'data'), VC_CONFIG: conf, PATH: `${bin}:${process.env.PATH}`, ...extraEnv };
  return {
    dir, bin, conf, env,
    collect: () => vc(['collect', '--source', source, '--json'], env),
    lastRun: () => readRaw(env.VC_DATA_DIR, 'collector_runs', 'local').at(-1)!.data,
    rows: (machine = 'local') => readRaw(env.VC_DATA_DIR, source, machine),
  };
}
