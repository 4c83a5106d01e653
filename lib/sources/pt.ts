// pt (process_triage): the processes pt's Bayesian triage finds abandoned, zombie or misbehaving,
// each with the action pt recommends, from `pt robot plan --format json` (../shared/upstream/pt.md).
// The plan never acts; vc stores it and shows pt's command for the action, never runs it.
//
// Stored per run (snapshots): a `run` row (pt's exit status, version, session id and the session
// directory the run made, host load and memory, scan and summary counts) and a `candidate` row per
// process in the plan (identity pid + start_id, classification and posterior, confidence, memory,
// CPU, age, the recommended action and why, the policy's verdict, a supervisor's own command).
//
// Traps (pt.md): exit 1 is a plan with candidates, not an error; every run makes a session
// directory under pt's data dir (pt keeps them until `pt agent sessions --cleanup`), so the
// collector runs rarely; flags that change the shape (--brief, --compact, ...) are never passed,
// and the format is pinned against PT_OUTPUT_FORMAT / TOON_DEFAULT_FORMAT.
import { z } from 'zod';
import type { CollectorDef, Item } from '../collector.ts';
import { excerpt, isoTime, parseJson, runTool, validate, type StepResult } from './toolrun.ts';

const int = z.number().int().nullable();
const num = z.number().finite().nullable();
const text = z.string().nullable();

export const ptSchema = z.strictObject({
  type: z.enum(['run', 'candidate']),
  /** run: pt's exit status: 0 no candidates, 1 a plan with candidates. */
  exit_code: int,
  pt_version: text,
  schema_version: text,
  /** pt-YYYYMMDD-HHMMSS-xxxx: what `pt agent apply/explain --session` take. */
  session_id: text,
  /** run: the session directory this run made (pt's data dir/sessions/<id>), when it could be told. */
  session_dir: text,
  generated_at: z.iso.datetime().nullable(),
  host_id: text,
  hostname: text,
  cores: int,
  memory_total_gb: num,
  memory_used_gb: num,
  load1: num,
  load5: num,
  load15: num,
  /** run: processes scanned, protected ones filtered out, above pt's threshold, returned. */
  total_processes: int,
  protected_filtered: int,
  above_threshold: int,
  candidates_returned: int,
  kill_recommendations: int,
  review_recommendations: int,
  policy_blocked_count: int,
  threshold_used: num,
  expected_memory_freed_gb: num,
  scan_duration_ms: int,
  pid: int,
  ppid: int,
  /** candidate: "<pid>:<start time>": the process's identity (pids are reused). */
  start_id: text,
  state: text,
  user: text,
  command: text,
  command_short: text,
  /** candidate: useful, useful_bad, abandoned, zombie (the posterior's arg-max). */
  classification: text,
  age_seconds: int,
  /** candidate: RSS in MiB. */
  memory_mb: int,
  /** candidate: lifetime average % of one core (may exceed 100). */
  cpu_percent: num,
  /** candidate: 0-100, pt's confidence in the classification (not how bad the process is). */
  score: int,
  posterior_useful: num,
  posterior_useful_bad: num,
  posterior_abandoned: num,
  posterior_zombie: num,
  /** candidate: very_high, high, medium, low. */
  confidence: text,
  signature_name: text,
  signature_category: text,
  /** candidate: keep, renice, pause, ..., kill, or review when the policy blocked the optimal action. */
  recommended_action: text,
  action_rationale: text,
  /** candidate: which of pt's sets holds it: kill, review, spare. */
  plan_set: text,
  policy_blocked: z.boolean().nullable(),
  policy_violation_kind: text,
  policy_violation: text,
  reversibility: text,
  supervisor_type: text,
  supervisor_unit: text,
  supervisor_action: text,
  /** candidate: the supervisor's own command for the action (systemctl stop ..., docker stop ...), as pt gives it. */
  supervisor_command: text,
  /** candidate: the strongest evidence, "factor (+31 strong)" each, strongest first. */
  evidence: z.array(z.string()).nullable(),
});

export type PtItem = z.infer<typeof ptSchema>;
const BLANK = Object.fromEntries(Object.keys(ptSchema.shape).filter((k) => k !== 'type').map((k) => [k, null])) as Omit<PtItem, 'type'>;

// pt's plan (pt.md §2): the fields vc reads, others allowed; keys added over time are optional.
const str = z.string().nullish();
const float = z.number().nullish();
const count = z.number().int().nullish();

