// The storage invariants of design.md, attacked with real processes: several OS processes
// appending to one day file at once, writers SIGKILLed in the middle of a write (alone and while
// others append), the cursor's ordering against the data (including a real crash between the two),
// and bad or hostile items from a source.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import type { CollectorName } from '../lib/catalog.ts';
import { runCollector, type CollectorDef, type Item } from '../lib/collector.ts';
import { validateConfig, type Config } from '../lib/config.ts';
import { openSession } from '../lib/duck.ts';
import { MAX_LINE_BYTES, type Envelope } from '../lib/envelope.ts';
import { cursorFile, rawFile, utcDate } from '../lib/paths.ts';
import { appendEnvelopes, loadCursor } from '../lib/store.ts';
import { readRaw, repoUrl, startScript, tmpDir } from './helpers.ts';

const base = fs.realpathSync(tmpDir('vc-store-'));
const scripts = fs.mkdtempSync(path.join(base, 'scripts-'));
/** A fresh dir under this file's temp dir (tmpDir adds an exit listener per call; this does not). */
const freshDir = (prefix: string) => fs.mkdtempSync(path.join(base, prefix));

/** Writes an ESM TypeScript script to the temp dir (.mts: no package.json there says "module"). */
function script(name: string, body: string): string {
  const file = path.join(scripts, `${name}.mts`);
  fs.writeFileSync(file, body);
  return file;
}


/** Resolves once `text` has appeared on the child's stdout (or rejects when it exits first). */
function waitFor(child: ReturnType<typeof startScript>, text: string, timeoutMs = 30_000): Promise<void> {
  return new Promise((resolve, reject) => {
    let seen = '';
    const timer = setTimeout(() => reject(new Error(`no "${text}" from the child within ${timeoutMs} ms`)), timeoutMs);
    const onData = (s: string) => {
      seen += s;
      if (seen.includes(text)) {
        clearTimeout(timer);
        child.child.stdout!.off('data', onData);
        resolve();
      }
    };
    child.child.stdout!.on('data', onData);
    child.done.then((r) => {
      clearTimeout(timer);
      if (!seen.includes(text)) reject(new Error(`child ended (${r.code ?? r.signal}) before "${text}": ${r.stderr}`));
    }, reject);
  });
}

/** Splits a file into its newline-terminated lines and what follows the last newline. */
function splitTail(buf: Buffer): { complete: Buffer; lines: string[]; partial: Buffer } {
  const end = buf.lastIndexOf(0x0a) + 1;
  const complete = buf.subarray(0, end);
  const text = complete.toString('utf8');
  return { complete, lines: text ? text.slice(0, -1).split('\n') : [], partial: buf.subarray(end) };
}

/** An envelope of the `sys` source whose data the sys views read (load1) plus a top-level pad they ignore. */
function sysEnvelope(runId: string, collectedAt: string, padBytes = 0, extra: Partial<Envelope> = {}): Envelope {
  return {
    v: 1, source: 'sys', machine_id: 'm1', collected_at: collectedAt, run_id: runId, collector_version: 'test',
    schema_version: 1, kind: 'snapshot', data: { load1: 1, load5: 1, load15: 1, cpu_count: 2 },
    ...(padBytes ? { raw: { pad: 'p'.repeat(padBytes) } } : {}), ...extra,
  };
}

// -------------------------------------------------------------------------------------------------
// Invariant 1: concurrent appends never interleave.

/**
 * A writer process: waits at a barrier (the go file), then appends batches to one day file until
 * it has written `batches` of them or the stop file appears. Batch b of writer w has 1..5 lines,
 * keyed w<w>-b<b>-i<i>, some with a 100 KB pad of the writer's own letter. Prints its time span,
 * batch count and the partial-tail bytes its appends repaired.
 */
const WRITER = `
import fs from 'node:fs';
import { appendEnvelopes } from ${JSON.stringify(repoUrl('lib/store.ts'))};
const [dataDir, wArg, batchesArg, goFile, stopFile, day] = process.argv.slice(2);
const w = Number(wArg), maxBatches = Number(batchesArg);
const letter = String.fromCharCode(97 + w);
process.stdout.write('ready\\n');
const tick = new Int32Array(new SharedArrayBuffer(4));
while (!fs.existsSync(goFile)) Atomics.wait(tick, 0, 0, 1); // every writer starts within a millisecond of the others
let first = 0, last = 0, repaired = 0, b = 0;
for (; b < maxBatches && !(stopFile !== '-' && fs.existsSync(stopFile)); b++) {
  const n = 1 + ((w * 7 + b) % 5);
  const envs = Array.from({ length: n }, (_, i) => ({
    v: 1, source: 'sys', machine_id: 'm1', collected_at: day + 'T12:00:00.000Z', run_id: 'w' + w + '-b' + b,
    collector_version: 'test', schema_version: 1, kind: 'event', key: 'w' + w + '-b' + b + '-i' + i,
    data: { w, b, i, n }, raw: { pad: letter.repeat((b + i) % 4 === 0 ? 100_000 : 10 + i) },
  }));
  const t0 = Date.now();
  repaired += (await appendEnvelopes(dataDir, envs)).repairedBytes;
  if (!first) first = t0;
  last = Date.now();
}
process.stdout.write(JSON.stringify({ w, first, last, batches: b, repaired }) + '\\n');
`;

