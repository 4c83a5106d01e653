// sysmoni (system_resource_protection_script): one sample of the machine as sysmoni measures it:
// CPU % over a full interval, per-core use, load, memory, swap, disk and network rates, GPUs,
// temperatures, battery, its top processes and cgroups (see ../shared/upstream/sysmoni.md).
//
// sysmoni's first sample has no previous reading, so every rate in it is 0 (and so in every
// one-shot `--json`): vc runs `--json-stream`, keeps the first two lines (head -n 2 ends the stream)
// and stores the second. When only one line came, its rates are stored as NULL (unknown), not 0.
// The legacy bash sysmoni the installer falls back to knows no `--json-stream` (it would start its
// TUI): it is recognised by its script text and streamed through its environment variable; its
// other JSON shape (Appendix A) is mapped onto the same fields, its payload kept as `raw`.
//
// Stored (kind snapshot), one item per run. `Top` is cut to the 10 first by CPU (a lifetime
// average, not a rate: never used for "hot now") plus the 5 largest by memory; commands have
// secret-looking arguments redacted.
import { z } from 'zod';
import type { CollectorDef, Item } from '../collector.ts';
import { excerpt, isoTime, runTool, validate, type StepResult } from './toolrun.ts';

const num = z.number().finite();
const count = z.number().int().nonnegative();

const processSchema = z.strictObject({
  pid: z.number().int(),
  nice: z.number().int().nullable(),
  /** sysmoni's CPU: the process's lifetime average %, can pass 100 on several cores. */
  cpu_pct: num.nullable(),
  /** RSS as % of total memory. */
  mem_pct: num.nullable(),
  command: z.string().nullable(),
  fd_count: count.nullable(),
  /** Per-interval rates (NULL in a first sample). */
  read_kibs: num.nullable(),
  write_kibs: num.nullable(),
  fd_diff: z.number().int().nullable(),
});

export const sysmoniSchema = z.strictObject({
  /** go: the Go binary; legacy: the installer's bash fallback (fewer fields). */
  impl: z.enum(['go', 'legacy']),
  /** The sample's time (sysmoni's tick), UTC. */
  sampled_at: z.iso.datetime().nullable(),
  interval_ms: num.nullable(),
  /** Only sysmoni's first sample came: its rates are unknown and stored as NULL. */
  first_sample: z.boolean(),
  /** Whole-machine CPU busy %, 0-100, over the interval. */
  cpu_pct: num.nullable(),
  per_core_pct: z.array(num).nullable(),
  cpu_count: count.nullable(),
  load1: num.nullable(),
  load5: num.nullable(),
  load15: num.nullable(),
  /** Go: Used = Total - Free - Buffers - Cached (gopsutil), not Total - MemAvailable. */
  mem_used_bytes: count.nullable(),
  mem_total_bytes: count.nullable(),
  /** legacy only: the whole machine's memory use %. */
  mem_used_pct: num.nullable(),
  swap_used_bytes: count.nullable(),
  swap_total_bytes: count.nullable(),
  cached_bytes: count.nullable(),
  buffers_bytes: count.nullable(),
  /** MiB/s over every block device (disks, partitions and dm devices: counts some bytes twice). */
  disk_read_mibs: num.nullable(),
  disk_write_mibs: num.nullable(),
  /** Megabits/s over every interface, loopback included. */
  net_rx_mbps: num.nullable(),
  net_tx_mbps: num.nullable(),
  devices: z.array(z.strictObject({ name: z.string(), read_mibs: num.nullable(), write_mibs: num.nullable() })).nullable(),
  gpus: z.array(z.strictObject({
    name: z.string().nullable(), util_pct: num.nullable(), mem_used_mib: num.nullable(), mem_total_mib: num.nullable(), temp_c: num.nullable(),
  })).nullable(),
  /** NULL when the machine has no battery. */
  battery_percent: num.nullable(),
  battery_state: z.string().nullable(),
  temps: z.array(z.strictObject({ zone: z.string(), temp_c: num })).nullable(),
  top: z.array(processSchema).nullable(),
  /** Processes running niced (nice > 0), as many as sysmoni listed (it lists up to 32). */
  throttled_count: count.nullable(),
  cgroups: z.array(z.strictObject({ name: z.string(), cpu_pct: num.nullable() })).nullable(),
  inotify_max_user_watches: count.nullable(),
  inotify_max_user_instances: count.nullable(),
  /** Watches in use (nr_watches): NULL where the kernel has no such file (sysmoni then says 0). */
  inotify_watches: count.nullable(),
});

