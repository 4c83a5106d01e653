import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { cutLastRuns, cutWindow, TAIL_BYTES } from '../lib/recent.ts';
import { tmpDir } from './helpers.ts';

const T0 = Date.parse('2026-11-20T00:00:00Z');
const MIN = 60_000;

/** A day file: one line per step from T0, each `pad` bytes of payload, a little out of order. */
function dayFile(dir: string, name: string, lines: number, stepMs: number, pad: number, partialTail = false): string[] {
  const out: string[] = [];
  for (let i = 0; i < lines; i++) {
    // Concurrent runs append slightly out of order: jitter of up to a minute back.
    const t = T0 + i * stepMs - (i % 7 === 3 ? 50_000 : 0);
    out.push(JSON.stringify({ v: 1, machine_id: name, collected_at: new Date(t).toISOString(), i, data: { pad: 'x'.repeat(pad) } }));
  }
  fs.writeFileSync(path.join(dir, `${name}.ndjson`), out.join('\n') + '\n' + (partialTail ? '{"v":1,"collected_at":"2026-11-' : ''));
  return out;
}

const times = (text: string) => text.split('\n').filter(Boolean).map((l) => Date.parse(JSON.parse(l).collected_at));

test('the cut holds every line of the window, whole lines only, and little besides', () => {
  const dir = tmpDir();
  const big = dayFile(dir, 'big', 5000, 30_000, 300);           // ~1.7 MB, 41 hours of lines
  const small = dayFile(dir, 'small', 40, 60_000, 50, true);    // smaller than one probe, partial tail
  for (const [sinceH, untilH] of [[6, 12], [0, 1], [30, 41], [40.5, 48], [-1, 0.2]] as const) {
    const since = T0 + sinceH * 3600_000;
    const until = T0 + untilH * 3600_000;
    const out = path.join(dir, `out-${sinceH}.ndjson`);
    cutWindow([{ file: path.join(dir, 'big.ndjson'), newest: false }, { file: path.join(dir, 'small.ndjson'), newest: false }], since, until, out);
    const text = fs.readFileSync(out, 'utf8');
    assert.ok(text === '' || text.endsWith('\n'), 'whole lines only');
    const got = new Set(text.split('\n').filter(Boolean));
    for (const l of [...big, ...small]) {
      const t = Date.parse(JSON.parse(l).collected_at);
      if (t >= since && t <= until) assert.ok(got.has(l), `window ${sinceH}-${untilH} h keeps ${l.slice(0, 80)}`);
    }
    // Nothing far outside the window (the cut keeps 15 minutes of slack on each side, plus a probe).
    for (const t of times(text)) assert.ok(t >= since - 30 * MIN && t <= until + 30 * MIN, `line at ${new Date(t).toISOString()}`);
    assert.ok(!text.includes('"collected_at":"2026-11-\n') && !text.endsWith('2026-11-'), 'the partial line is left out');
  }
});

test('a newest file keeps at least its tail, so a machine silent for days keeps its last lines', () => {
  const dir = tmpDir();
  const lines = dayFile(dir, 'silent', 3000, 60_000, 400);
  const out = path.join(dir, 'out.ndjson');
  const now = T0 + 10 * 86400_000; // ten days after the file's last line
  cutWindow([{ file: path.join(dir, 'silent.ndjson'), newest: true }], now - 6 * 3600_000, now, out);
  const text = fs.readFileSync(out, 'utf8');
  assert.ok(text.length > TAIL_BYTES - 1000 && text.length <= TAIL_BYTES, `${text.length} bytes of tail`);
  assert.ok(text.endsWith(`${lines.at(-1)}\n`), 'ends with the last line');
  assert.ok(lines.includes(text.split('\n')[0]!), 'starts on a whole line');
});

test('a file removed after it was listed is skipped', () => {
  const dir = tmpDir();
  const out = path.join(dir, 'out.ndjson');
  assert.equal(cutWindow([{ file: path.join(dir, 'gone.ndjson'), newest: true }], T0, T0 + 1, out), 0);
});

test('cutLastRuns: the last run of each file, whole, however long; lines after the time given are left out', () => {
  const dir = tmpDir();
  /** Runs of `sizes[i]` lines each, one run every 10 minutes from T0, each line `pad` bytes of payload. */
  const runs = (name: string, sizes: number[], pad: number, partialTail = false) => {
    const lines = sizes.flatMap((n, r) => Array.from({ length: n }, (_, i) => JSON.stringify({
      v: 1, machine_id: name, collected_at: new Date(T0 + r * 10 * MIN).toISOString(), run_id: `${name}-${r}`, i, data: { pad: 'x'.repeat(pad) },
    })));
    fs.writeFileSync(path.join(dir, `${name}.ndjson`), lines.join('\n') + '\n' + (partialTail ? '{"v":1,"run_id":"' : ''));
    return lines;
  };
  const small = runs('small', [3, 4, 5], 20, true);
  const big = runs('big', [50, 40, 3000], 100); // the last run ~400 KB, past the first chunks read
  const one = runs('one', [7], 10);
  const out = path.join(dir, 'out.ndjson');
  const files = ['small', 'big', 'one', 'gone'].map((n) => path.join(dir, `${n}.ndjson`));
  const n = cutLastRuns(files, T0 + 86400_000, out);
  const text = fs.readFileSync(out, 'utf8');
  assert.equal(n, Buffer.byteLength(text));
  assert.equal(text, [...small.slice(7), ...big.slice(90), ...one].join('\n') + '\n');
  // As of just after the second run of `small` (beyond the 15 minutes of slack): its second run.
  cutLastRuns([files[0]!], T0 + 10 * MIN + 1000 - 15 * MIN, out);
  assert.equal(fs.readFileSync(out, 'utf8'), small.slice(3, 7).join('\n') + '\n');
  fs.writeFileSync(files[3]!, '');
  assert.equal(cutLastRuns([files[3]!], T0, out), 0, 'an empty file gives nothing');
});
