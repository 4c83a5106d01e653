// lib/tail.ts: the incremental file reader, driven through real targets (this machine's sh, and a
// real sshd on loopback) over real files that are appended to, rotated, truncated and deleted.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { loadConfig } from '../lib/config.ts';
import { execArgv } from '../lib/exec.ts';
import { targetFor, type Target } from '../lib/target.ts';
import {
  buildTailScript, tailCursorsFrom, tailLimitsWithin, DEFAULT_TAIL_LIMITS,
  type TailCursors, type TailLimits, type TailRequest, type TailResult,
} from '../lib/tail.ts';
import { tmpDir, writeExecutable } from './helpers.ts';
import { SSH_USER, sshdAvailable, startSshd, type Sshd } from './sshd.ts';

const RUN_LIMITS = { timeoutMs: 60_000, maxBytes: 16 << 20 };

let base: string | undefined;
/** A fresh temp dir the ssh test user can read (tmpDir makes 0700 dirs), all under one removed at exit. */
function readableDir(): string {
  if (!base) {
    base = tmpDir('vc-tail-');
    fs.chmodSync(base, 0o755);
  }
  const dir = fs.mkdtempSync(path.join(base, 'd-'));
  fs.chmodSync(dir, 0o755);
  return dir;
}

function write(file: string, content: string | Buffer): void {
  fs.writeFileSync(file, content, { mode: 0o644 });
  fs.chmodSync(file, 0o644);
}

/** Runs the tail script on a target and parses it; keeps the cursors between runs like a collector. */
class Reader {
  cursors: TailCursors = {};
  constructor(readonly target: Target, readonly base: Omit<TailRequest, 'cursors'>) {}
  async run(extra: Partial<TailRequest> = {}): Promise<TailResult> {
    const t = buildTailScript({ ...this.base, ...extra, cursors: this.cursors });
    const r = await this.target.runScript(t.script, RUN_LIMITS);
    assert.equal(r.code, 0, `the tail script failed on ${this.target.describe}: ${r.stderr}`);
    const res = t.parse(r.stdout);
    // What a collector saves, through JSON and back.
    const saved = tailCursorsFrom(JSON.parse(JSON.stringify(res.cursors)));
    assert.deepEqual(saved.warnings, []);
    this.cursors = saved.cursors;
    return res;
  }
}

const texts = (res: TailResult, p?: string) => res.files.filter((f) => p === undefined || f.path === p).flatMap((f) => f.lines.map((l) => l.text));
const events = (res: TailResult, p: string) => res.files.find((f) => f.path === p)?.events.map((e) => e.type) ?? [];

function localTarget(): Target {
  const dir = tmpDir();
  const toml = path.join(dir, 'vc.toml');
  fs.writeFileSync(toml, '[[machines]]\nid = "here"\nssh = "local"\n');
  const { config } = loadConfig(toml);
  return targetFor(config.machines[0]!, config);
}