export type SysmoniItem = z.infer<typeof sysmoniSchema>;
type Proc = z.infer<typeof processSchema>;

// sysmoni's output, as the doc describes it: the fields vc reads, others allowed.
const n = z.number();
const goProcess = z.looseObject({
  PID: z.number().int(), Nice: n.optional(), CPU: n.optional(), Memory: n.optional(), Command: z.string().optional(),
  FDCount: n.optional(), ReadKBs: n.optional(), WriteKBs: n.optional(), FDDiff: n.optional(),
});
const goSample = z.looseObject({
  Timestamp: z.string(),
  Interval: n.optional(),
  CPU: z.looseObject({ Total: n, PerCore: z.array(n).nullable().optional(), Load1: n, Load5: n, Load15: n }),
  Memory: z.looseObject({
    UsedBytes: n, TotalBytes: n, SwapUsed: n.optional(), SwapTotal: n.optional(), Cached: n.optional(), Buffers: n.optional(),
  }),
  IO: z.looseObject({
    DiskReadMBs: n.optional(), DiskWriteMBs: n.optional(), NetRxMbps: n.optional(), NetTxMbps: n.optional(),
    PerDevice: z.array(z.looseObject({ Name: z.string(), ReadMBs: n.optional(), WriteMBs: n.optional() })).nullable().optional(),
  }).optional(),
  GPUs: z.array(z.looseObject({
    Name: z.string().optional(), Util: n.optional(), MemUsedMB: n.optional(), MemTotalMB: n.optional(), TempC: n.optional(),
  })).nullable().optional(),
  Battery: z.looseObject({ Percent: n.optional(), State: z.string().optional() }).nullable().optional(),
  Top: z.array(goProcess).nullable().optional(),
  Throttled: z.array(goProcess).nullable().optional(),
  Cgroups: z.array(z.looseObject({ Name: z.string(), CPU: n.optional() })).nullable().optional(),
  Inotify: z.looseObject({ MaxUserWatches: n.optional(), MaxUserInstances: n.optional(), NrWatches: n.optional() }).optional(),
  Temps: z.array(z.looseObject({ Zone: z.string(), Temp: n })).nullable().optional(),
});
const legacySample = z.looseObject({
  timestamp: n,
  cpu: n,
  mem: n.optional(),
  top: z.array(z.looseObject({ cmd: z.string().optional(), pid: z.number().int(), nice: n.optional(), cpu: n.optional(), mem: n.optional() })).nullable().optional(),
  per_core: z.array(z.looseObject({ core: z.union([z.string(), n]), cpu: n })).nullable().optional(),
  io: z.looseObject({
    disk_read_mb_s: n.optional(), disk_write_mb_s: n.optional(), net_rx_mbps: n.optional(), net_tx_mbps: n.optional(),
    per_device: z.array(z.looseObject({ dev: z.string(), read_mb_s: n.optional(), write_mb_s: n.optional() })).nullable().optional(),
  }).nullable().optional(),
  inotify: z.looseObject({ max_user_watches: n.optional(), max_user_instances: n.optional(), nr_watches: n.optional() }).nullable().optional(),
  cgroups: z.array(z.looseObject({ cgroup: z.string(), cpu: n.optional() })).nullable().optional(),
  gpu: z.array(z.looseObject({ gpu: z.string().optional(), util: n.optional(), mem_used: n.optional(), mem_total: n.optional(), temp_c: n.optional() })).nullable().optional(),
  battery: z.looseObject({ percent: n.optional(), state: z.string().optional() }).nullable().optional(),
});

const TOP_BY_CPU = 10;
const TOP_BY_MEM = 5;