/** A writer of one huge batch (to be killed mid-write): `count` lines of `size` bytes of pad each. */
const BIG_WRITER = `
import { appendEnvelopes } from ${JSON.stringify(repoUrl('lib/store.ts'))};
const [dataDir, collectedAt, tag, countArg, sizeArg] = process.argv.slice(2);
const envs = Array.from({ length: Number(countArg) }, (_, i) => ({
  v: 1, source: 'sys', machine_id: 'm1', collected_at: collectedAt, run_id: tag + '-' + i, collector_version: 'test',
  schema_version: 1, kind: 'event', key: tag + '-' + i, data: { load1: 2, load5: 2, load15: 2, cpu_count: 2, big: tag, i },
  raw: { pad: 'q'.repeat(Number(sizeArg)) },
}));
process.stdout.write('ready\\n');
await appendEnvelopes(dataDir, envs);
process.stdout.write('done\\n');
`;

/** The file's last 4 KB are all 'q': a big batch's pad is being written (or was cut off there). */
function endsInBigPad(file: string): boolean {
  const fd = fs.openSync(file, 'r');
  try {
    const size = fs.fstatSync(fd).size;
    const buf = Buffer.alloc(4096);
    const n = fs.readSync(fd, buf, 0, buf.length, Math.max(0, size - buf.length));
    return n === buf.length && buf.every((c) => c === 0x71);
  } finally {
    fs.closeSync(fd);
  }
}

interface WriterReport { w: number; first: number; last: number; batches: number; repaired: number }

/** Checks the interleaved file of WRITER processes: every line whole, every batch contiguous and complete. */
function checkWriterFile(text: string, reports: WriterReport[], bigCount = 0): { bigBatches: Map<string, number[]> } {
  assert.ok(text.endsWith('\n'), 'the file ends with a complete line');
  const lines = text.slice(0, -1).split('\n');
  const seenKeys = new Set<string>();
  const segments: Array<{ run: string; idx: number[] }> = [];
  const bigBatches = new Map<string, number[]>();
  lines.forEach((line, n) => {
    let env: Record<string, any>;
    try {
      env = JSON.parse(line);
    } catch (err) {
      assert.fail(`line ${n + 1} (${line.length} bytes) is not JSON: ${(err as Error).message.slice(0, 80)}; starts ${JSON.stringify(line.slice(0, 40))}`);
    }
    assert.ok(!seenKeys.has(env.key), `line ${n + 1}: key ${env.key} stored twice`);
    seenKeys.add(env.key);
    if (typeof env.data.big === 'string') {
      assert.equal(env.raw.pad, 'q'.repeat(env.raw.pad.length), `line ${n + 1}: the big line's pad is intact`);
      const list = bigBatches.get(env.data.big) ?? [];
      list.push(env.data.i);
      bigBatches.set(env.data.big, list);
      segments.push({ run: env.data.big, idx: [env.data.i] });
      return;
    }
    const { w, b, i, n: size } = env.data;
    assert.equal(env.run_id, `w${w}-b${b}`);
    assert.equal(env.raw.pad, String.fromCharCode(97 + w).repeat((b + i) % 4 === 0 ? 100_000 : 10 + i), `line ${n + 1}: pad intact`);
    assert.equal(size, 1 + ((w * 7 + b) % 5));
    const last = segments.at(-1);
    if (last && last.run === env.run_id) last.idx.push(i);
    else segments.push({ run: env.run_id, idx: [i] });
  });
  // One write per run: each batch is one unbroken run of lines, in order, complete.
  const seenRuns = new Set<string>();
  const merged: typeof segments = [];
  for (const s of segments) {
    const last = merged.at(-1);
    if (last && last.run === s.run && bigBatches.has(s.run)) last.idx.push(...s.idx);
    else merged.push({ run: s.run, idx: [...s.idx] });
  }
  for (const s of merged) {
    assert.ok(!seenRuns.has(s.run), `batch ${s.run} is split: another write landed inside it`);
    seenRuns.add(s.run);
    const expected = Array.from({ length: s.idx.length }, (_, i) => i);
    assert.deepEqual(s.idx, expected, `batch ${s.run}: lines contiguous and in order`);
  }
  let expectedLines = 0;
  for (const r of reports) {
    for (let b = 0; b < r.batches; b++) {
      const n = 1 + ((r.w * 7 + b) % 5);
      expectedLines += n;
      assert.ok(seenRuns.has(`w${r.w}-b${b}`), `batch w${r.w}-b${b} is missing`);
    }
    // Within a writer, batches land in the order it wrote them.
    const order = merged.filter((s) => s.run.startsWith(`w${r.w}-`)).map((s) => Number(s.run.split('-b')[1]));
    assert.deepEqual(order, Array.from({ length: r.batches }, (_, b) => b), `writer ${r.w}: batches in order`);
  }
  const bigLines = [...bigBatches.values()].reduce((a, l) => a + l.length, 0);
  assert.equal(lines.length, expectedLines + bigLines, 'exact line count: nothing lost, nothing duplicated');
  for (const [tag, idx] of bigBatches) {
    // A killed batch keeps a prefix of whole lines: never a gap, never more than it wrote.
    assert.deepEqual(idx, Array.from({ length: idx.length }, (_, i) => i), `killed batch ${tag}: a contiguous prefix`);
    assert.ok(idx.length <= bigCount);
  }
  return { bigBatches };
}

