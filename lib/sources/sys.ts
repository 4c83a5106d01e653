// sys: load, CPU, memory, swap, filesystems, uptime, top processes, OOM kills and inotify use,
// read from /proc and POSIX tools in one script, so it works the same on any Linux target.
import { z } from 'zod';
import type { CollectorDef } from '../collector.ts';
import { sectionScript, sectionText, type Section } from '../sections.ts';
import { parseProcStat, type ProcStat } from './procfs.ts';

const int = z.number().int();
const nonNeg = z.number().nonnegative();

const filesystemSchema = z.object({
  mount: z.string(),
  device: z.string(),
  fstype: z.string().nullable(),
  size_bytes: int.nonnegative(),
  used_bytes: int.nonnegative(),
  avail_bytes: int.nonnegative(),
  inodes: int.nonnegative().nullable(),
  inodes_used: int.nonnegative().nullable(),
});

const processSchema = z.object({
  pid: int.positive(),
  ppid: int.nonnegative(),
  user: z.string().nullable(),
  comm: z.string(),
  args: z.string(),
  state: z.string(),
  cpu_pct: nonNeg,
  rss_bytes: int.nonnegative(),
  started_at: z.string().nullable(),
});

export const sysSchema = z.object({
  load1: nonNeg,
  load5: nonNeg,
  load15: nonNeg,
  cpu_count: int.positive(),
  cpu_util: z.number().min(0).max(1).nullable(),
  uptime_s: nonNeg,
  boot_time: z.string().nullable(),
  mem_total_bytes: int.nonnegative(),
  mem_available_bytes: int.nonnegative(),
  swap_total_bytes: int.nonnegative(),
  swap_free_bytes: int.nonnegative(),
  oom_kills: int.nonnegative().nullable(),
  inotify_max_user_watches: int.nonnegative().nullable(),
  inotify_max_user_instances: int.nonnegative().nullable(),
  /** Watches and instances held by the busiest user (the limits are per user); null when unreadable. */
  inotify_watches_used: int.nonnegative().nullable(),
  inotify_instances_used: int.nonnegative().nullable(),
  process_count: int.nonnegative(),
  filesystems: z.array(filesystemSchema),
  top_cpu: z.array(processSchema),
  top_mem: z.array(processSchema),
});

export type SysData = z.infer<typeof sysSchema>;
type Filesystem = z.infer<typeof filesystemSchema>;

const TOP_N = 10;
const ARGS_MAX = 300;

/** Filesystem types that hold no user data: never worth a disk alert. */
const PSEUDO_FS = new Set([
  'proc', 'sysfs', 'devtmpfs', 'devpts', 'tmpfs', 'ramfs', 'cgroup', 'cgroup2', 'mqueue', 'debugfs',
  'tracefs', 'securityfs', 'pstore', 'bpf', 'autofs', 'hugetlbfs', 'fusectl', 'configfs', 'squashfs',
  'nsfs', 'binfmt_misc', 'efivarfs', 'rpc_pipefs', 'selinuxfs', 'fuse.lxcfs', 'fuse.portal',
  'fuse.gvfsd-fuse', 'fuse.snapfuse', 'iso9660', 'nfsd', 'overlay.sys',
]);

export function buildSysScript() {
  // `timeout` keeps a stale network mount from hanging df; it is optional on the target.
  const prelude = 'if command -v timeout >/dev/null 2>&1; then T="timeout 10"; else T=""; fi';
  return sectionScript([
    ['loadavg', 'cat /proc/loadavg'],
    ['uptime', 'cat /proc/uptime'],
    ['meminfo', 'cat /proc/meminfo'],
    ['vmstat', "grep '^oom_kill ' /proc/vmstat"],
    ['inotify_limits', 'cat /proc/sys/fs/inotify/max_user_watches /proc/sys/fs/inotify/max_user_instances'],
    // Linux's usual values stand in where getconf is missing (a minimal image).
    ['clk', 'getconf CLK_TCK 2>/dev/null || echo 100; getconf PAGESIZE 2>/dev/null || echo 4096'],
    ['stat1', 'cat /proc/stat'],
    ['procs1', 'cat /proc/[0-9]*/stat 2>/dev/null'],
    ['pause', 'sleep 0.5 2>/dev/null || sleep 1'],
    ['stat2', 'cat /proc/stat'],
    ['procs2', 'cat /proc/[0-9]*/stat 2>/dev/null'],
    ['ps', 'ps -eo pid=,uid=,user=,args= -ww 2>/dev/null || ps -eo pid=,uid=,user=,args='],
    ['mounts', 'cat /proc/self/mounts'],
    ['df', '$T df -P -k'],
    ['dfi', '$T df -P -i'],
    // Each inotify fd's fdinfo lists one "inotify wd:..." line per watch.
    ['inotify_use', "find /proc/[0-9]*/fd -lname 'anon_inode:inotify' 2>/dev/null | sed 's|/fd/|/fdinfo/|' | xargs -r grep -c -H '^inotify' 2>/dev/null"],
  ], prelude);
}

