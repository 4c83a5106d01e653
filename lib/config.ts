// vc.toml: where it is found, what it may say, and the defaults when it says nothing.
import fs from 'node:fs';
import { parse as parseToml } from 'smol-toml';
import { z } from 'zod';
import { defaultConfigPath, defaultDataDir, expandHome } from './paths.ts';
import { UsageError } from './errors.ts';
import { COLLECTOR_NAMES, COLLECTORS, type CollectorName } from './catalog.ts';

/** Machine ids end up in paths, shell words and SQL literals, so they are kept plain. */
export const MACHINE_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/;
/** `local`, or `[user@]host[:port]` with a host name, IPv4 or [IPv6] literal. */
const SSH_TARGET = /^(local|([A-Za-z0-9._-]+@)?([A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])(:[0-9]{1,5})?)$/;

const seconds = z.number().int().positive();

const collectorBase = {
  enabled: z.boolean().default(true),
  interval_seconds: seconds.optional(),
  timeout_seconds: seconds.optional(),
};

export const DEFAULT_AGENT_NAMES = [
  'claude', 'codex', 'gemini', 'aider', 'opencode', 'cursor-agent', 'amp', 'goose', 'qwen', 'crush', 'copilot',
];

export const DEFAULT_REPO_EXCLUDES = [
  'node_modules', '.cache', '.npm', '.cargo', '.rustup', '.local', '.nvm', '.pyenv', '.venv', 'venv',
  '__pycache__', 'target', '.gradle', '.m2', 'snap', '.vscode-server', '.cursor-server', '.Trash',
];

/** A path on the machines a collector runs on: absolute, or under the home of vc's login there (~/). */
export const machinePath = z.string().regex(/^(\/|~\/)[^\x00-\x1f\x7f]*$/, 'must be an absolute path or start with ~/');

/** Directories a log collector reads, on every machine it runs on. */
const logRoots = (defaults: string[]) => z.array(machinePath).min(1).default(defaults);