function scenarios(kind: string, getTarget: () => Target) {
  const reader = (base: Omit<TailRequest, 'cursors'>) => new Reader(getTarget(), base);

  test(`${kind}: a new file is read whole, with byte offsets and a cursor at its end`, async () => {
    const dir = readableDir();
    const f = path.join(dir, 'a.log');
    write(f, 'one\ntwo\nthree\n');
    const r = reader({ files: [f] });
    const res = await r.run();
    assert.deepEqual(texts(res), ['one', 'two', 'three']);
    assert.deepEqual(res.files[0]!.lines.map((l) => [l.offset, l.bytes]), [[0, 3], [4, 3], [8, 5]]);
    assert.deepEqual(events(res, f), ['new']);
    const c = r.cursors[f]!;
    assert.equal(c.inode, fs.statSync(f).ino);
    assert.equal(c.offset, 14);
    assert.equal(c.size, 14);
    assert.equal(res.more, false);
    assert.equal(res.bytes, 14);
  });

  test(`${kind}: appended lines are read exactly once across runs (files found under a tree)`, async () => {
    const dir = readableDir();
    fs.mkdirSync(path.join(dir, 'proj'), { mode: 0o755 });
    const f = path.join(dir, 'proj', 's.jsonl');
    write(f, '{"n":1}\n{"n":2}\n');
    write(path.join(dir, 'proj', 'other.txt'), 'not matched\n');
    const r = reader({ trees: [{ root: dir, name: '*.jsonl' }] });
    assert.deepEqual(texts(await r.run()), ['{"n":1}', '{"n":2}']);
    fs.appendFileSync(f, '{"n":3}\n');
    const second = await r.run();
    assert.deepEqual(texts(second), ['{"n":3}']);
    assert.deepEqual(events(second, f), [], 'a known file found under the tree again is not new');
    assert.equal(second.files[0]!.lines[0]!.offset, 16);
    const third = await r.run();
    assert.deepEqual(texts(third), []);
    assert.equal(third.bytes, 0);
    fs.appendFileSync(f, '{"n":4}\n{"n":5}\n');
    write(path.join(dir, 'proj', 't.jsonl'), '{"t":1}\n');
    const fourth = await r.run();
    assert.deepEqual(texts(fourth, f), ['{"n":4}', '{"n":5}']);
    assert.deepEqual(texts(fourth, path.join(dir, 'proj', 't.jsonl')), ['{"t":1}']);
    assert.deepEqual(events(fourth, path.join(dir, 'proj', 't.jsonl')), ['new']);
    assert.deepEqual(Object.keys(r.cursors).sort(), [f, path.join(dir, 'proj', 't.jsonl')]);
  });

  test(`${kind}: a partial last line is held back until its newline arrives`, async () => {
    const dir = readableDir();
    const f = path.join(dir, 'p.log');
    write(f, 'done\nhal');
    const r = reader({ files: [f] });
    assert.deepEqual(texts(await r.run()), ['done']);
    assert.equal(r.cursors[f]!.offset, 5, 'the partial line is not consumed');
    fs.appendFileSync(f, 'f-way');
    assert.deepEqual(texts(await r.run()), []);
    assert.equal(r.cursors[f]!.offset, 5);
    fs.appendFileSync(f, ' there\nnext\n');
    assert.deepEqual(texts(await r.run()), ['half-way there', 'next']);
    assert.equal(r.cursors[f]!.offset, fs.statSync(f).size);
  });

  test(`${kind}: multi-byte UTF-8 across chunk limits: the cursor counts bytes, not characters`, async () => {
    const dir = readableDir();
    const f = path.join(dir, 'u.log');
    // 2-, 3- and 4-byte characters (up to 49 bytes a line): chunk ends fall inside characters.
    const lines = Array.from({ length: 24 }, (_, i) => `${i}:${'é€😀'.repeat((i % 5) + 1)}`);
    const content = `${lines.join('\n')}\n`;
    write(f, content);
    const limits = { maxLineBytes: 100, maxBytesPerFile: 101, maxBytesTotal: 101 };
    const r = reader({ files: [f], limits });
    const got: string[] = [];
    const offsets: number[] = [];
    for (let i = 0; i < 40 && (i === 0 || r.cursors[f]!.offset < Buffer.byteLength(content)); i++) {
      const res = await r.run();
      for (const l of res.files[0]?.lines ?? []) {
        got.push(l.text);
        offsets.push(l.offset);
        assert.equal(l.bytes, Buffer.byteLength(l.text));
      }
      // Always at a line boundary, in bytes.
      const off = r.cursors[f]!.offset;
      if (off > 0) assert.equal(Buffer.from(content)[off - 1], 0x0a, `offset ${off} follows a newline`);
    }
    assert.deepEqual(got, lines);
    const expected: number[] = [];
    let at = 0;
    for (const l of lines) { expected.push(at); at += Buffer.byteLength(l) + 1; }
    assert.deepEqual(offsets, expected);
    assert.equal(r.cursors[f]!.offset, Buffer.byteLength(content));
    assert.notEqual(Buffer.byteLength(content), content.length, 'the test text is multi-byte');
  });

  test(`${kind}: a line filter returns only the lines holding it, at their offsets; the others are still consumed`, async () => {
    const dir = readableDir();
    const f = path.join(dir, 'f.jsonl');
    const lines = ['{"a":1}', '{"usage":1} é', '{"b":"x"}', `{"c":"${'y'.repeat(80)}"}`, '{"usage":2}', '"usage"', '{"d":3}'];
    write(f, `${lines.join('\n')}\n{"usage":"partial`);
    const r = reader({ files: [f], lineFilter: ['"usage"'], limits: { maxLineBytes: 60, maxBytesPerFile: 1000, maxBytesTotal: 1000 } });
    const res = await r.run();
    const at = (i: number) => Buffer.byteLength(lines.slice(0, i).map((l) => `${l}\n`).join(''));
    assert.deepEqual(res.files[0]!.lines.map((l) => [l.text, l.offset]), [[lines[1], at(1)], [lines[4], at(4)], [lines[5], at(5)]]);
    assert.deepEqual(events(res, f), ['new', 'line_skipped'], 'an over-long line is reported, filter or not');
    assert.equal(r.cursors[f]!.offset, at(lines.length), 'every whole line consumed; the partial one held back');
    fs.appendFileSync(f, '"}\n{"e":5}\n');
    assert.deepEqual(texts(await r.run()), ['{"usage":"partial"}']);
    assert.throws(() => buildTailScript({ files: [f], lineFilter: ['a\nb'] }), /without newline or NUL/);
  });

  test(`${kind}: filtered on the target: only kept lines travel, at their offsets; NUL, multi-byte, over-long and partial lines; new, grown and explicit files`, async () => {
    const dir = readableDir();
    const f = path.join(dir, 'a.jsonl');
    const g = path.join(dir, 'g.log');
    const long = `{"usage":"${'z'.repeat(70)}"}`;
    const lines = ['{"a":1}', '{"usage":1,"t":"é"}', Buffer.from('{"x":"\0"}').toString(), '{"usage":"\0nul"}', long, 'x'.repeat(90), '{"usage":3}'];
    write(f, `${lines.join('\n')}\n{"usage":"half`);
    write(g, '{"usage":"g1"}\nnot kept\n');
    const r = reader({ trees: [{ root: dir, name: '*.jsonl' }], files: [g], lineFilter: ['"usage"', 'never'], limits: { maxLineBytes: 60, maxBytesPerFile: 1000, maxBytesTotal: 2000 } });
    const res = await r.run();
    const at = (i: number) => Buffer.byteLength(lines.slice(0, i).map((l) => `${l}\n`).join(''));
    const fa = res.files.find((x) => x.path === f)!;
    assert.deepEqual(fa.lines.map((l) => [l.text, l.offset, l.bytes]), [1, 3, 6].map((i) => [lines[i], at(i), Buffer.byteLength(lines[i]!)]));
    assert.deepEqual(fa.events, [{ type: 'new' }, { type: 'line_skipped', inode: fs.statSync(f).ino, offset: at(4), bytes: long.length },
      { type: 'line_skipped', inode: fs.statSync(f).ino, offset: at(5), bytes: 90 }], 'over-long lines are skipped whether kept or not');
    assert.equal(r.cursors[f]!.offset, at(lines.length), 'whole lines consumed, the partial one held back');
    assert.equal(r.cursors[f]!.tail, Buffer.from(lines.map((l) => `${l}\n`).join('')).subarray(-32).toString('hex'), 'the fingerprint: the 32 bytes before the cursor');
    assert.deepEqual(texts(res, g), ['{"usage":"g1"}']);
    assert.equal(r.cursors[g]!.offset, fs.statSync(g).size);
    assert.ok(res.bytes >= at(lines.length), 'bytes counts what was consumed, kept or not');

    fs.appendFileSync(f, '"}\n{"b":2}\n{"usage":4}\n');
    fs.appendFileSync(g, 'still not\n{"usage":"g2"}\n');
    const again = await r.run();
    assert.deepEqual(texts(again, f), ['{"usage":"half"}', '{"usage":4}']);
    assert.deepEqual(again.files.find((x) => x.path === f)!.lines[0]!.offset, at(lines.length));
    assert.deepEqual(texts(again, g), ['{"usage":"g2"}']);
    assert.deepEqual(texts(await r.run()), [], 'nothing new, nothing read');
    assert.equal(r.cursors[f]!.offset, fs.statSync(f).size);
  });

  test(`${kind}: filtered on the target: deep in a big file, across runs on a small budget, and after a rewrite in place`, async () => {
    const dir = readableDir();
    const f = path.join(dir, 'big.jsonl');
    // Past the 1 MiB a file is read through: the next read starts with tail -c.
    const filler = `${'{"pad":"' + 'p'.repeat(1000) + '"}\n'}`.repeat(1100);
    const kept = Array.from({ length: 60 }, (_, i) => `{"usage":${i}}`);
    write(f, `${filler}${kept.slice(0, 30).join('\n')}\n`);
    const r = reader({ files: [f], lineFilter: ['"usage"'], limits: { maxLineBytes: 100, maxBytesPerFile: 200, maxBytesTotal: 200 } });
    const got: string[] = [];
    for (let i = 0; i < 40; i++) {
      const res = await r.run();
      got.push(...texts(res));
      if (!res.more) break;
    }
    assert.deepEqual(got, kept.slice(0, 30), 'every kept line once, budget after budget');
    fs.appendFileSync(f, `${kept.slice(30).join('\n')}\n`);
    const later: string[] = [];
    for (let i = 0; i < 40; i++) {
      const res = await r.run();
      later.push(...texts(res));
      const content = fs.readFileSync(f);
      for (const l of res.files[0]!.lines) assert.equal(l.offset, content.indexOf(`\n${l.text}\n`) + 1, `${l.text} at its byte offset`);
      if (!res.more) break;
    }
    assert.deepEqual(later, kept.slice(30));
    // Rewritten in place, longer: the bytes before the cursor changed, so it is read again from 0.
    const rewritten = kept.map((k) => k.replace('{', '{ '));
    write(f, `${filler}${rewritten.join('\n')}\n{"usage":"new"}\n`);
    const res = await r.run();
    assert.deepEqual(events(res, f), ['truncated']);
    const reread: string[] = [];
    for (let i = 0; i < 60; i++) {
      const x = await r.run();
      reread.push(...texts(x));
      if (!x.more) break;
    }
    assert.deepEqual(reread, [...rewritten, '{"usage":"new"}']);
  });

  test(`${kind}: a file bigger than the chunk limit is read across runs, no line lost or repeated`, async () => {
    const dir = readableDir();
    const f = path.join(dir, 'big.log');
    const lines = Array.from({ length: 500 }, (_, i) => `line ${i} ${'x'.repeat(i % 37)}`);
    write(f, `${lines.join('\n')}\n`);
    const size = fs.statSync(f).size;
    const r = reader({ files: [f], limits: { maxLineBytes: 64, maxBytesPerFile: 1000, maxBytesTotal: 1000 } });
    const got: string[] = [];
    let runs = 0;
    for (;;) {
      const res = await r.run();
      runs++;
      assert.ok(res.bytes <= 1000, `a run reads at most the chunk limit (read ${res.bytes})`);
      got.push(...texts(res));
      if (!res.more) break;
      assert.ok(runs < 100, 'reading ends');
    }
    assert.deepEqual(got, lines);
    assert.ok(runs >= Math.ceil(size / 1000), `read over ${runs} runs`);
    // Appending after the backlog is drained still works.
    fs.appendFileSync(f, 'tail end\n');
    assert.deepEqual(texts(await r.run()), ['tail end']);
  });

  test(`${kind}: the total budget is shared by files and the rest is read next run`, async () => {
    const dir = readableDir();
    const a = path.join(dir, 'a.log');
    const b = path.join(dir, 'b.log');
    write(a, `${'a'.repeat(50)}\n`.repeat(10)); // 510 bytes
    write(b, `${'b'.repeat(50)}\n`.repeat(10));
    const r = reader({ files: [a, b], limits: { maxLineBytes: 60, maxBytesPerFile: 600, maxBytesTotal: 600 } });
    const first = await r.run();
    assert.equal(texts(first, a).length, 10);
    assert.ok(texts(first, b).length < 10);
    assert.equal(first.more, true);
    const second = await r.run();
    assert.equal(texts(first, b).length + texts(second, b).length, 10);
    assert.equal(second.more, false);
  });

  test(`${kind}: logrotate rename: the old file (now .1) is finished first, then the new one is read from 0`, async () => {
    const dir = readableDir();
    const f = path.join(dir, 'app.log');
    write(f, 'old 1\nold 2\n');
    const r = reader({ files: [f] });
    assert.deepEqual(texts(await r.run()), ['old 1', 'old 2']);
    const oldInode = fs.statSync(f).ino;
    fs.appendFileSync(f, 'old 3\nold 4\n'); // written before the rotation, not yet read
    fs.renameSync(f, `${f}.1`);
    write(f, 'new 1\n');
    const res = await r.run();
    assert.deepEqual(texts(res), ['old 3', 'old 4', 'new 1']);
    const rot = res.files[0]!.events.find((e) => e.type === 'rotated');
    assert.deepEqual(rot, { type: 'rotated', oldInode, newInode: fs.statSync(f).ino, oldPath: `${f}.1` });
    assert.equal(res.files[0]!.lines[0]!.inode, oldInode);
    assert.equal(res.files[0]!.lines[2]!.inode, fs.statSync(f).ino);
    assert.equal(r.cursors[f]!.inode, fs.statSync(f).ino);
    assert.equal(r.cursors[f]!.offset, 6);
    fs.appendFileSync(f, 'new 2\n');
    const next = await r.run();
    assert.deepEqual(texts(next), ['new 2']);
    assert.deepEqual(events(next, f), []);
  });

  test(`${kind}: a rotated file with a long rest is finished across runs before the new file`, async () => {
    const dir = readableDir();
    const f = path.join(dir, 'app.log');
    write(f, 'start\n');
    const r = reader({ files: [f], limits: { maxLineBytes: 40, maxBytesPerFile: 100, maxBytesTotal: 100 } });
    await r.run();
    const rest = Array.from({ length: 20 }, (_, i) => `old line ${i}`);
    fs.appendFileSync(f, `${rest.join('\n')}\n`);
    fs.renameSync(f, `${f}.1`);
    write(f, 'fresh\n');
    const got: string[] = [];
    const seen: string[] = [];
    for (let i = 0; i < 20; i++) {
      const res = await r.run();
      got.push(...texts(res));
      seen.push(...events(res, f));
      if (!res.more) break;
    }
    assert.deepEqual(got, [...rest, 'fresh']);
    assert.deepEqual(seen, ['rotated'], 'the rotation is reported once');
    assert.equal(r.cursors[f]!.inode, fs.statSync(f).ino);
  });

  test(`${kind}: rotated away with the old file gone (compressed): the new file is read from 0`, async () => {
    const dir = readableDir();
    const f = path.join(dir, 'app.log');
    write(f, 'a\n');
    const r = reader({ files: [f] });
    await r.run();
    const before = r.cursors[f]!.inode;
    fs.appendFileSync(f, 'unread\n');
    const elsewhere = readableDir(); // out of its directory, yet alive: the inode cannot be reused
    fs.renameSync(f, path.join(elsewhere, 'app.log.1'));
    write(f, 'b\n');
    const res = await r.run();
    assert.deepEqual(texts(res), ['b']);
    assert.deepEqual(res.files[0]!.events, [{ type: 'rotated', oldInode: before, newInode: fs.statSync(f).ino, oldPath: null }]);
    assert.ok(res.warnings.some((w) => /old one is not in its directory: whatever of it was not read yet is lost/.test(w)), res.warnings.join('; '));
  });

  test(`${kind}: copytruncate: the same inode truncated is read again from 0 and said so`, async () => {
    const dir = readableDir();
    const f = path.join(dir, 'ct.log');
    write(f, 'first\nsecond\nthird\n');
    const r = reader({ files: [f] });
    await r.run();
    const ino = fs.statSync(f).ino;
    fs.truncateSync(f, 0);
    fs.appendFileSync(f, 'after\n');
    assert.equal(fs.statSync(f).ino, ino);
    const res = await r.run();
    assert.deepEqual(texts(res), ['after']);
    assert.deepEqual(res.files[0]!.events, [{ type: 'truncated', reason: 'shrunk', size: 6, offset: 19 }]);
    assert.equal(r.cursors[f]!.offset, 6);
  });

  test(`${kind}: truncated and regrown past the old offset: the changed bytes give it away`, async () => {
    const dir = readableDir();
    const f = path.join(dir, 'ct2.log');
    write(f, 'aaaa\nbbbb\n');
    const r = reader({ files: [f] });
    await r.run();
    fs.truncateSync(f, 0);
    fs.appendFileSync(f, 'cccccccc\ndddd\neeee\n'); // longer than before, same inode
    const res = await r.run();
    assert.deepEqual(res.files[0]!.events.map((e) => e.type), ['truncated']);
    assert.deepEqual(res.files[0]!.events[0], { type: 'truncated', reason: 'rewritten', size: 19, offset: 10 });
    assert.deepEqual(texts(res), [], 'nothing from the middle of the new content');
    assert.equal(res.more, true);
    assert.deepEqual(texts(await r.run()), ['cccccccc', 'dddd', 'eeee']);
  });

  test(`${kind}: a deleted file drops its cursor and says so`, async () => {
    const dir = readableDir();
    const f = path.join(dir, 'gone.log');
    const g = path.join(dir, 'stays.log');
    const h = path.join(dir, 'z.log');
    write(f, 'x\n');
    write(g, 'y\n');
    write(h, 'z\n');
    const r = reader({ trees: [{ root: dir, name: '*.log', maxDepth: 1 }] });
    await r.run();
    assert.ok(f in r.cursors);
    fs.unlinkSync(f);
    fs.appendFileSync(g, 'y2\n');
    const res = await r.run();
    assert.deepEqual(events(res, f), ['deleted']);
    assert.equal(res.files.find((x) => x.path === f)!.cursor, null);
    // The files after it are unaffected (their batched stats are matched by name, not position).
    assert.deepEqual(events(res, g), []);
    assert.deepEqual(texts(res, g), ['y2']);
    assert.deepEqual(events(res, h), []);
    assert.deepEqual(Object.keys(r.cursors).sort(), [g, h]);
    const again = await r.run();
    assert.deepEqual(again.files.map((x) => x.path).sort(), [g, h]);
  });

  test(`${kind}: a line over the cap is skipped whole with a warning, never split`, async () => {
    const dir = readableDir();
    const f = path.join(dir, 'huge.log');
    const huge = 'H'.repeat(5000);
    write(f, `short\n${huge}\nafter\n`);
    const limits = { maxLineBytes: 100, maxBytesPerFile: 300, maxBytesTotal: 300 };
    const r = reader({ files: [f], limits });
    const got: string[] = [];
    const skipped: unknown[] = [];
    const warnings: string[] = [];
    for (let i = 0; i < 40; i++) {
      const res = await r.run();
      got.push(...texts(res));
      skipped.push(...res.files.flatMap((x) => x.events.filter((e) => e.type === 'line_skipped')));
      warnings.push(...res.warnings);
      if (!res.more) break;
    }
    assert.deepEqual(got, ['short', 'after']);
    assert.deepEqual(skipped, [{ type: 'line_skipped', inode: fs.statSync(f).ino, offset: 6, bytes: 5000 }]);
    assert.equal(warnings.length, 1);
    assert.match(warnings[0]!, /skipped a 5000-byte line at byte 6/);
    assert.ok(got.every((l) => l.length <= 100));
  });

  test(`${kind}: a too-long line that fits in one chunk is skipped too, its neighbours kept`, async () => {
    const dir = readableDir();
    const f = path.join(dir, 'mid.log');
    write(f, `a\n${'M'.repeat(150)}\nb\n${'N'.repeat(100)}\n`);
    const r = reader({ files: [f], limits: { maxLineBytes: 100, maxBytesPerFile: 1000, maxBytesTotal: 1000 } });
    const res = await r.run();
    assert.deepEqual(texts(res), ['a', 'b', 'N'.repeat(100)], 'a line of exactly the cap is kept');
    assert.deepEqual(res.files[0]!.events.filter((e) => e.type === 'line_skipped'), [{ type: 'line_skipped', inode: fs.statSync(f).ino, offset: 2, bytes: 150 }]);
    assert.equal(r.cursors[f]!.offset, fs.statSync(f).size);
  });

  test(`${kind}: a huge line still being written is skipped as it grows, then reading goes on`, async () => {
    const dir = readableDir();
    const f = path.join(dir, 'growing.log');
    write(f, `ok\n${'G'.repeat(250)}`);
    const r = reader({ files: [f], limits: { maxLineBytes: 100, maxBytesPerFile: 300, maxBytesTotal: 300 } });
    assert.deepEqual(texts(await r.run()), ['ok']);
    assert.equal(r.cursors[f]!.skipping, 250);
    fs.appendFileSync(f, `${'G'.repeat(250)}\nlater\n`);
    const res = await r.run();
    assert.deepEqual(texts(res), ['later']);
    assert.deepEqual(res.files[0]!.events, [{ type: 'line_skipped', inode: fs.statSync(f).ino, offset: 3, bytes: 500 }]);
    assert.equal(r.cursors[f]!.skipping, undefined);
  });

  test(`${kind}: NUL bytes and invalid UTF-8 neither crash the reader nor shift the cursor`, async () => {
    const dir = readableDir();
    const f = path.join(dir, 'bin.log');
    const content = Buffer.concat([Buffer.from('a\u0000b\n'), Buffer.from([0xff, 0xfe, 0xc3, 0x0a]), Buffer.from('ok\n')]);
    write(f, content);
    const r = reader({ files: [f] });
    const res = await r.run();
    assert.deepEqual(texts(res), ['a\u0000b', '\ufffd\ufffd\ufffd', 'ok']);
    assert.deepEqual(res.files[0]!.lines.map((l) => [l.offset, l.bytes]), [[0, 3], [4, 3], [8, 2]]);
    assert.equal(r.cursors[f]!.offset, content.length);
  });

  test(`${kind}: paths with spaces, quotes and shell syntax are read as they are`, async () => {
    const dir = readableDir();
    const sub = path.join(dir, `it's a "dir" $(touch pwned) \`x\``);
    fs.mkdirSync(sub, { mode: 0o755 });
    fs.chmodSync(sub, 0o755);
    const f = path.join(sub, `we'll see; $HOME \\ *.jsonl`);
    write(f, 'quoted\n');
    const r = reader({ files: [f] });
    const res = await r.run();
    assert.deepEqual(texts(res), ['quoted']);
    assert.ok(f in r.cursors);
    const t = reader({ trees: [{ root: sub, name: "we'll*" }] });
    const viaTree = await t.run();
    assert.deepEqual(viaTree.files.map((x) => x.path), [f]);
    assert.deepEqual(texts(viaTree), ['quoted']);
    fs.appendFileSync(f, 'again\n');
    assert.deepEqual(texts(await t.run()), ['again']);
    // Where an unquoted $(touch pwned) would have run: this process's cwd, or the ssh user's home.
    for (const where of [dir, process.cwd(), `/var/lib/${SSH_USER}`]) assert.equal(fs.existsSync(path.join(where, 'pwned')), false, where);
  });

  test(`${kind}: a hostile name with a newline is refused, not read, and cannot smuggle in another path`, async () => {
    const dir = readableDir();
    const victim = path.join(dir, 'victim.jsonl');
    write(victim, 'secret\n');
    const sub = path.join(dir, 'logs');
    fs.mkdirSync(sub, { mode: 0o755 });
    // find would print this name as two lines, the second of which looks like a file of the tree.
    write(path.join(sub, 'x\n.'), 'evil\n');
    write(path.join(sub, 'y\nvictim.jsonl'), 'evil\n');
    fs.symlinkSync(victim, path.join(sub, 'victim.jsonl'));
    write(path.join(sub, 'good.jsonl'), 'good\n');
    const r = reader({ trees: [{ root: sub, name: '*' }] });
    const res = await r.run();
    assert.deepEqual(texts(res), ['good']);
    assert.deepEqual(res.files.map((x) => x.path), [path.join(sub, 'good.jsonl')]);
    assert.equal(res.refused, 2);
    assert.ok(res.warnings.some((w) => /control character/.test(w)));
    // Named directly, it is refused before any script is built.
    const direct = reader({ files: [path.join(sub, `x\n${victim}`), `${sub}/tab\there`] });
    const d = await direct.run();
    assert.deepEqual(d.files, []);
    assert.equal(d.refused, 2);
    assert.deepEqual(direct.cursors, {});
  });

  test(`${kind}: a missing tree root is reported, and an absent named file yields no cursor`, async () => {
    const dir = readableDir();
    const r = reader({ trees: [{ root: path.join(dir, 'nope'), name: '*' }], files: [path.join(dir, 'absent.log')] });
    const res = await r.run();
    assert.deepEqual(res.missingRoots, [path.join(dir, 'nope')]);
    assert.deepEqual(r.cursors, {});
    assert.deepEqual(res.files.map((x) => [x.path, x.cursor, x.events]), [[path.join(dir, 'absent.log'), null, []]]);
  });

  test(`${kind}: maxFilesPerRun bounds the files read per run; the others follow`, async () => {
    const dir = readableDir();
    for (let i = 0; i < 5; i++) write(path.join(dir, `f${i}.jsonl`), `n${i}\n`);
    const r = reader({ trees: [{ root: dir, name: '*.jsonl' }], limits: { maxFilesPerRun: 2 } });
    const got: string[] = [];
    const counts: number[] = [];
    for (let i = 0; i < 5; i++) {
      const res = await r.run();
      counts.push(res.files.filter((x) => x.lines.length).length);
      if (i === 0) assert.equal(Object.keys(r.cursors).length, 2, 'files past the limit are left for later, not started');
      got.push(...texts(res));
      if (!res.more) break;
    }
    assert.deepEqual(got.sort(), ['n0', 'n1', 'n2', 'n3', 'n4']);
    assert.deepEqual(counts, [2, 2, 1]);
  });
}

