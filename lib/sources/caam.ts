// caam (coding_agent_account_manager): which vault profile each tool (claude, codex, ...) is
// logged in as, the profile's health and cooldown, and the live quota of every profile in the
// vault, from `caam status --json` and `caam limits --format json` (see ../shared/upstream/caam.md).
// `limits` asks the providers' APIs once per profile: the collector runs it every 10 minutes.
//
// caam has no `recommend` command: its `limits --recommend/--best` only re-rank the rows that
// `limits` prints (in its own availability order, kept here as `rank`), so the recommendation is
// derived in SQL from these rows (views/v1/26_accounts.sql), with no second round of API calls.
//
// Stored, one item each (kind snapshot): a `run` (caam's version line, the free-text warnings and
// recommendations of `status`), a `tool` per `status` tool (login, active profile, health,
// identity) and a `profile` per `limits` row (windows: percent from `utilization`, duration in
// seconds, unknown reset times null; row error). `tool` and `profile` rows keep caam's object as
// `raw`: newer builds add fields (credential_source, quota status, billing) whose names are unconfirmed.
import { z } from 'zod';
import type { CollectorDef, Item } from '../collector.ts';
import { goTime, parseJson, runTool, stepError, validate, type StepResult } from './toolrun.ts';

const num = z.number().finite();
const text = z.string().nullable();
const time = z.iso.datetime().nullable();

const modelWindow = z.strictObject({
  model: z.string(),
  used_percent: num.nullable(),
  window_seconds: z.number().int().nullable(),
  resets_at: time,
  severity: text,
});

export const caamSchema = z.strictObject({
  type: z.enum(['run', 'tool', 'profile']),
  /** run: the first line of `caam version` (no documented format; null when it failed). */
  version: text,
  /** run: `status`'s warnings[] and recommendations[], caam's free text (not parsed). */
  warnings: z.array(z.string()).nullable(),
  recommendations: z.array(z.string()).nullable(),
  /** tool: the tool (status); profile: the provider (limits). caam uses the same names for both. */
  provider: text,
  /** tool: the active profile (null: the live login matches no vault profile); profile: its name. */
  profile: text,
  /** tool: whether the tool has auth files at all. */
  logged_in: z.boolean().nullable(),
  /** tool: caam's error for the tool; profile: the row's error (unauthorized, API error, ...). */
  error: text,
  /** tool: health of the active profile (healthy, warning, critical, unknown). */
  health_status: text,
  health_reason: text,
  health_expires_at: time,
  /** tool: errors in the last hour. */
  health_error_count: z.number().int().nullable(),
  /** tool: seconds of cooldown left, read from caam's display string. */
  cooldown_remaining_s: z.number().int().nullable(),
  identity_email: text,
  identity_organization: text,
  identity_plan_type: text,
  identity_account_id: text,
  identity_expires_at: time,
  /** profile: 1-based position among its provider's rows: caam's availability order (best first). */
  rank: z.number().int().nullable(),
  plan_type: text,
  rate_limit_tier: text,
  fetched_at: time,
  /** profile: percent 0-100 (utilization x 100, not clamped); window length in seconds; NULL: unknown. */
  primary_used_percent: num.nullable(),
  primary_window_seconds: z.number().int().nullable(),
  primary_resets_at: time,
  /** The provider's own severity of the window (normal, warning, critical), newer caam only. */
  primary_severity: text,
  secondary_used_percent: num.nullable(),
  secondary_window_seconds: z.number().int().nullable(),
  secondary_resets_at: time,
  secondary_severity: text,
  tertiary_used_percent: num.nullable(),
  tertiary_window_seconds: z.number().int().nullable(),
  tertiary_resets_at: time,
  tertiary_severity: text,
  /** profile: per-model scoped quotas (newer caam), keyed by the API's model name. */
  model_windows: z.array(modelWindow).nullable(),
  credits_has_credits: z.boolean().nullable(),
  credits_unlimited: z.boolean().nullable(),
  credits_balance: num.nullable(),
  /** profile: caam's burn rate from the provider's local logs (the same for every profile of a provider). */
  burn_tokens_per_hour: num.nullable(),
  burn_percent_per_hour: num.nullable(),
  burn_confidence: num.nullable(),
  /** profile: caam's predicted depletion time (null: no prediction) and its confidence 0-1. */
  estimated_depletion: time,
  depletion_confidence: num.nullable(),
});

export type CaamItem = z.infer<typeof caamSchema>;

// caam's output, as the doc (§2) describes it: the fields vc reads, every other one allowed.
const strOpt = z.string().nullish();
const numOpt = num.nullish();

const statusSchema = z.looseObject({
  tools: z.array(z.looseObject({
    tool: z.string(),
    logged_in: z.boolean(),
    active_profile: strOpt,
    error: strOpt,
    health: z.looseObject({
      status: z.string(),
      reason: strOpt,
      expires_at: strOpt,
      error_count: z.number().int().nullish(),
      cooldown_remaining: strOpt,
    }).nullish(),
    identity: z.looseObject({
      email: strOpt,
      organization: strOpt,
      plan_type: strOpt,
      account_id: strOpt,
      expires_at: strOpt,
    }).nullish(),
  })).nullable(),
  warnings: z.array(z.string()).nullish(),
  recommendations: z.array(z.string()).nullish(),
});