describe('invariant 1: concurrent appends by separate processes', () => {
  test('6 processes x 25 multi-line batches (some lines 100 KB) into one day file: no interleaving, exact counts, one write per batch', async () => {
    const dataDir = freshDir('conc-');
    const writer = script('writer', WRITER);
    const go = path.join(dataDir, 'go');
    const day = '2026-01-15';
    const children = Array.from({ length: 6 }, (_, w) => startScript(writer, [dataDir, String(w), '25', go, '-', day]));
    await Promise.all(children.map((c) => waitFor(c, 'ready')));
    fs.writeFileSync(go, '');
    const results = await Promise.all(children.map((c) => c.done));
    for (const r of results) assert.equal(r.code, 0, r.stderr);
    const reports = results.map((r) => JSON.parse(r.stdout.trim().split('\n').pop()!) as WriterReport);
    for (const r of reports) assert.equal(r.batches, 25);
    // They really did write at the same time: every writer started before any had finished.
    assert.ok(Math.max(...reports.map((r) => r.first)) < Math.min(...reports.map((r) => r.last)), 'the writers overlapped in time');

    const file = rawFile(dataDir, 'sys', 'm1', day);
    assert.deepEqual(fs.readdirSync(path.dirname(file)), [path.basename(file)], 'one day file');
    checkWriterFile(fs.readFileSync(file, 'utf8'), reports);
    assert.equal(reports.reduce((a, r) => a + r.repaired, 0), 0, 'no writer found a partial tail: none was left');
  });

  test('4 appending processes while writers of 10 MB batches are SIGKILLed mid-write: every line whole, killed batches leave only whole lines', async () => {
    const dataDir = freshDir('conckill-');
    const writer = script('writer-k', WRITER);
    const big = script('big-k', BIG_WRITER);
    const go = path.join(dataDir, 'go');
    const stop = path.join(dataDir, 'stop');
    const day = '2026-01-16';
    const file = rawFile(dataDir, 'sys', 'm1', day);
    const children = Array.from({ length: 4 }, (_, w) => startScript(writer, [dataDir, String(w), '100000', go, stop, day]));
    await Promise.all(children.map((c) => waitFor(c, 'ready')));
    fs.writeFileSync(go, '');
    let killedMidWrite = 0;
    const BIG_COUNT = 40;
    for (let k = 0; k < 8 && killedMidWrite < 2; k++) {
      const child = startScript(big, [dataDir, `${day}T12:00:00.000Z`, `big${k}`, String(BIG_COUNT), String(256 * 1024)]);
      await waitFor(child, 'ready');
      // Kill once the file has grown and ends in the big batch's pad: its write is under way.
      const base = fs.statSync(file).size;
      const t0 = Date.now();
      while (Date.now() - t0 < 10_000 && !(fs.statSync(file).size > base + 64 * 1024 && endsInBigPad(file))) { /* spin */ }
      child.child.kill('SIGKILL');
      const r = await child.done;
      if (r.signal === 'SIGKILL' && !r.stdout.includes('done')) killedMidWrite++;
    }
    fs.writeFileSync(stop, '');
    const results = await Promise.all(children.map((c) => c.done));
    for (const r of results) assert.equal(r.code, 0, r.stderr);
    const reports = results.map((r) => JSON.parse(r.stdout.trim().split('\n').pop()!) as WriterReport);
    // A final append repairs the tail if a killed writer was the last to write.
    const final = await appendEnvelopes(dataDir, [sysEnvelope('final', `${day}T12:00:00.000Z`, 0, { key: 'final' })]);
    const repaired = final.repairedBytes + reports.reduce((a, r) => a + r.repaired, 0);
    assert.ok(killedMidWrite >= 1, 'at least one big writer was killed before it finished');
    assert.ok(repaired > 0, 'some killed writer left a partial line that a later append cut');

    const text = fs.readFileSync(file, 'utf8');
    assert.ok(text.endsWith(`${JSON.stringify(sysEnvelope('final', `${day}T12:00:00.000Z`, 0, { key: 'final' }))}\n`));
    const lines = text.slice(0, -1).split('\n');
    lines.pop(); // the final line, checked above
    checkWriterFile(`${lines.join('\n')}\n`, reports, BIG_COUNT);
  });
});