/** Values vc stores as counts: non-negative safe integers, else unknown. */
const bytes = (v: number | undefined): number | null => (v !== undefined && Number.isSafeInteger(Math.round(v)) && v >= 0 ? Math.round(v) : null);
const opt = (v: number | undefined): number | null => (v === undefined || !Number.isFinite(v) ? null : v);

/**
 * A command line with what looks like a secret blanked: values of --token=/--api-key style
 * options, NAME_TOKEN=... assignments, passwords in URLs and key/token query parameters.
 */
export function redactCommand(cmd: string): string {
  return cmd
    .replace(/(--?[A-Za-z0-9_-]*(?:key|token|secret|passw(?:or)?d|auth)[A-Za-z0-9_-]*[= ])\S+/gi, '$1<redacted>')
    .replace(/\b([A-Z0-9_]*(?:KEY|TOKEN|SECRET|PASSWORD)[A-Z0-9_]*=)\S+/g, '$1<redacted>')
    .replace(/(:\/\/[^/\s:@]+:)[^@\s/]+@/g, '$1<redacted>@')
    .replace(/([?&][A-Za-z0-9_-]*(?:key|token|secret|sig|password)[A-Za-z0-9_-]*=)[^&\s]+/gi, '$1<redacted>');
}

/** The processes worth keeping: the first by CPU (sysmoni's order), then the largest by memory. */
function keepTop(procs: Proc[]): Proc[] {
  const kept = procs.slice(0, TOP_BY_CPU);
  const pids = new Set(kept.map((p) => p.pid));
  const byMem = procs.filter((p) => !pids.has(p.pid)).sort((a, b) => (b.mem_pct ?? 0) - (a.mem_pct ?? 0));
  return [...kept, ...byMem.slice(0, TOP_BY_MEM)];
}

function fromGo(s: z.infer<typeof goSample>, first: boolean): SysmoniItem {
  // In a first sample the rates are sysmoni's placeholders (0, null, FDDiff = FDCount): unknown.
  const rate = (v: number | undefined) => (first ? null : opt(v));
  const proc = (p: z.infer<typeof goProcess>): Proc => ({
    pid: p.PID, nice: p.Nice !== undefined && Number.isInteger(p.Nice) ? p.Nice : null, cpu_pct: opt(p.CPU), mem_pct: opt(p.Memory),
    command: p.Command === undefined ? null : redactCommand(p.Command), fd_count: bytes(p.FDCount),
    read_kibs: rate(p.ReadKBs), write_kibs: rate(p.WriteKBs),
    fd_diff: first || p.FDDiff === undefined || !Number.isInteger(p.FDDiff) ? null : p.FDDiff,
  });
  const m = s.Memory;
  const b = s.Battery;
  // "No battery" is all zero values with an empty state.
  const hasBattery = !!b && (b.State ?? '') !== '';
  return {
    impl: 'go', sampled_at: isoTime(s.Timestamp), interval_ms: s.Interval === undefined ? null : s.Interval / 1e6, first_sample: first,
    cpu_pct: rate(s.CPU.Total), per_core_pct: first ? null : s.CPU.PerCore ?? null, cpu_count: s.CPU.PerCore?.length || null,
    load1: s.CPU.Load1, load5: s.CPU.Load5, load15: s.CPU.Load15,
    mem_used_bytes: bytes(m.UsedBytes), mem_total_bytes: bytes(m.TotalBytes) || null, mem_used_pct: null,
    swap_used_bytes: bytes(m.SwapUsed), swap_total_bytes: bytes(m.SwapTotal), cached_bytes: bytes(m.Cached), buffers_bytes: bytes(m.Buffers),
    disk_read_mibs: rate(s.IO?.DiskReadMBs), disk_write_mibs: rate(s.IO?.DiskWriteMBs),
    net_rx_mbps: rate(s.IO?.NetRxMbps), net_tx_mbps: rate(s.IO?.NetTxMbps),
    devices: first || !s.IO?.PerDevice ? null : s.IO.PerDevice.map((d) => ({ name: d.Name, read_mibs: opt(d.ReadMBs), write_mibs: opt(d.WriteMBs) })),
    gpus: s.GPUs ? s.GPUs.map((g) => ({ name: g.Name ?? null, util_pct: opt(g.Util), mem_used_mib: opt(g.MemUsedMB), mem_total_mib: opt(g.MemTotalMB), temp_c: opt(g.TempC) })) : null,
    battery_percent: hasBattery ? opt(b!.Percent) : null, battery_state: hasBattery ? b!.State! : null,
    temps: s.Temps ? s.Temps.map((t) => ({ zone: t.Zone, temp_c: t.Temp })) : null,
    top: s.Top ? keepTop(s.Top.map(proc)) : null,
    throttled_count: s.Throttled === undefined ? null : (s.Throttled ?? []).length,
    cgroups: s.Cgroups ? s.Cgroups.slice(0, 10).map((c) => ({ name: c.Name, cpu_pct: opt(c.CPU) })) : null,
    inotify_max_user_watches: bytes(s.Inotify?.MaxUserWatches), inotify_max_user_instances: bytes(s.Inotify?.MaxUserInstances),
    // Standard kernels have no nr_watches file: sysmoni's 0 there means "could not tell".
    inotify_watches: s.Inotify?.NrWatches ? bytes(s.Inotify.NrWatches) : null,
  };
}