const candidateSchema = z.looseObject({
  pid: z.number().int().nonnegative(),
  ppid: count,
  state: str,
  start_id: str,
  user: str,
  command: str,
  command_short: str,
  classification: str,
  type: str,
  age_seconds: count,
  memory_mb: count,
  cpu_percent: float,
  score: count,
  posterior: z.looseObject({ useful: float, useful_bad: float, abandoned: float, zombie: float }).nullish(),
  signature: z.looseObject({ name: str, category: str }).nullish(),
  confidence: str,
  evidence: z.array(z.looseObject({ factor: z.string(), contribution: z.number().nullish(), strength: str })).nullish(),
  reversibility: str,
  supervisor: z.looseObject({ type: str, unit: str, recommended_action: str, supervisor_command: str }).nullish(),
  recommended_action: z.string(),
  action_rationale: str,
  policy_blocked: z.boolean().nullish(),
  policy: z.looseObject({ violation: z.looseObject({ kind: str, message: str }).nullish() }).nullish(),
});

const planSchema = z.looseObject({
  pt_version: z.string(),
  schema_version: str,
  session_id: z.string(),
  generated_at: str,
  timestamp: str,
  host_id: str,
  host: z.looseObject({ hostname: str, cores: count, memory_total_gb: float, memory_used_gb: float, load_avg: z.array(z.number()).nullish() }).nullish(),
  scan: z.looseObject({ total_processes: count, candidates_found: count, scan_duration_ms: count }).nullish(),
  summary: z.looseObject({
    total_processes_scanned: count, protected_filtered: count, above_threshold: count, candidates_returned: count,
    kill_recommendations: count, review_recommendations: count, policy_blocked: count, threshold_used: float,
  }),
  candidates: z.array(candidateSchema),
  // Since 2026-01 (pt.md §5.8); older plans have neither.
  recommendations: z.looseObject({
    kill_set: z.array(z.number()).nullish(), review_set: z.array(z.number()).nullish(), spare_set: z.array(z.number()).nullish(),
    expected_memory_freed_gb: float,
  }).nullish(),
});

/** pt's session ids and process identities, as vc splices them into the commands it shows. */
const SESSION_ID = /^pt-\d{8}-\d{6}-[a-z0-9]{4,8}$/;
const START_ID = /^\d+:\d+$/;

const cut = (s: string | null | undefined, max = 2000): string | null => (s == null ? null : s.slice(0, max));
const n = (v: number | null | undefined): number | null => (v == null || !Number.isFinite(v) ? null : v);

/** What stderr says about a failure: its last line naming an error, else its last two lines. */
function stderrGist(stderr: string): string {
  const lines = stderr.trim().split('\n');
  return lines.findLast((l) => /error/i.test(l)) ?? lines.slice(-2).join(' ');
}

/** pt's exit statuses that mean it did not plan (pt.md §4), in words. */
const FAILURES: Record<number, string> = {
  2: 'a usage error', 10: 'an argument error', 14: 'another pt holds its lock', 20: 'an internal error (session store, config, scan or plan)',
};

/** The candidate's set in pt's recommendations, or the bucket pt.md §2.3 derives from its action. */
function planSet(c: z.infer<typeof candidateSchema>, sets: Map<number, string> | null): string {
  const s = sets?.get(c.pid);
  if (s) return s;
  return c.recommended_action === 'kill' ? 'kill' : c.recommended_action === 'keep' ? 'spare' : 'review';
}

/**
 * Items from `pt robot plan --format json`: a run row and a row per candidate. `dataDir` is pt's
 * data dir on the machine (where its session directories go), when known.
 */