const num = (s: string | undefined, what: string): number => {
  const n = Number(s);
  if (s === undefined || s.trim() === '' || !Number.isFinite(n)) throw new Error(`${what}: expected a number, got ${JSON.stringify(s?.slice(0, 40))}`);
  return n;
};

function parseLoadavg(text: string) {
  const f = text.trim().split(/\s+/);
  return { load1: num(f[0], '/proc/loadavg'), load5: num(f[1], '/proc/loadavg'), load15: num(f[2], '/proc/loadavg') };
}

function parseMeminfo(text: string) {
  const kb = new Map<string, number>();
  for (const line of text.split('\n')) {
    const m = /^(\w+):\s+(\d+)(?: kB)?$/.exec(line.trim());
    if (m) kb.set(m[1]!, Number(m[2]) * 1024);
  }
  const need = (k: string) => {
    const v = kb.get(k);
    if (v === undefined) throw new Error(`/proc/meminfo has no ${k}`);
    return v;
  };
  // MemAvailable exists since Linux 3.14; before that, free + buffers + cache is the usual estimate.
  const available = kb.get('MemAvailable') ?? need('MemFree') + (kb.get('Buffers') ?? 0) + (kb.get('Cached') ?? 0);
  return {
    mem_total_bytes: need('MemTotal'), mem_available_bytes: available,
    swap_total_bytes: kb.get('SwapTotal') ?? 0, swap_free_bytes: kb.get('SwapFree') ?? 0,
  };
}

interface CpuTimes { total: number; idle: number; cpus: number; btime: number | null }

function parseProcStatTotals(text: string): CpuTimes {
  let total = 0, idle = 0, cpus = 0, btime: number | null = null, seen = false;
  for (const line of text.split('\n')) {
    const f = line.trim().split(/\s+/);
    if (f[0] === 'cpu') {
      const v = f.slice(1, 9).map((x) => num(x, '/proc/stat cpu line'));
      total = v.reduce((a, b) => a + b, 0);
      idle = (v[3] ?? 0) + (v[4] ?? 0); // idle + iowait
      seen = true;
    } else if (f[0] && /^cpu\d+$/.test(f[0])) cpus++;
    else if (f[0] === 'btime') btime = num(f[1], '/proc/stat btime');
  }
  if (!seen || cpus === 0) throw new Error('/proc/stat has no cpu lines');
  return { total, idle, cpus, btime };
}

/** Parses `df -P` (blocks or inodes): the mount point is everything after the fifth column. */
function parseDf(text: string): Map<string, { device: string; total: number; used: number; avail: number }> {
  const rows = new Map<string, { device: string; total: number; used: number; avail: number }>();
  for (const line of text.split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length < 6) continue;
    const [device, total, used, avail] = f;
    if (![total, used, avail].every((x) => /^\d+$/.test(x ?? ''))) continue;
    rows.set(f.slice(5).join(' '), { device: device!, total: Number(total), used: Number(used), avail: Number(avail) });
  }
  return rows;
}

/** /proc/mounts escapes space, tab, newline and backslash as octal. */
const unescapeMount = (s: string) => s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));

function parseFilesystems(mounts: string, df: string, dfi: string): Filesystem[] {
  const fstype = new Map<string, string>();
  for (const line of mounts.split('\n')) {
    const f = line.split(' ');
    if (f.length >= 3) fstype.set(unescapeMount(f[1]!), f[2]!); // later entries stack on top
  }
  const blocks = parseDf(df);
  if (blocks.size === 0) throw new Error('df -P printed no filesystems');
  const inodes = parseDf(dfi);
  const out: Filesystem[] = [];
  for (const [mount, b] of blocks) {
    const type = fstype.get(mount) ?? null;
    if (b.total === 0 || (type && PSEUDO_FS.has(type))) continue;
    const i = inodes.get(mount);
    out.push({
      mount, device: b.device, fstype: type,
      size_bytes: b.total * 1024, used_bytes: b.used * 1024, avail_bytes: b.avail * 1024,
      inodes: i && i.total > 0 ? i.total : null, inodes_used: i && i.total > 0 ? i.used : null,
    });
  }
  // Bind mounts show one device several times: keep its shortest mount point.
  const byDevice = new Map<string, Filesystem>();
  for (const fs of out) {
    const k = `${fs.device}\0${fs.size_bytes}\0${fs.used_bytes}`;
    const prev = byDevice.get(k);
    if (!prev || fs.mount.length < prev.mount.length) byDevice.set(k, fs);
  }
  return [...byDevice.values()].sort((a, b) => a.mount.localeCompare(b.mount));
}

interface PsRow { uid: number; user: string; args: string }

function parsePs(text: string): Map<number, PsRow> {
  const rows = new Map<number, PsRow>();
  for (const line of text.split('\n')) {
    const m = /^\s*(\d+)\s+(\d+)\s+(\S+)\s*(.*)$/.exec(line);
    if (m) rows.set(Number(m[1]), { uid: Number(m[2]), user: m[3]!, args: m[4]!.trim().slice(0, ARGS_MAX) });
  }
  return rows;
}