describe('tail on the local target', () => {
  let target: Target;
  before(() => { target = localTarget(); });
  scenarios('local', () => target);
});

describe('tail over ssh', { skip: sshdAvailable() ? false : 'needs root and /usr/sbin/sshd' }, () => {
  let sshd: Sshd;
  let target: Target;
  before(async () => {
    sshd = await startSshd([{ name: 'ok' }]);
    const dir = tmpDir();
    const toml = path.join(dir, 'vc.toml');
    fs.writeFileSync(toml, [
      '[ssh]', `config_file = ${JSON.stringify(sshd.clientConfig)}`,
      '[[machines]]', 'id = "remote"', `ssh = ${JSON.stringify(sshd.target)}`, `identity_file = ${JSON.stringify(sshd.keys.ok)}`,
    ].join('\n'));
    const { config } = loadConfig(toml);
    target = targetFor(config.machines[0]!, config);
  });
  after(() => sshd?.stop());
  scenarios('ssh', () => target);

  test('ssh: a file the remote user cannot read is said so, tried again next run, and read once it can be', async () => {
    const dir = readableDir();
    const f = path.join(dir, 'locked.jsonl');
    const g = path.join(dir, 'open.jsonl');
    write(f, '{"usage":1}\n');
    fs.chmodSync(f, 0o600); // root's; the ssh user may not read it
    write(g, '{"usage":2}\n');
    const r = new Reader(target, { trees: [{ root: dir, name: '*.jsonl' }], lineFilter: ['"usage"'] });
    const res = await r.run();
    assert.deepEqual(texts(res), ['{"usage":2}']);
    assert.equal(res.more, false, 'an unreadable file is no backlog to loop on');
    assert.ok(res.warnings.some((w) => w.includes(`${f}: cannot be read`)), res.warnings.join('\n'));
    assert.equal(r.cursors[f]?.offset ?? 0, 0);
    fs.chmodSync(f, 0o644);
    assert.deepEqual(texts(await r.run()), ['{"usage":1}']);
  });

  test('ssh: ~/ paths are the remote user\'s home', async () => {
    const home = execFileSync('sh', ['-c', `getent passwd ${SSH_USER} | cut -d: -f6`], { encoding: 'utf8' }).trim();
    const sub = fs.mkdtempSync(path.join(home, 'vc-tail-'));
    try {
      fs.chmodSync(sub, 0o755);
      write(path.join(sub, 's.jsonl'), 'from home\n');
      const rel = `~/${path.basename(sub)}`;
      const r = new Reader(target, { trees: [{ root: rel, name: '*.jsonl' }] });
      const res = await r.run();
      assert.deepEqual(texts(res), ['from home']);
      assert.deepEqual(Object.keys(r.cursors), [`${rel}/s.jsonl`]);
      fs.appendFileSync(path.join(sub, 's.jsonl'), 'more\n');
      const again = await r.run();
      assert.deepEqual(texts(again), ['more']);
      assert.deepEqual(again.files[0]!.events, []);
    } finally {
      fs.rmSync(sub, { recursive: true, force: true });
    }
  });
});

