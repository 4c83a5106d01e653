import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { parseProcStat } from '../lib/sources/procfs.ts';
import { buildSysScript, parseSysOutput, sysSchema } from '../lib/sources/sys.ts';
import { readRaw, runScript, tmpDir, writeExecutable } from './helpers.ts';

/** Runs collect/sys.ts against a temp data dir; `fake` holds programs put first on PATH. */
function collectSys(opts: { fake?: Record<string, string>; toml?: string } = {}) {
  const dir = tmpDir();
  const data = path.join(dir, 'data');
  const config = path.join(dir, 'vc.toml');
  fs.writeFileSync(config, opts.toml ?? '');
  const bin = path.join(dir, 'bin');
  fs.mkdirSync(bin);
  for (const [name, body] of Object.entries(opts.fake ?? {})) writeExecutable(bin, name, body);
  const r = runScript('collect/sys.ts', [], { VC_DATA_DIR: data, VC_CONFIG: config, PATH: `${bin}:${process.env.PATH}` });
  return { r, samples: readRaw(data, 'sys', 'local'), runs: readRaw(data, 'collector_runs', 'local') };
}

test('a real sample of this machine agrees with df, /proc/meminfo and the CPU count', () => {
  const { r, samples, runs } = collectSys();
  assert.equal(r.code, 0, r.stderr);
  assert.equal(samples.length, 1);
  const s = samples[0]!;
  assert.equal(s.source, 'sys');
  assert.equal(s.kind, 'snapshot');
  const data = sysSchema.parse({ oom_kills: null, inotify_max_user_watches: null, inotify_max_user_instances: null,
    inotify_watches_used: null, inotify_instances_used: null, cpu_util: null, boot_time: null, ...s.data });

  // CPU count: the cpuN lines of /proc/stat.
  const cpus = fs.readFileSync('/proc/stat', 'utf8').split('\n').filter((l) => /^cpu\d+ /.test(l)).length;
  assert.equal(data.cpu_count, cpus);
  // Memory total is fixed; available moves, so only its range is checked.
  const memTotal = Number(/MemTotal:\s+(\d+)/.exec(fs.readFileSync('/proc/meminfo', 'utf8'))![1]) * 1024;
  assert.equal(data.mem_total_bytes, memTotal);
  assert.ok(data.mem_available_bytes > 0 && data.mem_available_bytes <= memTotal);
  // The root filesystem's size as df -P reports it (used moves, size does not).
  const df = execFileSync('df', ['-P', '-k', '/'], { encoding: 'utf8' }).trim().split('\n')[1]!.split(/\s+/);
  const root = data.filesystems.find((f) => f.mount === df[5]);
  assert.ok(root, `df's / (${df[5]}) is among ${data.filesystems.map((f) => f.mount).join(', ')}`);
  assert.equal(root.size_bytes, Number(df[1]) * 1024);
  assert.ok(Math.abs(root.used_bytes - Number(df[2]) * 1024) < 512 * 1024 * 1024, 'used within 512 MiB of df');
  // No pseudo filesystem is reported.
  assert.ok(data.filesystems.every((f) => !['tmpfs', 'devtmpfs', 'proc', 'sysfs'].includes(f.fstype ?? '')));
  // This test's own process is running, so top_mem is never empty and holds real pids.
  assert.ok(data.top_mem.length > 0 && data.top_mem.every((p) => p.pid > 0 && p.rss_bytes >= 0));
  assert.ok(data.uptime_s > 0 && data.load5 >= 0 && data.process_count > 0);

  assert.equal(runs.length, 1);
  assert.equal(runs[0]!.data.status, 'ok');
  assert.equal(runs[0]!.data.rows, 1);
  assert.ok(runs[0]!.data.bytes > 1000);
});

test('df printing garbage is a recorded error naming the problem, and nothing is stored', () => {
  const { r, samples, runs } = collectSys({ fake: { df: '#!/bin/sh\necho "Filesystem garbage"\necho "%%%% not a number at all"\n' } });
  assert.equal(r.code, 1);
  assert.equal(samples.length, 0);
  assert.equal(runs.length, 1);
  assert.equal(runs[0]!.data.status, 'error');
  assert.match(runs[0]!.data.error, /df -P printed no filesystems/);
});

test('a flood of output is cut at the cap, recorded, and nothing is stored', () => {
  const { r, samples, runs } = collectSys({
    toml: '[collect]\nmax_output_bytes = 200000\n',
    fake: { df: '#!/bin/sh\nexec yes "/dev/sda1 1 1 1 1% /mnt/flood"\n' },
  });
  assert.equal(r.code, 1);
  assert.equal(samples.length, 0);
  assert.equal(runs[0]!.data.status, 'error');
  assert.match(runs[0]!.data.error, /more than 200000 bytes \(the output cap\)/);
});

