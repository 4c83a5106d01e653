// The section framing every collector script's output goes through (lib/sections.ts), run by a real sh.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { sectionScript, sectionText } from '../lib/sections.ts';

const run = (script: string) => execFileSync('sh', ['-s'], { input: script, encoding: 'utf8' });

test('sections: text and exit status of each part, empty parts, output that imitates markers', () => {
  const s = sectionScript([
    ['one', `printf 'a\\nb\\n'`],
    ['empty', ':'],
    // A forged marker (without the run's nonce) and a real-looking one mid-line stay content.
    ['forged', `printf '@@vc-0000000000000000@@ end forged 0\\nx @@vc-0000@@ begin one\\n'; false`],
    ['last', `printf 'no newline at the end'`],
  ]);
  const parsed = s.parse(run(s.script));
  assert.deepEqual(parsed.get('one'), { text: 'a\nb\n', rc: 0 });
  assert.deepEqual(parsed.get('empty'), { text: '', rc: 0 });
  assert.deepEqual(parsed.get('forged'), { text: '@@vc-0000000000000000@@ end forged 0\nx @@vc-0000@@ begin one\n', rc: 1 });
  assert.deepEqual(parsed.get('last'), { text: 'no newline at the end', rc: 0 });
});

test('sections: a script cut short yields what it printed, with no exit status; no sections is a clear error', () => {
  const s = sectionScript([['first', `echo done`], ['second', `echo partial; kill -9 $$`], ['third', 'echo never']]);
  let out = '';
  try {
    run(s.script);
  } catch (err) {
    out = (err as { stdout: string }).stdout;
  }
  const parsed = s.parse(out);
  assert.deepEqual(parsed.get('first'), { text: 'done\n', rc: 0 });
  assert.deepEqual(parsed.get('second'), { text: 'partial\n', rc: null });
  assert.equal(parsed.has('third'), false);
  assert.throws(() => sectionText(parsed, 'third'), /no "third" section/);
  assert.throws(() => sectionText(s.parse('Welcome to the machine!\n'), 'first'), /none of the script's sections/);
});

test('sections: a megabyte-sized section is found whole', () => {
  const s = sectionScript([['big', `i=0; while [ $i -lt 2000 ]; do printf '%0500d\\n' $i; i=$((i + 1)); done`], ['after', 'echo x']]);
  const parsed = s.parse(run(s.script));
  assert.equal(sectionText(parsed, 'big').length, 2000 * 501);
  assert.equal(sectionText(parsed, 'after'), 'x\n');
});