function fromLegacy(s: z.infer<typeof legacySample>, first: boolean): SysmoniItem {
  const rate = (v: number | undefined) => (first ? null : opt(v));
  const cores = s.per_core ? [...s.per_core].sort((a, b) => Number(a.core) - Number(b.core)) : null;
  const procs: Proc[] | null = s.top ? s.top.map((p) => ({
    pid: p.pid, nice: p.nice !== undefined && Number.isInteger(p.nice) ? p.nice : null, cpu_pct: opt(p.cpu), mem_pct: opt(p.mem),
    command: p.cmd === undefined ? null : redactCommand(p.cmd), fd_count: null, read_kibs: null, write_kibs: null, fd_diff: null,
  })) : null;
  return {
    impl: 'legacy', sampled_at: Number.isFinite(s.timestamp) && s.timestamp > 0 ? new Date(s.timestamp * 1000).toISOString() : null,
    interval_ms: null, first_sample: first,
    cpu_pct: rate(s.cpu), per_core_pct: first || !cores ? null : cores.map((c) => c.cpu), cpu_count: cores?.length || null,
    load1: null, load5: null, load15: null,
    mem_used_bytes: null, mem_total_bytes: null, mem_used_pct: opt(s.mem),
    swap_used_bytes: null, swap_total_bytes: null, cached_bytes: null, buffers_bytes: null,
    disk_read_mibs: rate(s.io?.disk_read_mb_s), disk_write_mibs: rate(s.io?.disk_write_mb_s),
    net_rx_mbps: rate(s.io?.net_rx_mbps), net_tx_mbps: rate(s.io?.net_tx_mbps),
    devices: first || !s.io?.per_device ? null : s.io.per_device.map((d) => ({ name: d.dev, read_mibs: opt(d.read_mb_s), write_mibs: opt(d.write_mb_s) })),
    gpus: s.gpu ? s.gpu.map((g) => ({ name: g.gpu ?? null, util_pct: opt(g.util), mem_used_mib: opt(g.mem_used), mem_total_mib: opt(g.mem_total), temp_c: opt(g.temp_c) })) : null,
    battery_percent: s.battery ? opt(s.battery.percent) : null, battery_state: s.battery?.state ?? null,
    // Appendix A does not say what a legacy temps item holds: kept in raw only.
    temps: null,
    top: procs ? keepTop(procs) : null, throttled_count: null,
    cgroups: s.cgroups ? s.cgroups.slice(0, 10).map((c) => ({ name: c.cgroup, cpu_pct: opt(c.cpu) })) : null,
    inotify_max_user_watches: bytes(s.inotify?.max_user_watches), inotify_max_user_instances: bytes(s.inotify?.max_user_instances),
    inotify_watches: s.inotify?.nr_watches ? bytes(s.inotify.nr_watches) : null,
  };
}