const usageWindow = z.looseObject({
  utilization: numOpt,
  used_percent: numOpt,
  resets_at: strOpt,
  /** Go time.Duration: nanoseconds. */
  window_duration: numOpt,
  severity: strOpt,
}).nullish();

const limitsSchema = z.array(z.looseObject({
  provider: z.string(),
  profile_name: z.string(),
  usage: z.looseObject({
    plan_type: strOpt,
    rate_limit_tier: strOpt,
    primary_window: usageWindow,
    secondary_window: usageWindow,
    tertiary_window: usageWindow,
    model_windows: z.record(z.string(), usageWindow).nullish(),
    credits: z.looseObject({
      has_credits: z.boolean().nullish(),
      unlimited: z.boolean().nullish(),
      // caam normalises a string balance to a number; a string is read too, in case one slips through.
      balance: z.union([num, z.string()]).nullish(),
    }).nullish(),
    fetched_at: strOpt,
    error: strOpt,
    burn_rate: z.looseObject({ tokens_per_hour: numOpt, percent_per_hour: numOpt, confidence: numOpt }).nullish(),
    estimated_depletion: strOpt,
    depletion_confidence: numOpt,
  }).nullish(),
})).nullable();

const BLANK: Omit<CaamItem, 'type'> = {
  version: null, warnings: null, recommendations: null, provider: null, profile: null, logged_in: null, error: null,
  health_status: null, health_reason: null, health_expires_at: null, health_error_count: null, cooldown_remaining_s: null,
  identity_email: null, identity_organization: null, identity_plan_type: null, identity_account_id: null, identity_expires_at: null,
  rank: null, plan_type: null, rate_limit_tier: null, fetched_at: null,
  primary_used_percent: null, primary_window_seconds: null, primary_resets_at: null, primary_severity: null,
  secondary_used_percent: null, secondary_window_seconds: null, secondary_resets_at: null, secondary_severity: null,
  tertiary_used_percent: null, tertiary_window_seconds: null, tertiary_resets_at: null, tertiary_severity: null,
  model_windows: null, credits_has_credits: null, credits_unlimited: null, credits_balance: null,
  burn_tokens_per_hour: null, burn_percent_per_hour: null, burn_confidence: null, estimated_depletion: null, depletion_confidence: null,
};

const cut = (s: string | null | undefined, n: number) => (typeof s === 'string' ? s.slice(0, n) : null);

/**
 * Seconds in caam's cooldown display string, e.g. "(cooldown: 1h 5m remaining)" or "42m" or
 * "2d5h30s"; null when it names no duration.
 */
export function cooldownSeconds(s: string | null | undefined): number | null {
  if (typeof s !== 'string') return null;
  const unit: Record<string, number> = { d: 86400, h: 3600, m: 60, s: 1 };
  let total = 0;
  let found = false;
  for (const m of s.matchAll(/(\d+(?:\.\d+)?)\s*([dhms])(?![a-z])/gi)) {
    total += Number(m[1]) * unit[m[2]!.toLowerCase()]!;
    found = true;
  }
  return found ? Math.round(total) : null;
}

type UsageWindow = z.infer<typeof usageWindow>;

/** Percent of a window: utilization (a fraction) x 100, rounded to 1/100; caam's truncated used_percent only without it. */
function percent(w: UsageWindow): number | null {
  if (typeof w?.utilization === 'number') return Math.round(w.utilization * 10000) / 100;
  return typeof w?.used_percent === 'number' ? w.used_percent : null;
}

/** A Go duration (nanoseconds) in whole seconds. */
const seconds = (ns: number | null | undefined) => (typeof ns === 'number' && ns > 0 ? Math.round(ns / 1e9) : null);

const windowFields = (name: 'primary' | 'secondary' | 'tertiary', w: UsageWindow) => ({
  [`${name}_used_percent`]: percent(w),
  [`${name}_window_seconds`]: seconds(w?.window_duration),
  [`${name}_resets_at`]: goTime(w?.resets_at),
  [`${name}_severity`]: cut(w?.severity, 40),
});