describe('tail on a target without base64, GNU stat or head -c', () => {
  /** A PATH with the POSIX tools only: od instead of base64, ls + wc instead of stat, dd instead of head -c. */
  function posixOnly(): string {
    const bin = path.join(tmpDir(), 'bin');
    fs.mkdirSync(bin);
    for (const tool of ['sh', 'tail', 'od', 'tr', 'find', 'sort', 'awk', 'ls', 'wc', 'dd', 'cat', 'cut']) {
      const where = execFileSync('sh', ['-c', `command -v ${tool}`], { encoding: 'utf8' }).trim();
      fs.symlinkSync(where, path.join(bin, tool));
    }
    const head = execFileSync('sh', ['-c', 'command -v head'], { encoding: 'utf8' }).trim();
    writeExecutable(bin, 'head', `#!/bin/sh\ncase "$1" in -c*) echo "head: invalid option" >&2; exit 1 ;; esac\nexec ${head} "$@"\n`);
    return bin;
  }

  test('the fallbacks give the same lines, offsets and cursors', async () => {
    const bin = posixOnly();
    const dir = readableDir();
    const f = path.join(dir, 'u.jsonl');
    write(f, `héllo\n${'é'.repeat(30)}\nplain\nhal`);
    const run = async (env: NodeJS.ProcessEnv | undefined, cursors: TailCursors) => {
      const t = buildTailScript({ files: [f], trees: [{ root: dir, name: '*.jsonl' }], cursors, limits: { maxLineBytes: 40, maxBytesPerFile: 50, maxBytesTotal: 50 } });
      const r = await execArgv(['sh', '-s'], { ...RUN_LIMITS, input: t.script, env });
      assert.equal(r.code, 0, r.stderr);
      return { res: t.parse(r.stdout), stdout: r.stdout };
    };
    let a: TailCursors = {};
    let b: TailCursors = {};
    for (let i = 0; i < 4; i++) {
      const native = await run(undefined, a);
      const fallback = await run({ PATH: bin }, b);
      assert.match(native.stdout, /\nb64\n/);
      assert.match(fallback.stdout, /\nhex\n/, 'od was used');
      assert.deepEqual(fallback.res.files, native.res.files);
      a = native.res.cursors;
      b = fallback.res.cursors;
      if (i === 1) fs.appendFileSync(f, 'f\n');
    }
    assert.equal(b[f]!.offset, fs.statSync(f).size);
  });

  test('a line filter gives the same lines, offsets, events and cursors applied on the target (awk) as in the reader (raw bytes)', async () => {
    // An awk that loses NUL bytes fails the script's probe, so that target sends raw bytes.
    const bin = path.join(tmpDir(), 'bin');
    fs.mkdirSync(bin);
    const awk = execFileSync('sh', ['-c', 'command -v awk'], { encoding: 'utf8' }).trim();
    writeExecutable(bin, 'awk', `#!/bin/sh\n${awk} "$@" | tr -d '\\000'\n`);
    const dir = readableDir();
    const a = path.join(dir, 'a.jsonl');
    const b = path.join(dir, 'b.jsonl');
    const request = (cursors: TailCursors) => buildTailScript({
      trees: [{ root: dir, name: '*.jsonl' }], cursors, lineFilter: ['"usage"', '"tokens"'],
      limits: { maxLineBytes: 80, maxBytesPerFile: 300, maxBytesTotal: 400 },
    });
    /** Runs until nothing is left, gathering every file's lines and events; the cursors then. */
    const drain = async (env: NodeJS.ProcessEnv | undefined, cursors: TailCursors) => {
      const filtered = env === undefined;
      const lines: string[] = [];
      const evs: string[] = [];
      for (let i = 0; i < 50; i++) {
        const t = request(cursors);
        const r = await execArgv(['sh', '-s'], { ...RUN_LIMITS, input: t.script, env });
        assert.equal(r.code, 0, r.stderr);
        const sent = Buffer.from(r.stdout.slice(r.stdout.indexOf('\nb64\n') + 5, r.stdout.lastIndexOf('\n@@vc-')), 'base64').toString('latin1');
        assert.equal(/^fdata cur /m.test(sent), filtered && /^(found|known) /m.test(sent), 'filtered blocks on the target with the real awk only');
        assert.equal(/^data cur /m.test(sent), !filtered && /^data /m.test(sent));
        const res = t.parse(r.stdout);
        assert.deepEqual(res.warnings.filter((w) => !/skipped a|rewritten|replaced/.test(w)), []);
        for (const f of [...res.files].sort((x, y) => x.path.localeCompare(y.path))) {
          lines.push(...f.lines.map((l) => `${path.basename(f.path)} ${l.offset} ${l.bytes} ${l.text}`));
          evs.push(...f.events.map((e) => `${path.basename(f.path)} ${JSON.stringify(e)}`));
        }
        cursors = res.cursors;
        if (!res.more) return { lines, evs, cursors };
      }
      throw new Error('reading did not end');
    };
    const steps: Array<() => void> = [
      () => {
        write(a, ['{"usage":1}', 'plain', `{"usage":"${'é'.repeat(50)}"}`, '{"tokens":"\0"}', 'x'.repeat(81), '{"usage":2}', '{"usage":"par'].join('\n'));
        write(b, `${Array.from({ length: 40 }, (_, i) => (i % 3 ? `{"tokens":${i}}` : `other ${i}`)).join('\n')}\n`);
      },
      () => fs.appendFileSync(a, 'tial"}\n{"usage":3}\n'),
      () => { fs.renameSync(b, `${b}.1`); write(b, '{"tokens":"after rotation"}\n'); },
      () => { fs.truncateSync(a, 0); fs.appendFileSync(a, '{"usage":"again"}\nnot this\n'); },
    ];
    let fast: TailCursors = {};
    let raw: TailCursors = {};
    for (const step of steps) {
      step();
      const onTarget = await drain(undefined, fast);
      const inReader = await drain({ PATH: `${bin}:${process.env.PATH}` }, raw);
      assert.deepEqual(onTarget.lines, inReader.lines);
      assert.deepEqual(onTarget.evs, inReader.evs);
      assert.deepEqual(onTarget.cursors, inReader.cursors);
      assert.ok(onTarget.lines.length + onTarget.evs.length > 0);
      fast = onTarget.cursors;
      raw = inReader.cursors;
    }
  });

  test('without base64 a run reads 7/16 of the total (od output is larger), and at least one file\'s share', async () => {
    const bin = posixOnly();
    const dir = readableDir();
    for (let i = 0; i < 10; i++) write(path.join(dir, `f${i}.jsonl`), `${String(i).repeat(99)}\n`);
    const read = async (env: NodeJS.ProcessEnv | undefined, limits: Partial<TailLimits>) => {
      const t = buildTailScript({ trees: [{ root: dir, name: '*.jsonl' }], limits: { maxLineBytes: 100, ...limits } });
      const r = await execArgv(['sh', '-s'], { ...RUN_LIMITS, input: t.script, env });
      assert.equal(r.code, 0, r.stderr);
      return t.parse(r.stdout).files.filter((f) => f.lines.length).length;
    };
    assert.equal(await read(undefined, { maxBytesPerFile: 101, maxBytesTotal: 1600 }), 10);
    assert.equal(await read({ PATH: bin }, { maxBytesPerFile: 101, maxBytesTotal: 1600 }), 7, '1600 / 16 * 7 = 700 bytes');
    assert.equal(await read({ PATH: bin }, { maxBytesPerFile: 300, maxBytesTotal: 400 }), 3, 'at least maxBytesPerFile (300)');
  });
});

