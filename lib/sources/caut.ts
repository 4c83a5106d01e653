// caut: per provider account, the usage windows (used %, window length, reset time), the login,
// the provider's status page and caut's own errors, from `caut usage --json` (its robot mode; see
// ../shared/upstream/caut.md). Running `usage` makes caut record the fetch in its own history:
// that is caut's doing, and the only side effect.
//
// Stored, one item each (kind snapshot): a `run` (exit status, caut's fatal error), a `provider`
// per row of its `data` (windows null when caut had no quota data: unknown, never 0 %), an `error`
// per `errors[]` string. The provider row keeps caut's payload as `raw`: its fields that are
// declared but not filled today (credits, ...) are kept if a later caut fills them.
import { z } from 'zod';
import type { CollectorDef, Item } from '../collector.ts';
import { excerpt, isoTime, lastJsonObject, parseJson, runTool, validate, type StepResult } from './toolrun.ts';

const num = z.number().finite();
const text = z.string().nullable();

export const cautSchema = z.strictObject({
  type: z.enum(['run', 'provider', 'error']),
  /** run: caut's exit status (1 is normal when a provider failed: the envelope is still whole). */
  exit_code: z.number().int().nullable(),
  /** run: caut's schemaVersion and generatedAt. */
  schema_version: text,
  generated_at: z.iso.datetime().nullable(),
  /** run: the error object caut printed on stderr when it failed outright (no envelope). */
  error_code: text,
  error_category: text,
  /** error: the provider and caut's message; run: the fatal error's message. */
  message: text,
  provider: text,
  account: text,
  /** provider: the strategy that answered (oauth, cli, ...) and how caut logged in. */
  source: text,
  login_method: text,
  account_organization: text,
  /** Percent 0-100 (not clamped); NULL when caut had no data for the window. */
  primary_used_percent: num.nullable(),
  primary_window_minutes: z.number().int().nullable(),
  primary_resets_at: z.iso.datetime().nullable(),
  secondary_used_percent: num.nullable(),
  secondary_window_minutes: z.number().int().nullable(),
  secondary_resets_at: z.iso.datetime().nullable(),
  tertiary_used_percent: num.nullable(),
  tertiary_window_minutes: z.number().int().nullable(),
  tertiary_resets_at: z.iso.datetime().nullable(),
  /** provider: when caut fetched the usage. */
  updated_at: z.iso.datetime().nullable(),
  /** provider: the status page (with --status): none, minor, major, critical, maintenance, unknown. */
  status_indicator: text,
  status_description: text,
  status_updated_at: z.iso.datetime().nullable(),
  /** provider: caut's warning about the login (expired, expiring, missing). */
  auth_warning: text,
});

export type CautItem = z.infer<typeof cautSchema>;

// caut's output, as ../shared/upstream/caut.md §2 documents it: the fields vc reads, others allowed.
const window = z.looseObject({
  usedPercent: num,
  windowMinutes: z.number().int().optional(),
  resetsAt: z.string().optional(),
}).nullable().optional();

const envelopeSchema = z.looseObject({
  schemaVersion: z.string(),
  generatedAt: z.string(),
  command: z.string().optional(),
  data: z.array(z.looseObject({
    provider: z.string(),
    account: z.string().optional(),
    source: z.string().optional(),
    status: z.looseObject({
      indicator: z.string(),
      description: z.string().optional(),
      updatedAt: z.string().optional(),
    }).optional(),
    usage: z.looseObject({
      primary: window,
      secondary: window,
      tertiary: window,
      updatedAt: z.string().optional(),
      identity: z.looseObject({
        accountEmail: z.string().optional(),
        accountOrganization: z.string().optional(),
        loginMethod: z.string().optional(),
      }).optional(),
    }),
    authWarning: z.string().optional(),
  })),
  errors: z.array(z.string()),
});

const BLANK: Omit<CautItem, 'type'> = {
  exit_code: null, schema_version: null, generated_at: null, error_code: null, error_category: null, message: null,
  provider: null, account: null, source: null, login_method: null, account_organization: null,
  primary_used_percent: null, primary_window_minutes: null, primary_resets_at: null,
  secondary_used_percent: null, secondary_window_minutes: null, secondary_resets_at: null,
  tertiary_used_percent: null, tertiary_window_minutes: null, tertiary_resets_at: null,
  updated_at: null, status_indicator: null, status_description: null, status_updated_at: null, auth_warning: null,
};