// -------------------------------------------------------------------------------------------------
// Invariant 1: a writer killed mid-write.

describe('invariant 1: a writer SIGKILLed in the middle of a write', () => {
  test('queries see exactly the whole lines, and the next append cuts the partial one and keeps all before it', async () => {
    const big = script('big', BIG_WRITER);
    const now = new Date(Date.now() - 60_000).toISOString();
    let dataDir = '';
    let file = '';
    let pre = Buffer.alloc(0);
    let content = Buffer.alloc(0);
    for (let attempt = 0; attempt < 5; attempt++) {
      dataDir = freshDir('kill-');
      const preEnvs = Array.from({ length: 50 }, (_, i) => sysEnvelope(`pre-${i}`, now, i % 10 === 0 ? 100_000 : 100));
      file = (await appendEnvelopes(dataDir, preEnvs)).files[0]!;
      pre = fs.readFileSync(file);
      // 128 lines of 512 KB: a 64 MB write, killed as soon as it has started.
      const child = startScript(big, [dataDir, now, 'big', '128', String(512 * 1024)]);
      await waitFor(child, 'ready');
      const t0 = Date.now();
      while (fs.statSync(file).size === pre.length && Date.now() - t0 < 20_000) { /* spin until the write starts */ }
      child.child.kill('SIGKILL');
      const r = await child.done;
      assert.equal(r.signal, 'SIGKILL');
      content = fs.readFileSync(file);
      if (content.at(-1) !== 0x0a) break; // landed mid-line: what this test needs
    }
    assert.notEqual(content.at(-1), 0x0a, 'after 5 attempts the kill never landed mid-line');
    assert.ok(content.subarray(0, pre.length).equals(pre), 'the lines before the killed batch are untouched');
    const { complete, lines, partial } = splitTail(content);
    assert.ok(partial.length > 0);
    const expectedIds = lines.map((l) => JSON.parse(l).run_id as string).sort();
    assert.ok(expectedIds.length >= 50);

    // (a) The query path opens and sees exactly the whole lines.
    const session = await openSession({ dataDir });
    try {
      assert.deepEqual(session.warnings, []);
      for (const view of ['sys', 'sys_recent']) {
        const rows = await session.query(`SELECT run_id FROM ${view} ORDER BY run_id`);
        assert.deepEqual(rows.map((r) => r.run_id as string).sort(), expectedIds, `${view} sees exactly the whole lines`);
      }
    } finally {
      session.close();
    }

    // (b) The next append cuts the partial tail and adds its own lines after the whole ones.
    const next = [sysEnvelope('after-0', now), sysEnvelope('after-1', now, 200_000)];
    const result = await appendEnvelopes(dataDir, next);
    assert.equal(result.repairedBytes, partial.length);
    const after = fs.readFileSync(file);
    const added = Buffer.from(next.map((e) => JSON.stringify(e)).join('\n') + '\n');
    assert.ok(after.equals(Buffer.concat([complete, added])), 'file = the whole lines before the kill + the new lines');
    for (const line of after.toString('utf8').slice(0, -1).split('\n')) JSON.parse(line);
  });

  test('a partial tail is cut by the collector harness too, which says so in the run\'s warnings', async () => {
    const dataDir = freshDir('harness-repair-');
    const config = validateConfig({}, 'test');
    const day = utcDate(new Date().toISOString());
    const file = rawFile(dataDir, 'sys', 'local', day);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    const whole = `${JSON.stringify(sysEnvelope('whole', `${day}T00:00:00.000Z`))}\n`;
    const half = JSON.stringify(sysEnvelope('half', `${day}T00:00:00.000Z`)).slice(0, 70);
    fs.writeFileSync(file, whole + half);
    const def = fakeDef('sys', z.object({ n: z.number() }), () => [{ data: { n: 1 } }]);
    const out = await runCollector(def, { config, dataDir, machine: config.machines[0]!, runId: 'repair-run' });
    assert.equal(out.status, 'ok', out.error ?? '');
    assert.ok(out.warnings.some((w) => w.includes(`cut ${Buffer.byteLength(half)} bytes of a partial line`)), JSON.stringify(out.warnings));
    const text = fs.readFileSync(file, 'utf8');
    assert.ok(text.startsWith(whole));
    const lines = text.slice(0, -1).split('\n').map((l) => JSON.parse(l));
    assert.deepEqual(lines.map((l) => l.run_id), ['whole', 'repair-run']);
  });

  // A kill can land at any byte, including between a line's closing brace and its newline: that
  // tail is a complete JSON object, yet it is partial (the store cuts it on the next append).
  for (const cut of ['1 byte', 'half a line', 'all but the last byte of the JSON']) {
    test(`a tail cut after ${cut} is not seen by any view`, async () => {
      const dataDir = freshDir('tail-');
      const now = new Date(Date.now() - 60_000).toISOString();
      const line = JSON.stringify(sysEnvelope('cut', now));
      const k = cut === '1 byte' ? 1 : cut === 'half a line' ? Math.floor(line.length / 2) : line.length - 1;
      await checkTailInvisible(dataDir, now, line.slice(0, k));
    });
  }
  test('a tail that lacks only its newline is not seen by any view', async () => {
    const dataDir = freshDir('tail-');
    const now = new Date(Date.now() - 60_000).toISOString();
    await checkTailInvisible(dataDir, now, JSON.stringify(sysEnvelope('cut', now)));
  });
});