test('limits: a chunk must exceed a line, the total must hold a chunk; tailLimitsWithin fits an output cap', () => {
  assert.throws(() => buildTailScript({ limits: { maxLineBytes: 100, maxBytesPerFile: 100 } }), /must exceed maxLineBytes/);
  assert.throws(() => buildTailScript({ limits: { maxBytesPerFile: 300, maxBytesTotal: 200, maxLineBytes: 10 } }), /at least maxBytesPerFile/);
  assert.throws(() => buildTailScript({ limits: { maxFilesPerRun: 0 } }), /positive integer/);
  const l = tailLimitsWithin(16 << 20);
  assert.equal(l.maxBytesTotal, DEFAULT_TAIL_LIMITS.maxBytesTotal);
  // Whatever the cap, the output fits it: base64 of the total, or od's hex of what that fallback reads.
  for (const cap of [1 << 20, 8 << 20, 16 << 20, 64 << 20]) {
    const c = tailLimitsWithin(cap);
    assert.ok(c.maxBytesPerFile <= c.maxBytesTotal && c.maxBytesPerFile > c.maxLineBytes, `cap ${cap}`);
    assert.ok(c.maxBytesTotal * 1.4 <= cap, `base64 within cap ${cap}`);
    assert.ok(Math.max(c.maxBytesPerFile, Math.floor(c.maxBytesTotal / 16) * 7) * 3.2 <= cap, `od within cap ${cap}`);
  }
  // Under a small cap, the line limit shrinks with it (max_output_bytes is a user setting).
  const tiny = tailLimitsWithin(1 << 20);
  assert.deepEqual([tiny.maxBytesTotal, tiny.maxBytesPerFile, tiny.maxLineBytes], [748982, 327680, 163840]);
  assert.throws(() => tailLimitsWithin(4), /positive integer/);
});