/** A URL fetched on a machine (curl or wget there): http or https, no spaces or quotes. */
const metricsUrl = z.url({ protocol: /^https?$/, error: 'must be an http:// or https:// URL' })
  .regex(/^[^\s"'`\\]+$/, 'must not hold spaces, quotes or backslashes');

const collectorsSchema = z.strictObject({
  sys: z.strictObject({ ...collectorBase }).prefault({}),
  repos: z.strictObject({
    ...collectorBase,
    roots: z.array(z.string().min(1)).min(1).default(['~']),
    max_depth: z.number().int().min(1).max(12).default(4),
    exclude: z.array(z.string().min(1)).default(DEFAULT_REPO_EXCLUDES),
    max_repos: z.number().int().positive().default(500),
    discovery_timeout_seconds: seconds.default(10),
  }).prefault({}),
  agents: z.strictObject({
    ...collectorBase,
    names: z.array(z.string().regex(/^[A-Za-z0-9._-]+$/, 'must be a plain program name')).min(1).default(DEFAULT_AGENT_NAMES),
  }).prefault({}),
  tools: z.strictObject({
    ...collectorBase,
    /** More programs to look for, beyond the ones vc knows. */
    extra: z.array(z.string().regex(/^[A-Za-z0-9._+-]+$/, 'must be a plain program name')).default([]),
  }).prefault({}),
  /** Claude Code writes under one of two roots depending on its version: both are read. */
  'claude-logs': z.strictObject({ ...collectorBase, roots: logRoots(['~/.claude/projects', '~/.config/claude/projects']) }).prefault({}),
  'codex-logs': z.strictObject({ ...collectorBase, roots: logRoots(['~/.codex/sessions', '~/.codex/archived_sessions']) }).prefault({}),
  'gemini-logs': z.strictObject({ ...collectorBase, roots: logRoots(['~/.gemini/tmp']) }).prefault({}),
  caut: z.strictObject({
    ...collectorBase,
    /** caut's --provider: both (codex and claude), all, or one provider's name. */
    provider: z.string().regex(/^[a-z0-9-]{1,40}$/, 'must be both, all or a provider name').default('both'),
    /** Also ask each provider's status page (caut --status). */
    status: z.boolean().default(true),
    /** caut's per-provider --timeout. */
    provider_timeout_seconds: z.number().int().min(1).max(300).default(30),
  }).prefault({}),
  /** The repositories it reads are the repos collector's (its roots, max_depth, exclude) that hold a `.beads/`. */
  beads: z.strictObject({
    ...collectorBase,
    /** Repositories read per run (the first by path); the others are counted in a warning. */
    max_repos: z.number().int().min(1).max(500).default(20),
    /** Each br command's timeout (ready, list). */
    br_timeout_seconds: z.number().int().min(1).max(300).default(20),
    /** Each bv command's timeout: bv builds the whole dependency graph and walks git history (up to 10 s). */
    bv_timeout_seconds: z.number().int().min(1).max(600).default(60),
    /** Also run bv --robot-insights (its output grows with the number of issues; vc keeps counts and the top bottlenecks). */
    insights: z.boolean().default(true),
    /** Keep issue titles: the only free text stored (descriptions, notes and comments never are). */
    titles: z.boolean().default(true),
  }).prefault({}),
  ntm: z.strictObject({
    ...collectorBase,
    /** Seconds each robot command (status, snapshot) may take before it is stopped. */
    step_timeout_seconds: z.number().int().min(1).max(300).default(30),
    /** Also read ntm's analytics log, incrementally. */
    events: z.boolean().default(true),
    /** Where ntm writes it (hard-coded in ntm: it does not follow XDG_CONFIG_HOME). */
    events_file: z.string().regex(/^(\/|~\/)[^\x00-\x1f\x7f]*[^/]$/, 'must be a file path, absolute or starting with ~/')
      .default('~/.config/ntm/analytics/events.jsonl'),
  }).prefault({}),
  cass: z.strictObject({
    ...collectorBase,
    /** Seconds each cass command may take; stats counts every message, which takes seconds on a big archive. */
    step_timeout_seconds: z.number().int().min(1).max(600).default(60),
    /**
     * cass health --stale-threshold: its default differs between versions (300 s, 1800 s), so vc
     * passes one. The index age itself is graded by vc (cass_index_stale).
     */
    stale_threshold_seconds: z.number().int().min(60).max(30 * 86400).default(86400),
    /** Days of sessions cass timeline is asked for (hour buckets; each run overlaps the last). */
    timeline_days: z.number().int().min(1).max(30).default(2),
  }).prefault({}),
  sysmoni: z.strictObject({
    ...collectorBase,
    /** sysmoni's --interval: the second sample's rates cover this many seconds. */
    sample_seconds: z.number().int().min(1).max(30).default(1),
    /** How long the stream may take before it is stopped (two samples take two intervals). */
    step_timeout_seconds: z.number().int().min(1).max(300).default(15),
  }).prefault({}),
  afsc: z.strictObject({
    ...collectorBase,
    step_timeout_seconds: z.number().int().min(1).max(300).default(30),
  }).prefault({}),
  'cloud-bench': z.strictObject({
    ...collectorBase,
    /** cloud_benchmarker.sqlite on the machines it runs on (uvicorn's working directory): unset, the run is absent. */
    store: machinePath.optional(),
    /** Days before the newest benchmark read again each run, for rows the ingest updated in place. */
    window_days: z.number().int().min(0).max(30).default(1),
    /** New rows read per run at most (a first run on a long history goes on in the next runs). */
    max_rows: z.number().int().min(1).max(100_000).default(5000),
  }).prefault({}),
  'agent-mail': z.strictObject({
    ...collectorBase,
    /**
     * The server's storage.sqlite3 on each machine (its DATABASE_URL; by default relative to the
     * server's working directory, so there is no safe default). None: the usual places are looked at.
     */
    stores: z.array(machinePath).default([]),
    /** Rows read per kind and round trip while catching up (messages, reads, ...). */
    batch_rows: z.number().int().min(10).max(20000).default(2000),
  }).prefault({}),
  caam: z.strictObject({
    ...collectorBase,
    /** Limit on `caam version` and `caam status --json` each (local reads). */
    status_timeout_seconds: z.number().int().min(1).max(120).default(15),
    /** Limit on `caam limits --format json` (caam's own budget is 60 s: one API call per profile). */
    limits_timeout_seconds: z.number().int().min(1).max(300).default(75),
  }).prefault({}),
  ru: z.strictObject({
    ...collectorBase,
    /** Limit on `ru status --json --no-fetch` (local git in every configured repository). */
    status_timeout_seconds: z.number().int().min(1).max(600).default(60),
    /** Limit on `ru list --json` (reads ru's config only). */
    list_timeout_seconds: z.number().int().min(1).max(120).default(15),
  }).prefault({}),
  dcg: z.strictObject({
    ...collectorBase,
    /** dcg's config dir: pending_exceptions.jsonl (and a newer dcg's rotated .1) are read there. */
    dir: machinePath.default('~/.config/dcg'),
    /** Also read dcg's history DB (dcg history export), where dcg's [history] is enabled. */
    history: z.boolean().default(true),
    /** How far back a first read of the history goes, in days. */
    history_days: z.number().int().min(1).max(365).default(7),
    /** Rows per `dcg history export --limit` page. */
    history_page_rows: z.number().int().min(1).max(100_000).default(5000),
    /** Seconds before a dcg command is stopped. */
    step_timeout_seconds: z.number().int().min(1).max(300).default(30),
  }).prefault({}),
  rano: z.strictObject({
    ...collectorBase,
    /** rano's SQLite store (its --sqlite): rano's default, observer.sqlite, is relative to where it was started, so there is none. */
    store: machinePath.optional(),
    /** Rows read per query (at most what fits in max_output_bytes); a long catch-up reads batch after batch. */
    batch_rows: z.number().int().min(1).max(100_000).default(2000),
  }).prefault({}),
  rch: z.strictObject({
    ...collectorBase,
    /** Each of rch status and the metrics fetch (rch's own socket timeout is about 10 s). */
    step_timeout_seconds: z.number().int().min(1).max(300).default(20),
    /**
     * rchd's build history (rchd --history-file), tailed: `auto` reads the file the running rchd
     * was started with (none unless it was given that flag), `off` none, or a path.
     */
    history_file: z.union([z.enum(['auto', 'off']), machinePath]).default('auto'),
    /** rchd's /metrics (127.0.0.1:9100 by default), fetched on the machine itself; none by default. */
    metrics_url: metricsUrl.optional(),
    /** Per machine id, overriding metrics_url. */
    metrics_urls: z.record(z.string().regex(MACHINE_ID, 'must be a machine id'), metricsUrl).default({}),
  }).prefault({}),
  pt: z.strictObject({
    ...collectorBase,
    /** pt's scan and plan (it reads every process: seconds on a busy machine). */
    step_timeout_seconds: z.number().int().min(1).max(600).default(90),
    /** pt's --max-candidates. */
    max_candidates: z.number().int().min(1).max(200).default(20),
  }).prefault({}),
}).prefault({});

const collectorName = z.enum(COLLECTOR_NAMES as [CollectorName, ...CollectorName[]]);

const machineSchema = z.strictObject({
  id: z.string().regex(MACHINE_ID, 'must be 1-63 letters, digits, dot, dash or underscore, starting with a letter or digit'),
  ssh: z.string().regex(SSH_TARGET, 'must be "local" or "user@host:port"').default('local'),
  /** Private key for this machine (ssh -i). */
  identity_file: z.string().min(1).optional(),
  /** Jump host(s), as ssh -J takes them: [user@]host[:port][,...]. */
  proxy_jump: z.string().regex(/^([A-Za-z0-9._-]+@)?[A-Za-z0-9.-]+(:[0-9]{1,5})?(,([A-Za-z0-9._-]+@)?[A-Za-z0-9.-]+(:[0-9]{1,5})?)*$/,
    'must be [user@]host[:port], comma-separated').optional(),
  tags: z.array(z.string()).default([]),
  /** Which collectors run here (default: every enabled one) and how often, per collector. */
  collectors: z.strictObject({
    include: z.array(collectorName).optional(),
    exclude: z.array(collectorName).default([]),
    intervals: z.partialRecord(collectorName, seconds).default({}),
  }).prefault({}),
});

export const configSchema = z.strictObject({
  data_dir: z.string().min(1).optional(),
  collect: z.strictObject({
    /** Machines a collector works on at once. */
    machines_in_flight: z.number().int().min(1).max(256).default(8),
    /**
     * Processes a pass runs its collectors in (each runs several at once). More spreads a big
     * catch-up over more cores; each costs most of a CPU second to start, every pass.
     */
    processes: z.number().int().min(1).max(64).default(1),
    /** Collectors running at once on one machine (across all collector processes). */
    collectors_per_machine: z.number().int().min(1).max(64).default(4),
    /** Overrides every collector's own default timeout when set. */
    timeout_seconds: seconds.optional(),
    max_output_bytes: z.number().int().min(1024).default(16 * 1024 * 1024),
  }).prefault({}),
  ssh: z.strictObject({
    /** An ssh_config to use (ssh -F); by default ssh reads the user's own. */
    config_file: z.string().min(1).optional(),
    connect_timeout_seconds: seconds.default(10),
    server_alive_interval_seconds: seconds.default(15),
    /** How long an idle shared connection stays open for the next pass (ControlPersist). */
    control_persist_seconds: z.number().int().min(0).default(300),
  }).prefault({}),
  collectors: collectorsSchema,
  snapshots: z.strictObject({
    /** How often `vc snapshot --due` (run by cron) takes one. */
    every_seconds: seconds.default(3600),
  }).prefault({}),
  compact: z.strictObject({
    /** How often `vc cron run` compacts new NDJSON into Parquet (and then applies retention, if any). */
    every_seconds: seconds.default(900),
  }).prefault({}),
  alerts: z.strictObject({
    /** How often `vc alerts evaluate --due` (run by cron after every collect pass) evaluates. */
    evaluate_every_seconds: seconds.default(300),
    /** Every alert transition (not acks) is POSTed here as JSON; retried with backoff when it fails. */
    webhook_url: z.url({ protocol: /^https?$/, error: 'must be an http:// or https:// URL' }).optional(),
    /** One POST's limit. */
    webhook_timeout_seconds: seconds.default(10),
    /** All deliveries of one evaluation stop after this: the rest waits for the next one. */
    delivery_budget_seconds: seconds.default(60),
  }).prefault({}),
  machines: z.array(machineSchema).min(1).prefault([{ id: 'local', ssh: 'local' }])
    .superRefine((machines, ctx) => {
      const seen = new Set<string>();
      machines.forEach((m, i) => {
        if (seen.has(m.id)) ctx.addIssue({ code: 'custom', path: [i, 'id'], message: `duplicate machine id "${m.id}"` });
        seen.add(m.id);
      });
    }),
});

export type Config = z.infer<typeof configSchema>;
export type Machine = Config['machines'][number];

/** A collector's timeout: its own setting, else the global one, else its default. */
export const timeoutSeconds = (config: Config, name: CollectorName) =>
  config.collectors[name].timeout_seconds ?? config.collect.timeout_seconds ?? COLLECTORS[name].timeoutSeconds;

/** How often a collector runs: the machine's own setting, else the collector's, else its default. */
export const intervalSeconds = (config: Config, name: CollectorName, machine?: Machine) =>
  machine?.collectors.intervals[name] ?? config.collectors[name].interval_seconds ?? COLLECTORS[name].intervalSeconds;

/** The collectors that run on a machine: enabled ones, narrowed by its include and exclude lists. */
export function machineCollectors(config: Config, machine: Machine): CollectorName[] {
  return COLLECTOR_NAMES.filter((n) => config.collectors[n].enabled
    && (machine.collectors.include === undefined || machine.collectors.include.includes(n))
    && !machine.collectors.exclude.includes(n));
}

/** Expected interval of every enabled collector, as the SQL's source_intervals wants it. */
export const enabledIntervals = (config: Config): Record<string, number> =>
  Object.fromEntries(COLLECTOR_NAMES.filter((n) => config.collectors[n].enabled).map((n) => [n, intervalSeconds(config, n)]));

export interface LoadedConfig {
  config: Config;
  /** The file it came from, or null when vc runs on its defaults. */
  path: string | null;
  dataDir: string;
}

/** Formats zod issues as `key.path: what is wrong`, one per line. */
export function describeIssues(issues: readonly z.core.$ZodIssue[]): string {
  return issues.map((issue) => {
    const key = issue.path.reduce<string>((acc, part) =>
      typeof part === 'number' ? `${acc}[${part}]` : acc ? `${acc}.${String(part)}` : String(part), '');
    return `${key || '(top level)'}: ${issue.message}`;
  }).join('\n');
}

/** Validates an already parsed TOML document. Throws UsageError naming every bad key. */
export function validateConfig(doc: unknown, origin: string): Config {
  const result = configSchema.safeParse(doc);
  if (!result.success) throw new UsageError(`invalid config ${origin}:\n${describeIssues(result.error.issues)}`);
  return result.data;
}

/**
 * Finds the config: --config, then VC_CONFIG, then the XDG config dir. A file named
 * explicitly must exist; the XDG default may be absent (vc then runs on its defaults).
 */
export function loadConfig(explicitPath?: string): LoadedConfig {
  const named = explicitPath ?? process.env.VC_CONFIG;
  const file = named ? expandHome(named) : defaultConfigPath();
  let text: string | null = null;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (named || code !== 'ENOENT') throw new UsageError(`cannot read config ${file}: ${(err as Error).message}`);
  }
  let config: Config;
  if (text === null) {
    config = validateConfig({}, '(defaults)');
  } else {
    let doc: unknown;
    try {
      doc = parseToml(text);
    } catch (err) {
      throw new UsageError(`config ${file} is not valid TOML: ${(err as Error).message}`);
    }
    config = validateConfig(doc, file);
  }
  const envDir = process.env.VC_DATA_DIR;
  const dataDir = expandHome(envDir || config.data_dir || defaultDataDir());
  return { config, path: text === null ? null : file, dataDir };
}

export function findMachine(config: Config, id: string): Machine {
  const machine = config.machines.find((m) => m.id === id);
  if (!machine) {
    throw new UsageError(`unknown machine "${id}"; configured: ${config.machines.map((m) => m.id).join(', ')}`);
  }
  return machine;
}