export function ptItems(step: StepResult, dataDir: string | null = null): Item[] {
  const what = 'pt robot plan --format json';
  if (step.rc === 124) throw new Error(`${what} did not answer in time and was stopped`);
  const said = step.stderr.trim() ? `; stderr: ${excerpt(stderrGist(step.stderr))}` : '';
  if (step.rc !== 0 && step.rc !== 1) {
    const why = step.rc !== null && FAILURES[step.rc] ? ` (${FAILURES[step.rc]})` : '';
    // With --format json pt prints some failures (the lock) as a JSON object on stdout.
    const printed = step.stdout.trim() ? `: ${excerpt(step.stdout, 200)}` : '';
    throw new Error(`${what} exited ${step.rc ?? '(killed)'}${why} without a plan${printed}${said}`);
  }
  if (!step.stdout.trim().startsWith('{')) {
    // The wrapper exits 1 too when pt-core is missing, with nothing on stdout.
    throw new Error(`${what} exited ${step.rc} without its JSON plan${step.stdout.trim() ? `: ${excerpt(step.stdout)}` : ''}${said}`);
  }
  const plan = validate(planSchema, parseJson(step.stdout, what), what);
  const sessionId = SESSION_ID.test(plan.session_id) ? plan.session_id : null;
  const load = plan.host?.load_avg ?? [];
  const items: Item[] = [{
    data: {
      ...BLANK, type: 'run', exit_code: step.rc, pt_version: cut(plan.pt_version, 40), schema_version: cut(plan.schema_version, 40),
      session_id: sessionId, session_dir: sessionId && dataDir ? `${dataDir.replace(/\/+$/, '')}/sessions/${sessionId}` : null,
      generated_at: isoTime(plan.generated_at ?? plan.timestamp), host_id: cut(plan.host_id, 100), hostname: cut(plan.host?.hostname, 300),
      cores: n(plan.host?.cores), memory_total_gb: n(plan.host?.memory_total_gb), memory_used_gb: n(plan.host?.memory_used_gb),
      load1: n(load[0]), load5: n(load[1]), load15: n(load[2]),
      total_processes: n(plan.summary.total_processes_scanned ?? plan.scan?.total_processes),
      protected_filtered: n(plan.summary.protected_filtered), above_threshold: n(plan.summary.above_threshold),
      candidates_returned: n(plan.summary.candidates_returned), kill_recommendations: n(plan.summary.kill_recommendations),
      review_recommendations: n(plan.summary.review_recommendations), policy_blocked_count: n(plan.summary.policy_blocked),
      threshold_used: n(plan.summary.threshold_used), expected_memory_freed_gb: n(plan.recommendations?.expected_memory_freed_gb),
      scan_duration_ms: n(plan.scan?.scan_duration_ms),
    },
    raw: { summary: plan.summary, scan: plan.scan ?? null },
  }];
  const r = plan.recommendations;
  const sets = r ? new Map<number, string>([
    ...(r.spare_set ?? []).map((p): [number, string] => [p, 'spare']),
    ...(r.review_set ?? []).map((p): [number, string] => [p, 'review']),
    ...(r.kill_set ?? []).map((p): [number, string] => [p, 'kill']),
  ]) : null;
  for (const c of plan.candidates) {
    const ev = (c.evidence ?? []).slice(0, 5).map((e) => {
      const sign = typeof e.contribution === 'number' ? ` ${e.contribution > 0 ? '+' : ''}${e.contribution}` : '';
      return `${e.factor.slice(0, 60)} (${`${sign} ${e.strength ?? ''}`.trim()})`;
    });
    const v = c.policy?.violation;
    items.push({
      data: {
        ...BLANK, type: 'candidate', session_id: sessionId, pid: c.pid, ppid: n(c.ppid),
        start_id: c.start_id && START_ID.test(c.start_id) ? c.start_id : null, state: cut(c.state, 4), user: cut(c.user, 100),
        command: cut(c.command), command_short: cut(c.command_short, 200), classification: cut(c.classification ?? c.type, 40),
        age_seconds: n(c.age_seconds), memory_mb: n(c.memory_mb), cpu_percent: n(c.cpu_percent), score: n(c.score),
        posterior_useful: n(c.posterior?.useful), posterior_useful_bad: n(c.posterior?.useful_bad),
        posterior_abandoned: n(c.posterior?.abandoned), posterior_zombie: n(c.posterior?.zombie),
        confidence: cut(c.confidence, 40), signature_name: cut(c.signature?.name, 200), signature_category: cut(c.signature?.category, 60),
        recommended_action: cut(c.recommended_action, 40), action_rationale: cut(c.action_rationale, 500), plan_set: planSet(c, sets),
        policy_blocked: c.policy_blocked ?? null, policy_violation_kind: cut(v?.kind, 60), policy_violation: cut(v?.message, 500),
        reversibility: cut(c.reversibility, 40), supervisor_type: cut(c.supervisor?.type, 60), supervisor_unit: cut(c.supervisor?.unit, 300),
        supervisor_action: cut(c.supervisor?.recommended_action, 60), supervisor_command: cut(c.supervisor?.supervisor_command, 1000),
        evidence: ev,
      },
    });
  }
  return items;
}

/** Where pt keeps its sessions (pt.md §1): PROCESS_TRIAGE_DATA, else the XDG data dir's process_triage. */
const DATA_DIR = 'printf "%s" "${PROCESS_TRIAGE_DATA:-${XDG_DATA_HOME:-$HOME/.local/share}/process_triage}"';

export const ptCollector: CollectorDef = {
  name: 'pt',
  version: '1.0.0',
  schemaVersion: 1,
  schema: ptSchema,
  async collect(ctx) {
    const cfg = ctx.config.collectors.pt;
    const run = await runTool(ctx, ['pt'], [
      { name: 'datadir', run: DATA_DIR, timeoutSeconds: 5 },
      {
        name: 'plan',
        // Unset first: each would switch the output away from JSON.
        run: `unset PT_OUTPUT_FORMAT TOON_DEFAULT_FORMAT; "$VC_TOOL" robot plan --format json --max-candidates ${cfg.max_candidates}`,
        timeoutSeconds: cfg.step_timeout_seconds,
      },
    ]);
    if ('absent' in run) return { items: [], absent: run.absent };
    const dir = run.steps.datadir!.stdout.trim();
    return { items: ptItems(run.steps.plan!, dir.startsWith('/') ? dir : null) };
  },
};