/** One sample as an item; `first`: it is sysmoni's first (its rates are placeholders). */
export function sysmoniSample(value: unknown, first: boolean, what: string): Item {
  const o = value as Record<string, unknown>;
  // Go's keys are PascalCase (no json tags); the legacy script's are lower case.
  if (o && typeof o.CPU === 'object' && typeof o.Timestamp === 'string') return { data: fromGo(validate(goSample, value, what), first) };
  if (o && typeof o.cpu === 'number' && typeof o.timestamp === 'number') return { data: fromLegacy(validate(legacySample, value, what), first), raw: value };
  throw new Error(`${what} printed JSON that is neither sysmoni's sample (CPU, Timestamp) nor the legacy one (cpu, timestamp): ${excerpt(JSON.stringify(value))}`);
}

/** The item from the stream step's output (the first two lines of `sysmoni --json-stream`), with warnings. */
export function sysmoniItems(step: StepResult, what = 'sysmoni --json-stream'): { items: Item[]; warnings: string[] } {
  if (step.rc === 124) throw new Error(`${what} did not answer in time and was stopped`);
  const err = step.stderr.trim();
  // A panic (a bad interval, no procfs) exits 2 with nothing on stdout.
  if (/^panic:/m.test(err)) throw new Error(`${what} panicked: ${excerpt(err.slice(err.search(/^panic:/m)).split('\n')[0]!)}`);
  const lines = step.stdout.split('\n').map((l) => l.trim()).filter(Boolean);
  if (lines.length === 0) {
    throw new Error(`${what} printed nothing${step.rc ? ` (exit ${step.rc})` : ''}${err ? `; stderr: ${excerpt(err.split('\n').slice(-2).join(' '))}` : ''}`);
  }
  const warnings: string[] = [];
  const samples: Array<{ value: unknown; index: number }> = [];
  lines.forEach((l, index) => {
    try {
      samples.push({ value: JSON.parse(l), index });
    } catch {
      // The legacy script escapes only \ and ": a control character in a command breaks its line.
      if (index > 0) warnings.push(`${what}: line ${index + 1} is not JSON and was skipped: ${excerpt(l, 60)}`);
    }
  });
  if (samples.length === 0) throw new Error(`${what} did not print JSON: ${excerpt(lines[0]!)}`);
  const last = samples.at(-1)!;
  const first = last.index === 0;
  if (first) warnings.push(`${what} gave only its first sample: CPU %, disk and network rates are unknown this time`);
  return { items: [sysmoniSample(last.value, first, what)], warnings };
}

/** The stream step: the Go binary streams with --json-stream, the legacy script through its env. */
export function sysmoniStep(sampleSeconds: number): string {
  return [
    // SRPS_SYSMONI_INTERVAL would override --interval (0 panics); the JSON file would divert the output.
    'unset SRPS_SYSMONI_INTERVAL SRPS_SYSMONI_JSON_FILE SRPS_SYSMONI_JSON',
    'if [ "$(head -c 2 "$VC_TOOL" 2>/dev/null)" = "#!" ] && grep -q SRPS_SYSMONI_JSON_STREAM "$VC_TOOL" 2>/dev/null; then',
    '  SRPS_SYSMONI_JSON_STREAM=1 "$VC_TOOL"',
    `else "$VC_TOOL" --json-stream --interval=${sampleSeconds}s; fi | head -n 2`,
  ].join('\n');
}

export const sysmoniCollector: CollectorDef = {
  name: 'sysmoni',
  version: '1.0.0',
  schemaVersion: 1,
  schema: sysmoniSchema,
  async collect(ctx) {
    const cfg = ctx.config.collectors.sysmoni;
    const run = await runTool(ctx, ['sysmoni'], [{
      name: 'stream',
      run: sysmoniStep(cfg.sample_seconds),
      // Two samples take two intervals; the stream ends at its third write.
      timeoutSeconds: cfg.step_timeout_seconds,
    }]);
    if ('absent' in run) return { items: [], absent: run.absent };
    const { items, warnings } = sysmoniItems(run.steps.stream!);
    warnings.forEach(ctx.warn);
    return { items };
  },
};