/** Two whole lines then `tail` (no newline): every sys view sees the two and only them. */
async function checkTailInvisible(dataDir: string, now: string, tail: string): Promise<void> {
  const file = rawFile(dataDir, 'sys', 'm1', utcDate(now));
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, `${JSON.stringify(sysEnvelope('a', now))}\n${JSON.stringify(sysEnvelope('b', now))}\n${tail}`);
  const session = await openSession({ dataDir });
  try {
    for (const view of ['sys', 'sys_recent']) {
      const rows = await session.query(`SELECT run_id FROM ${view} ORDER BY run_id`);
      assert.deepEqual(rows.map((r) => r.run_id), ['a', 'b'], `${view} sees only the whole lines`);
    }
  } finally {
    session.close();
  }
}

// -------------------------------------------------------------------------------------------------
// Invariant 2: the cursor moves only after the data.

/** A collector over an in-memory "log": reads from the cursor's offset to the end, and moves the cursor there. */
function fakeDef(name: string, schema: z.ZodType, items: (cursor: unknown) => Item[], cursorOf?: (cursor: unknown) => unknown): CollectorDef {
  return {
    name: name as CollectorName, version: '0.0.1-test', schemaVersion: 1, schema,
    async collect(ctx) {
      return { items: items(ctx.cursor), ...(cursorOf ? { cursor: cursorOf(ctx.cursor) } : {}) };
    },
  };
}

/** A log of `n` items read incrementally: items from the cursor's offset, cursor {offset: n}. */
function logDef(name: string, schema: z.ZodType, log: () => Item[]): CollectorDef {
  const offset = (c: unknown) => (c as { offset?: number } | null)?.offset ?? 0;
  return fakeDef(name, schema, (c) => log().slice(offset(c)), () => ({ offset: log().length }));
}

/** A config whose collectors include `collector_runs`, so a test collector can write deduped events there. */
function configWithRunsSource(): Config {
  const config = validateConfig({}, 'test');
  (config.collectors as Record<string, unknown>).collector_runs = { enabled: true, timeout_seconds: 30 };
  return config;
}

/** An event shaped like a collector_runs record, so the deduping collector_runs view reads it. */
function runsEvent(n: number): Item {
  const at = new Date(Date.now() - 120_000 + n).toISOString();
  return {
    kind: 'event', key: `evt-${n}`,
    data: { source: `evt-${n}`, started_at: at, ended_at: at, duration_ms: 0, bytes: 0, rows: 0, status: 'ok', warnings: [] },
  };
}

/**
 * The crash child: runs the collector_runs-source log collector once with `count` events and
 * SIGKILLs itself at the cursor's rename, i.e. after the data's append and before the cursor moves.
 */
const CRASH_CHILD = `
import fs from 'node:fs';
import { runCollector } from ${JSON.stringify(repoUrl('lib/collector.ts'))};
import { validateConfig } from ${JSON.stringify(repoUrl('lib/config.ts'))};
const [dataDir, countArg] = process.argv.slice(2);
const config = validateConfig({}, 'crash');
config.collectors.collector_runs = { enabled: true, timeout_seconds: 30 };
const rename = fs.renameSync;
fs.renameSync = (from, to) => {
  if (String(to).endsWith('collector_runs.json')) process.kill(process.pid, 'SIGKILL');
  return rename(from, to);
};
const log = Array.from({ length: Number(countArg) }, (_, i) => {
  const n = i + 1, at = new Date(Date.now() - 120_000 + n).toISOString();
  return { kind: 'event', key: 'evt-' + n, data: { source: 'evt-' + n, started_at: at, ended_at: at, duration_ms: 0, bytes: 0, rows: 0, status: 'ok', warnings: [] } };
});
const def = {
  name: 'collector_runs', version: '0.0.1-test', schemaVersion: 1,
  schema: { safeParse: (data) => ({ success: true, data }) },
  async collect(ctx) { const from = ctx.cursor?.offset ?? 0; return { items: log.slice(from), cursor: { offset: log.length } }; },
};
await runCollector(def, { config, dataDir, machine: config.machines[0], runId: 'crash-run' });
process.stdout.write('survived\\n');
`;