/** The `tool` items and the run's warnings and recommendations from `caam status --json`. */
export function caamStatusItems(step: StepResult): { tools: Item[]; warnings: string[] | null; recommendations: string[] | null } {
  const what = 'caam status --json';
  const failed = stepError(what, step);
  if (failed) throw failed;
  const status = validate(statusSchema, parseJson(step.stdout, what), what);
  const tools: Item[] = (status.tools ?? []).map((t) => ({
    data: {
      ...BLANK, type: 'tool', provider: cut(t.tool, 40), profile: cut(t.active_profile, 200), logged_in: t.logged_in,
      error: cut(t.error, 2000), health_status: cut(t.health?.status, 40), health_reason: cut(t.health?.reason, 500),
      health_expires_at: goTime(t.health?.expires_at), health_error_count: t.health?.error_count ?? null,
      cooldown_remaining_s: cooldownSeconds(t.health?.cooldown_remaining),
      identity_email: cut(t.identity?.email, 200), identity_organization: cut(t.identity?.organization, 200),
      identity_plan_type: cut(t.identity?.plan_type, 60), identity_account_id: cut(t.identity?.account_id, 200),
      identity_expires_at: goTime(t.identity?.expires_at),
    },
    raw: t,
  }));
  const texts = (v: string[] | null | undefined) => (v ? v.slice(0, 50).map((s) => s.slice(0, 500)) : null);
  return { tools, warnings: texts(status.warnings), recommendations: texts(status.recommendations) };
}

/** The `profile` items from `caam limits --format json` (an empty vault prints `[]`). */
export function caamLimitsItems(step: StepResult): Item[] {
  const what = 'caam limits --format json';
  const failed = stepError(what, step);
  if (failed) throw failed;
  const rows = validate(limitsSchema, parseJson(step.stdout, what), what) ?? [];
  const ranks = new Map<string, number>();
  return rows.map((p) => {
    const u = p.usage;
    // caam sorts each provider's rows by its availability score, best first.
    const rank = (ranks.get(p.provider) ?? 0) + 1;
    ranks.set(p.provider, rank);
    const balance = u?.credits?.balance;
    const models = u?.model_windows ? Object.entries(u.model_windows).map(([model, w]) => ({
      model: model.slice(0, 100), used_percent: percent(w), window_seconds: seconds(w?.window_duration),
      resets_at: goTime(w?.resets_at), severity: cut(w?.severity, 40),
    })) : null;
    return {
      data: {
        ...BLANK, type: 'profile', provider: cut(p.provider, 40), profile: cut(p.profile_name, 200), rank,
        // A row without usage is a failed row (caam always builds one, with its error).
        error: u ? cut(u.error, 2000) || null : 'caam printed no usage for this profile',
        plan_type: cut(u?.plan_type, 60), rate_limit_tier: cut(u?.rate_limit_tier, 60), fetched_at: goTime(u?.fetched_at),
        ...windowFields('primary', u?.primary_window), ...windowFields('secondary', u?.secondary_window),
        ...windowFields('tertiary', u?.tertiary_window),
        model_windows: models?.length ? models : null,
        credits_has_credits: u?.credits?.has_credits ?? null, credits_unlimited: u?.credits?.unlimited ?? null,
        credits_balance: typeof balance === 'number' ? balance : typeof balance === 'string' && Number.isFinite(Number(balance)) && balance.trim() ? Number(balance) : null,
        burn_tokens_per_hour: u?.burn_rate?.tokens_per_hour ?? null, burn_percent_per_hour: u?.burn_rate?.percent_per_hour ?? null,
        burn_confidence: u?.burn_rate?.confidence ?? null,
        estimated_depletion: goTime(u?.estimated_depletion), depletion_confidence: u?.depletion_confidence ?? null,
      },
      raw: p,
    };
  });
}

/** caam's version line: informative only, so a failing `caam version` leaves it null. */
export function caamVersion(step: StepResult | undefined): string | null {
  if (!step || step.rc !== 0) return null;
  const line = step.stdout.split('\n').map((l) => l.trim()).find(Boolean);
  return line ? line.slice(0, 200) : null;
}

/** Every item of one run, from the three steps' results. */
export function caamItems(steps: { version?: StepResult; status: StepResult; limits: StepResult }): Item[] {
  const status = caamStatusItems(steps.status);
  const profiles = caamLimitsItems(steps.limits);
  const run = { ...BLANK, type: 'run' as const, version: caamVersion(steps.version), warnings: status.warnings, recommendations: status.recommendations };
  return [{ data: run }, ...status.tools, ...profiles];
}

export const caamCollector: CollectorDef = {
  name: 'caam',
  version: '1.0.0',
  schemaVersion: 1,
  schema: caamSchema,
  async collect(ctx) {
    const cfg = ctx.config.collectors.caam;
    const run = await runTool(ctx, ['caam'], [
      { name: 'version', run: '"$VC_TOOL" version', timeoutSeconds: cfg.status_timeout_seconds },
      { name: 'status', run: '"$VC_TOOL" status --json', timeoutSeconds: cfg.status_timeout_seconds },
      // caam bounds limits at 60 s itself (30 s per request); the step gets its own limit on top.
      { name: 'limits', run: '"$VC_TOOL" limits --format json', timeoutSeconds: cfg.limits_timeout_seconds },
    ]);
    if ('absent' in run) return { items: [], absent: run.absent };
    return { items: caamItems({ version: run.steps.version, status: run.steps.status!, limits: run.steps.limits! }) };
  },
};