const str = (v: unknown): string | null => (typeof v === 'string' ? v : null);

type Window = z.infer<typeof window>;
const windowFields = (name: 'primary' | 'secondary' | 'tertiary', w: Window) => ({
  [`${name}_used_percent`]: w?.usedPercent ?? null,
  [`${name}_window_minutes`]: w?.windowMinutes ?? null,
  [`${name}_resets_at`]: isoTime(w?.resetsAt),
});

/** The "<provider>: <message>" strings of errors[]: the provider where the prefix names one. */
function errorItem(e: string): Item {
  const m = /^([a-z0-9_-]{1,40}): (.*)$/s.exec(e);
  return { data: { ...BLANK, type: 'error', provider: m ? m[1]! : null, message: (m ? m[2]! : e).slice(0, 2000) } };
}

/** Items from `caut usage --json`'s stdout, stderr and exit status (see the module comment). */
export function cautItems(step: StepResult): Item[] {
  const what = 'caut usage --json';
  const run = { ...BLANK, type: 'run' as const, exit_code: step.rc };
  if (step.rc === 124) throw new Error(`${what} did not answer in time and was stopped`);
  if (!step.stdout.trim().startsWith('{')) {
    // A fatal error: no envelope, caut's error object as the last JSON line of stderr.
    const err = lastJsonObject(step.stderr);
    if (step.rc !== 0 && err && typeof err.error_code === 'string') {
      return [{ data: { ...run, error_code: err.error_code.slice(0, 40), error_category: str(err.category)?.slice(0, 200) ?? null, message: str(err.message)?.slice(0, 2000) ?? null } }];
    }
    const said = step.stderr.trim() ? `; stderr: ${excerpt(step.stderr.trim().split('\n').slice(-2).join(' '))}` : '';
    throw new Error(`${what} exited ${step.rc ?? '(killed)'} without its JSON envelope${step.stdout.trim() ? `: ${excerpt(step.stdout)}` : ''}${said}`);
  }
  const env = validate(envelopeSchema, parseJson(step.stdout, what), what);
  if (env.schemaVersion !== 'caut.v1') throw new Error(`${what} printed schemaVersion ${excerpt(env.schemaVersion)}; vc reads caut.v1`);
  const items: Item[] = [{ data: { ...run, schema_version: env.schemaVersion, generated_at: isoTime(env.generatedAt) } }];
  for (const p of env.data) {
    const id = p.usage.identity;
    items.push({
      data: {
        ...BLANK, type: 'provider', provider: p.provider, account: p.account ?? id?.accountEmail ?? null, source: p.source ?? null,
        login_method: id?.loginMethod ?? null, account_organization: id?.accountOrganization ?? null,
        ...windowFields('primary', p.usage.primary), ...windowFields('secondary', p.usage.secondary), ...windowFields('tertiary', p.usage.tertiary),
        updated_at: isoTime(p.usage.updatedAt), status_indicator: p.status?.indicator ?? null,
        status_description: p.status?.description ?? null, status_updated_at: isoTime(p.status?.updatedAt),
        auth_warning: p.authWarning?.slice(0, 500) ?? null,
      },
      raw: p,
    });
  }
  items.push(...env.errors.map(errorItem));
  return items;
}

export const cautCollector: CollectorDef = {
  name: 'caut',
  version: '1.0.0',
  schemaVersion: 1,
  schema: cautSchema,
  async collect(ctx) {
    const cfg = ctx.config.collectors.caut;
    const run = await runTool(ctx, ['caut'], [{
      name: 'usage',
      // The provider is a checked plain word (lib/config.ts).
      run: `"$VC_TOOL" usage --json --provider ${cfg.provider}${cfg.status ? ' --status' : ''} --timeout ${cfg.provider_timeout_seconds}`,
      // caut fetches its providers at once, each within its own timeout.
      timeoutSeconds: cfg.provider_timeout_seconds + 15,
    }]);
    if ('absent' in run) return { items: [], absent: run.absent };
    return { items: cautItems(run.steps.usage!) };
  },
};