describe('invariant 2: the cursor is saved only after the data it covers', () => {
  const itemSchema = z.object({ seq: z.number().int() });
  const seqItems = (n: number): Item[] => Array.from({ length: n }, (_, i) => ({ data: { seq: i + 1 } }));

  test('a good run saves the cursor; a run whose append fails keeps the old one, is recorded as an error, and the next run skips nothing', async () => {
    const dataDir = freshDir('cursor-');
    const config = validateConfig({}, 'test');
    const machine = config.machines[0]!;
    let logLength = 3;
    const def = logDef('sys', itemSchema, () => seqItems(logLength));

    const first = await runCollector(def, { config, dataDir, machine });
    assert.equal(first.status, 'ok', first.error ?? '');
    assert.equal(first.rows, 3);
    assert.deepEqual(loadCursor(dataDir, 'local', 'sys'), { offset: 3 });
    assert.deepEqual(first.cursor, { offset: 3 });

    // The day file's path becomes a directory: the append fails, as root too.
    logLength = 5;
    const files = [0, 1].map((d) => rawFile(dataDir, 'sys', 'local', utcDate(new Date(Date.now() + d * 86400_000).toISOString())));
    const moved = files.filter((f) => fs.existsSync(f)).map((f) => {
      fs.renameSync(f, `${f}.aside`);
      return f;
    });
    assert.equal(moved.length, 1);
    for (const f of files) fs.mkdirSync(f, { recursive: true });
    const failed = await runCollector(def, { config, dataDir, machine, runId: 'failed-run' });
    assert.equal(failed.status, 'error');
    assert.equal(failed.rows, 0);
    assert.equal(failed.cursor, null);
    assert.match(failed.error ?? '', /EISDIR/);
    assert.ok(failed.error?.includes(moved[0]!), `the error names the file: ${failed.error}`);
    assert.deepEqual(loadCursor(dataDir, 'local', 'sys'), { offset: 3 }, 'the cursor did not move');
    const runs = readRaw(dataDir, 'collector_runs', 'local');
    const rec = runs.find((r) => r.run_id === 'failed-run');
    assert.ok(rec, 'the failed run is recorded');
    assert.equal(rec.data.status, 'error');
    assert.equal(rec.data.error, failed.error);
    assert.equal(rec.data.rows, 0);
    assert.equal(rec.data.cursor ?? null, null, 'no cursor recorded for the failed run');

    // Back to normal: the next run reads from the old cursor, so items 4 and 5 are not skipped.
    for (const f of files) fs.rmdirSync(f);
    fs.renameSync(`${moved[0]}.aside`, moved[0]!);
    const third = await runCollector(def, { config, dataDir, machine });
    assert.equal(third.status, 'ok', third.error ?? '');
    assert.equal(third.rows, 2);
    assert.deepEqual(loadCursor(dataDir, 'local', 'sys'), { offset: 5 });
    assert.deepEqual(readRaw(dataDir, 'sys', 'local').map((l) => l.data.seq), [1, 2, 3, 4, 5]);
  });

  test('a run whose cursor cannot be saved still has its data stored, and is recorded as an error', async () => {
    const dataDir = freshDir('cursorfail-');
    const config = validateConfig({}, 'test');
    fs.mkdirSync(path.join(cursorFile(dataDir, 'local', 'sys'), 'blocker'), { recursive: true });
    const out = await runCollector(logDef('sys', itemSchema, () => seqItems(2)), { config, dataDir, machine: config.machines[0]! });
    assert.equal(out.status, 'error');
    assert.ok(out.error, 'an error message');
    assert.equal(out.cursor, null);
    assert.deepEqual(readRaw(dataDir, 'sys', 'local').map((l) => l.data.seq), [1, 2], 'the data is stored');
  });

  test('a crash (SIGKILL) between the append and the cursor save re-reads, and the deduping view counts each event once', async () => {
    const dataDir = freshDir('crash-');
    const child = startScript(script('crash', CRASH_CHILD), [dataDir, '3']);
    const r = await child.done;
    assert.equal(r.signal, 'SIGKILL', `the child died at the cursor save: ${r.stdout} ${r.stderr}`);
    assert.ok(!r.stdout.includes('survived'));
    assert.equal(loadCursor(dataDir, 'local', 'collector_runs'), null, 'the cursor was never saved');
    const tmpCursor = fs.readdirSync(path.dirname(cursorFile(dataDir, 'local', 'collector_runs')));
    assert.ok(tmpCursor.some((f) => f.endsWith('.tmp')), 'the child got as far as writing the temp cursor');
    let raw = readRaw(dataDir, 'collector_runs', 'local');
    assert.deepEqual(raw.map((l) => l.key), ['evt-1', 'evt-2', 'evt-3'], 'the data was appended before the crash; the run record never was');

    // The source has grown; the next run starts from the missing cursor and re-reads everything.
    const config = configWithRunsSource();
    const def = logDef('collector_runs', z.looseObject({ source: z.string() }), () => [1, 2, 3, 4, 5].map(runsEvent));
    const out = await runCollector(def, { config, dataDir, machine: config.machines[0]!, runId: 'rerun' });
    assert.equal(out.status, 'ok', out.error ?? '');
    assert.equal(out.rows, 5);
    assert.deepEqual(loadCursor(dataDir, 'local', 'collector_runs'), { offset: 5 });
    raw = readRaw(dataDir, 'collector_runs', 'local');
    const count = (k: string) => raw.filter((l) => l.key === k).length;
    assert.deepEqual([1, 2, 3, 4, 5].map((n) => count(`evt-${n}`)), [2, 2, 2, 1, 1], 'the re-read stored events 1-3 twice');
    assert.equal(count('rerun'), 1, 'the rerun recorded itself');

    // And once more: nothing new, nothing stored.
    const again = await runCollector(def, { config, dataDir, machine: config.machines[0]!, runId: 'again' });
    assert.equal(again.rows, 0);

    const session = await openSession({ dataDir });
    try {
      for (const view of ['collector_runs', 'collector_runs_recent']) {
        const rows = await session.query(`SELECT source, count(*)::INTEGER AS n FROM ${view} GROUP BY source ORDER BY source`);
        assert.deepEqual(rows, [
          { source: 'collector_runs', n: 2 }, // the runs 'rerun' and 'again'
          ...[1, 2, 3, 4, 5].map((n) => ({ source: `evt-${n}`, n: 1 })),
        ], `${view} dedupes on (machine_id, key)`);
      }
    } finally {
      session.close();
    }
  });
});