/** Sums inotify watches and instances per uid and returns the busiest user's figures. */
function parseInotifyUse(section: Section | undefined, ps: Map<number, PsRow>) {
  if (!section || section.text.trim() === '') return { watches: section ? 0 : null, instances: section ? 0 : null };
  const perUid = new Map<number, { watches: number; instances: number }>();
  for (const line of section.text.split('\n')) {
    const m = /^\/proc\/(\d+)\/fdinfo\/\d+:(\d+)$/.exec(line.trim());
    if (!m) continue;
    const uid = ps.get(Number(m[1]))?.uid ?? -1;
    const u = perUid.get(uid) ?? { watches: 0, instances: 0 };
    u.watches += Number(m[2]);
    u.instances += 1;
    perUid.set(uid, u);
  }
  let watches = 0, instances = 0;
  for (const u of perUid.values()) {
    watches = Math.max(watches, u.watches);
    instances = Math.max(instances, u.instances);
  }
  return { watches, instances };
}

function firstInt(section: Section | undefined, index = 0): number | null {
  const v = section?.text.trim().split(/\s+/)[index];
  return v !== undefined && /^\d+$/.test(v) ? Number(v) : null;
}

export function parseSysOutput(sections: Map<string, Section>): SysData {
  const load = parseLoadavg(sectionText(sections, 'loadavg'));
  const uptime = num(sectionText(sections, 'uptime').trim().split(/\s+/)[0], '/proc/uptime');
  const mem = parseMeminfo(sectionText(sections, 'meminfo'));
  const clk = sectionText(sections, 'clk').trim().split(/\s+/);
  const hz = num(clk[0], 'getconf CLK_TCK');
  const pageSize = num(clk[1], 'getconf PAGESIZE');
  const t1 = parseProcStatTotals(sectionText(sections, 'stat1'));
  const t2 = parseProcStatTotals(sectionText(sections, 'stat2'));
  const dTotal = t2.total - t1.total;
  const cpuUtil = dTotal > 0 ? Math.min(1, Math.max(0, 1 - (t2.idle - t1.idle) / dTotal)) : null;
  // Elapsed wall time from the jiffies themselves: the sum over all CPUs advances cpus*HZ per second.
  const elapsedTicks = dTotal > 0 ? dTotal / t2.cpus : null;

  const ps = parsePs(sectionText(sections, 'ps'));
  const before = new Map(parseProcStat(sectionText(sections, 'procs1')).map((p) => [p.pid, p]));
  const after = parseProcStat(sectionText(sections, 'procs2'));
  const bootTime = t2.btime;
  const procs = after.map((p: ProcStat) => {
    const prev = before.get(p.pid);
    const used = prev && prev.starttime === p.starttime ? p.utime + p.stime - prev.utime - prev.stime : null;
    const row = ps.get(p.pid);
    return {
      pid: p.pid, ppid: p.ppid, user: row?.user ?? null, comm: p.comm, args: row?.args || `[${p.comm}]`, state: p.state,
      cpu_pct: used !== null && elapsedTicks ? Math.round((Math.max(0, used) / elapsedTicks) * 1000) / 10 : 0,
      rss_bytes: p.rssPages * pageSize,
      started_at: bootTime !== null ? new Date((bootTime + p.starttime / hz) * 1000).toISOString() : null,
    };
  });
  const topCpu = [...procs].filter((p) => p.cpu_pct > 0).sort((a, b) => b.cpu_pct - a.cpu_pct).slice(0, TOP_N);
  const topMem = [...procs].sort((a, b) => b.rss_bytes - a.rss_bytes).slice(0, TOP_N);
  const inotify = parseInotifyUse(sections.get('inotify_use'), ps);
  const oom = /oom_kill\s+(\d+)/.exec(sections.get('vmstat')?.text ?? '');

  return {
    ...load,
    cpu_count: t2.cpus,
    cpu_util: cpuUtil === null ? null : Math.round(cpuUtil * 1000) / 1000,
    uptime_s: uptime,
    boot_time: bootTime !== null ? new Date(bootTime * 1000).toISOString() : null,
    ...mem,
    oom_kills: oom ? Number(oom[1]) : null,
    inotify_max_user_watches: firstInt(sections.get('inotify_limits'), 0),
    inotify_max_user_instances: firstInt(sections.get('inotify_limits'), 1),
    inotify_watches_used: inotify.watches,
    inotify_instances_used: inotify.instances,
    process_count: after.length,
    filesystems: parseFilesystems(sectionText(sections, 'mounts'), sectionText(sections, 'df'), sections.get('dfi')?.text ?? ''),
    top_cpu: topCpu,
    top_mem: topMem,
  };
}

export const sysCollector: CollectorDef = {
  name: 'sys',
  version: '1.0.0',
  schemaVersion: 1,
  schema: sysSchema,
  async collect(ctx) {
    const script = buildSysScript();
    const r = await ctx.run('sys probe', script.script);
    return { items: [{ data: parseSysOutput(script.parse(r.stdout)) }] };
  },
};