test('saved cursors: malformed entries are dropped with a warning, good ones kept', () => {
  const good = { path: '/a', inode: 1, size: 10, offset: 4, tail: '0a' };
  const { cursors, warnings } = tailCursorsFrom({ '/a': good, '/b': { path: '/b', inode: -1 }, '/c': { ...good, path: '/x' } });
  assert.deepEqual(cursors, { '/a': good });
  assert.equal(warnings.length, 2);
  assert.equal(tailCursorsFrom('nonsense').warnings.length, 1);
  assert.deepEqual(tailCursorsFrom(null), { cursors: {}, warnings: [] });
});

test('output that is not the script\'s is a clear error; output cut short moves no cursor', () => {
  const t = buildTailScript({ files: ['/tmp/x'] });
  assert.throws(() => t.parse('some banner\n'), /none of the script's sections/);
  // A run killed mid-file: the section never ended, so the record is not trusted.
  const mark = /@@vc-[0-9a-f]+@@/.exec(t.script)![0];
  const endMark = /VC_END='([^']+)'/.exec(t.script)![1]!;
  const stream = Buffer.from(`file 0\nid 5 100\ndata cur 0 0 100\nline one\nline tw`);
  const cut = `\n${mark} begin tail\nb64\n${stream.toString('base64')}\n`;
  const res = t.parse(cut);
  assert.deepEqual(res.files, []);
  assert.deepEqual(res.cursors, {});
  assert.ok(res.warnings.some((w) => /incomplete/.test(w)));
  // Cut between two record lines: the id is there, its data is not; still not trusted.
  const early = Buffer.from('file 0\nid 5 100\n');
  assert.deepEqual(t.parse(`\n${mark} begin tail\nb64\n${early.toString('base64')}\n`).cursors, {});
  // A finished section whose data block lacks its end marker (damaged output): not trusted either.
  const unended = Buffer.from('file 0\nid 5 9\ndata cur 0 0 9\nline one\n');
  const damaged = t.parse(`\n${mark} begin tail\nb64\n${unended.toString('base64')}\n\n${mark} end tail 0\n`);
  assert.deepEqual(damaged.cursors, {});
  assert.deepEqual(damaged.files, []);
  // The same record, finished, is read.
  const whole = Buffer.from(`file 0\nid 5 9\ndata cur 0 0 9\nline one\n\n${endMark}\n`);
  const ok = t.parse(`\n${mark} begin tail\nb64\n${whole.toString('base64')}\n\n${mark} end tail 0\n`);
  assert.deepEqual(texts(ok), ['line one']);
  assert.equal(ok.cursors['/tmp/x']!.offset, 9);
  // Read to its end (ALL 1), the file had grown since its stat: the extra bytes wait for the next run.
  const grown = Buffer.from(`file 0\nid 5 9\ndata cur 0 0 9 1\nline one\nline two\n\n${endMark}\n`);
  const later = t.parse(`\n${mark} begin tail\nb64\n${grown.toString('base64')}\n\n${mark} end tail 0\n`);
  assert.deepEqual(texts(later), ['line one']);
  assert.equal(later.cursors['/tmp/x']!.offset, 9);
  // A block that was not read to the end must not be longer than asked.
  const long = Buffer.from(`file 0\nid 5 9\ndata cur 0 0 9 0\nline one\nline two\n\n${endMark}\n`);
  const refused = t.parse(`\n${mark} begin tail\nb64\n${long.toString('base64')}\n\n${mark} end tail 0\n`);
  assert.deepEqual(refused.cursors, {});
  assert.ok(refused.warnings.some((w) => /at most 9 were asked for/.test(w)));
});