// -------------------------------------------------------------------------------------------------
// Invariant 4: bad input never makes a malformed stored line.

describe('invariant 4: bad input from a source', () => {
  const config = validateConfig({}, 'test');
  const machine = config.machines[0]!;
  const shape = z.object({ name: z.string(), count: z.number().int().nonnegative() });

  /** Runs a one-shot collector; returns the outcome, the stored lines of its source, and its run record. */
  async function once(name: string, schema: z.ZodType, items: Item[], cursor: unknown = { at: 'end' }) {
    const dataDir = freshDir('bad-');
    const out = await runCollector(fakeDef(name, schema, () => items, () => cursor), { config, dataDir, machine });
    const runs = readRaw(dataDir, 'collector_runs', 'local');
    assert.equal(runs.length, 1, 'the run is recorded once');
    return { dataDir, out, stored: readRaw(dataDir, name, 'local'), record: runs[0]!, cursor: loadCursor(dataDir, 'local', name) };
  }

  test('an item of the wrong shape: a run error naming the item and the field, nothing appended, cursor unmoved', async () => {
    const { out, stored, record, cursor } = await once('sys', shape, [
      { data: { name: 'fine', count: 1 } },
      { data: { name: 'bad', count: 'seven' } },
    ]);
    assert.equal(out.status, 'error');
    assert.match(out.error ?? '', /wrong shape \(item 1\)/);
    assert.match(out.error ?? '', /\bcount\b/);
    assert.deepEqual(stored, [], 'not even the good item is stored');
    assert.equal(cursor, null);
    assert.equal(record.data.status, 'error');
    assert.equal(record.data.error, out.error);
  });

  test('an item that is not an object at all, or misses a field: a run error naming it', async () => {
    for (const data of [null, 'a string', [1, 2], { name: 'no count' }]) {
      const { out, stored } = await once('sys', shape, [{ data }]);
      assert.equal(out.status, 'error', JSON.stringify(data));
      assert.match(out.error ?? '', /wrong shape \(item 0\)/);
      if (data && typeof data === 'object' && !Array.isArray(data)) assert.match(out.error ?? '', /\bcount\b/);
      assert.deepEqual(stored, []);
    }
  });

  test('an item larger than MAX_LINE_BYTES: a run error naming the limit, nothing appended; a large one under it is stored whole', async () => {
    const loose = z.object({ name: z.string() });
    const huge = await once('sys', loose, [{ data: { name: 'ok' } }, { data: { name: 'x'.repeat(MAX_LINE_BYTES) } }]);
    assert.equal(huge.out.status, 'error');
    assert.match(huge.out.error ?? '', new RegExp(`item 1\\).*${MAX_LINE_BYTES}-byte line limit`));
    assert.deepEqual(huge.stored, []);
    assert.equal(huge.cursor, null);
    assert.ok(Buffer.byteLength(JSON.stringify(huge.record)) < 10_000, 'the run record does not carry the huge item');

    const big = 'y'.repeat(MAX_LINE_BYTES - 1000);
    const fine = await once('sys', loose, [{ data: { name: big } }]);
    assert.equal(fine.out.status, 'ok', fine.out.error ?? '');
    assert.equal(fine.stored.length, 1);
    assert.equal(fine.stored[0]!.data.name, big);
  });

  test('an item that cannot be serialised (a BigInt): a run error, nothing appended', async () => {
    const { out, stored } = await once('sys', z.object({ n: z.bigint() }), [{ data: { n: 10n } }]);
    assert.equal(out.status, 'error');
    assert.match(out.error ?? '', /BigInt/);
    assert.deepEqual(stored, []);
  });

  const HOSTILE: Record<string, string> = {
    ansi: '\u001b[31mred\u001b[0m \u001b]0;title\u0007 \u001b[2J',
    controls: Array.from({ length: 32 }, (_, i) => String.fromCharCode(i)).join('') + '\u007f\u0085\u009b',
    newline: 'first line\nsecond line\r\nthird',
    json: '"},"kind":"event","key":"forged"}\n{"v":1,"source":"agents","machine_id":"evil","data":{"type":"process"}}\n{',
    separators: 'a\u2028b\u2029c',
    quotes: '\\"\\\\\'`$(rm -rf /)`',
    unicode: 'naïve 😀 \u200b\ufeff',
  };

  test('hostile strings in item fields, keys, warnings and errors are stored as valid JSON and read back byte-exact, by JSON.parse and by the views', async () => {
    const schema = z.object({ type: z.literal('process'), comm: z.string(), args: z.string() });
    const dataDir = freshDir('hostile-');
    const names = Object.keys(HOSTILE);
    const def: CollectorDef = {
      ...fakeDef('agents', schema, () => []),
      async collect(ctx) {
        ctx.warn(`warning with ${HOSTILE.json}${HOSTILE.ansi}`);
        return { items: names.map((n) => ({ data: { type: 'process', comm: n, args: HOSTILE[n]! }, kind: 'event', key: HOSTILE[n] })) };
      },
    };
    const out = await runCollector(def, { config, dataDir, machine, runId: 'hostile' });
    assert.equal(out.status, 'ok', out.error ?? '');
    const file = rawFile(dataDir, 'agents', 'local', utcDate(out.started_at));
    const text = fs.readFileSync(file, 'utf8');
    assert.equal(text.split('\n').length, names.length + 1, 'one line per item, no line broken by a string');
    const stored = readRaw(dataDir, 'agents', 'local');
    assert.deepEqual(stored.map((l) => [l.data.comm, l.data.args, l.key]), names.map((n) => [n, HOSTILE[n], HOSTILE[n]]));
    for (const l of stored) assert.equal(l.machine_id, 'local', 'no forged envelope fields');

    // A failing run whose error text is hostile is recorded as valid JSON too.
    const bad: CollectorDef = { ...def, async collect() { throw new Error(`boom ${HOSTILE.newline} ${HOSTILE.json}`); } };
    const failed = await runCollector(bad, { config, dataDir, machine, runId: 'hostile-error' });
    assert.equal(failed.status, 'error');
    const runs = readRaw(dataDir, 'collector_runs', 'local');
    assert.equal(runs.find((r) => r.run_id === 'hostile')!.data.warnings[0], `warning with ${HOSTILE.json}${HOSTILE.ansi}`);
    assert.equal(runs.find((r) => r.run_id === 'hostile-error')!.data.error, `boom ${HOSTILE.newline} ${HOSTILE.json}`);

    const session = await openSession({ dataDir });
    try {
      assert.deepEqual(session.warnings, []);
      for (const view of ['agents', 'agents_recent']) {
        const rows = await session.query(`SELECT comm, args FROM ${view} ORDER BY comm`);
        assert.deepEqual(rows, [...names].sort().map((n) => ({ comm: n, args: HOSTILE[n] })), `${view}: byte-exact`);
      }
      const errs = await session.query(`SELECT error FROM collector_runs WHERE run_id = 'hostile-error'`);
      assert.deepEqual(errs, [{ error: `boom ${HOSTILE.newline} ${HOSTILE.json}` }]);
    } finally {
      session.close();
    }
  });

  test('a string with a lone UTF-16 surrogate never becomes a line the query path cannot read', async () => {
    const schema = z.object({ type: z.literal('process'), comm: z.string(), args: z.string() });
    const dataDir = freshDir('surrogate-');
    const out = await runCollector(
      fakeDef('agents', schema, () => [{ data: { type: 'process', comm: 'lone', args: 'x\ud800y' } }, { data: { type: 'process', comm: 'ok', args: 'fine' } }]),
      { config, dataDir, machine },
    );
    const stored = readRaw(dataDir, 'agents', 'local');
    const session = await openSession({ dataDir });
    try {
      assert.deepEqual(session.warnings, [], 'no stored line is malformed for the query path');
      const rows = await session.query('SELECT comm FROM agents_recent ORDER BY comm');
      // Either the run refused the item (with a clear error) or it stored a well-formed string.
      if (out.status === 'ok') assert.deepEqual(rows.map((r) => r.comm), ['lone', 'ok']);
      else assert.equal(stored.length, 0);
    } finally {
      session.close();
    }
  });
});