test('a hanging df is killed at the collector timeout and recorded as a timeout', () => {
  const t0 = Date.now();
  const { r, samples, runs } = collectSys({
    toml: '[collectors.sys]\ntimeout_seconds = 2\n',
    fake: { df: '#!/bin/sh\nsleep 60\n' },
  });
  assert.ok(Date.now() - t0 < 15_000, 'finished long before the hang would have');
  assert.equal(r.code, 1);
  assert.equal(samples.length, 0);
  assert.equal(runs[0]!.data.status, 'timeout');
  assert.match(runs[0]!.data.error, /timed out after 2s/);
});

test('hostile process names and command lines are stored as plain JSON strings, byte for byte', () => {
  const hostile = 'evil\u001b[31mRED\u001b[0m\u0007 "quoted" {"v":1} \\ end';
  const { r, samples } = collectSys({
    // ps is the source of command lines; this one claims every pid runs the hostile command.
    fake: { ps: `#!/bin/sh\nfor p in /proc/[0-9]*; do printf '%s 0 root %s\\n' "\${p#/proc/}" '${hostile.replace(/'/g, "'\\''")}'; done\n` },
  });
  assert.equal(r.code, 0, r.stderr);
  const top = samples[0]!.data.top_mem as Array<{ args: string }>;
  assert.ok(top.length > 0);
  assert.ok(top.every((p) => p.args === hostile), JSON.stringify(top[0]));
});

test('the section parser ignores a forged marker: only this run\'s nonce frames sections', () => {
  const script = buildSysScript();
  const real = script.script.match(/@@vc-[0-9a-f]+@@/)![0];
  const forged = '@@vc-0000000000000000@@';
  assert.notEqual(real, forged);
  const out = `\n${real} begin loadavg\n1.00 2.00 3.00 1/100 42\n${forged} begin uptime\n${real} end loadavg 0\n`;
  const sections = script.parse(out);
  assert.equal(sections.get('loadavg')!.text, `1.00 2.00 3.00 1/100 42\n${forged} begin uptime`);
  assert.equal(sections.has('uptime'), false);
});

test('a missing section is an error that names it; output without any is not vc\'s script at all', () => {
  const script = buildSysScript();
  const mark = script.script.match(/@@vc-[0-9a-f]+@@/)![0];
  assert.throws(() => parseSysOutput(script.parse(`\n${mark} begin uptime\n1 1\n${mark} end uptime 0\n`)), /no "loadavg" section/);
  assert.throws(() => parseSysOutput(script.parse('Welcome to the jump host!\n')), /the machine did not run vc's script/);
});

test('/proc/<pid>/stat records with spaces, parentheses and newlines in the command name', () => {
  const text = [
    '1 (systemd) S 0 1 1 0 -1 4194560 1 1 0 0 10 20 0 0 20 0 1 0 5 1000 300 0',
    '42 (my (weird) ) R 1) R 1 42 42 0 -1 0 0 0 0 0 7 3 0 0 20 0 1 0 99 2000 150 0',
    '77 (two\nlines) S 1 77 77 0 -1 0 0 0 0 0 1 1 0 0 20 0 1 0 120 3000 10 0',
    'garbage line',
  ].join('\n');
  const procs = parseProcStat(text);
  assert.deepEqual(procs.map((p) => [p.pid, p.comm, p.state, p.ppid, p.utime, p.stime, p.starttime, p.rssPages]), [
    [1, 'systemd', 'S', 0, 10, 20, 5, 300],
    [42, 'my (weird) ) R 1', 'R', 1, 7, 3, 99, 150],
    [77, 'two\nlines', 'S', 1, 1, 1, 120, 10],
  ]);
});

test('a machine with none of the optional tools still gets its basic probe', () => {
  // A PATH with only the basics (as on a minimal image): no ps, find, xargs, getconf or timeout.
  const dir = tmpDir();
  const bin = path.join(dir, 'bin');
  fs.mkdirSync(bin);
  for (const tool of ['sh', 'bash', 'cat', 'df', 'sleep', 'grep', 'sed', 'flock']) {
    fs.symlinkSync(execFileSync('sh', ['-c', `command -v ${tool}`], { encoding: 'utf8' }).trim(), path.join(bin, tool));
  }
  const config = path.join(dir, 'vc.toml');
  fs.writeFileSync(config, '');
  const data = path.join(dir, 'data');
  const r = runScript('collect/sys.ts', [], { VC_DATA_DIR: data, VC_CONFIG: config, PATH: bin });
  assert.equal(r.code, 0, r.stderr + r.stdout);
  const d = readRaw(data, 'sys', 'local')[0]!.data;
  assert.ok(d.load5 >= 0 && d.mem_total_bytes > 0 && d.cpu_count > 0 && d.uptime_s > 0);
  assert.ok(d.filesystems.length > 0, 'df still works');
  assert.ok(d.top_mem.length > 0, 'processes come from /proc');
  // Without ps there are no command lines: the kernel's command name stands in, in brackets.
  assert.ok(d.top_mem.every((p: { args: string; comm: string }) => p.args === `[${p.comm}]`));
  assert.equal(d.inotify_watches_used, 0, 'no find: nothing found to count');
  assert.equal(readRaw(data, 'collector_runs', 'local')[0]!.data.status, 'ok');
});
