// Reports: named SQL queries over the views (reports/<name>.sql) plus a Markdown renderer
// (reports/<name>.ts). JSON output is the robot envelope of design.md around the query results.
import fs from 'node:fs';
import path from 'node:path';
import { sqlString, VIEWS_VERSION, type Row, type Session } from './duck.ts';
import { repoRoot } from './paths.ts';
import type { SourceName } from './catalog.ts';
import type { LoadedConfig } from './config.ts';

/** Opens a session on the configured store (lib/cli/common.ts open), for the steps that take one. */
export type OpenSession = (loaded: LoadedConfig, opts?: { now?: Date; recent?: readonly string[]; history?: readonly string[] }) => Promise<Session>;

/**
 * The sources whose whole history the health factors, the alert rules, the snapshot and the watch
 * items read (cloud_benchmarker's scores, compared over time): sessions that compute them list
 * only the recent days of the others. Reading any other's history fails loudly (lib/duck.ts).
 */
export const HEALTH_HISTORY: readonly SourceName[] = ['cloud-bench'];

export type ReportData = Record<string, Row[] | Row | null>;

export interface ReportContext {
  /** The moment the report describes: now, or the --as-of time. */
  at: Date;
  staleness: Record<string, number | null>;
  warnings: string[];
}

/** Options a report may take on the command line (vc report NAME --since ... --by ...). */
export interface ReportOptions {
  since?: Date;
  until?: Date;
  by?: string;
  machine?: string;
}

export interface ReportDef {
  name: string;
  description: string;
  /** The options it takes; any other is refused. Its SQL reads them as getvariable('vc_report_<name>'). */
  options?: ReadonlyArray<keyof ReportOptions>;
  /** Allowed values of --by, the first being the default. */
  byValues?: readonly string[];
  /**
   * The sources whose recent window it reads (through any view, and staleness); default all.
   * test/reports.test.ts checks each report answers the same as with all of them.
   */
  recent?: readonly SourceName[];
  /**
   * The sources whose whole history it reads (the views named after them, and views over those);
   * default all. Reading another's fails (lib/duck.ts), so test/reports.test.ts running every
   * report proves the list; the others cost no listing of their older days.
   */
  history?: readonly SourceName[];
  /** It reads the health factors (views/v1/30_health.sql): they are computed once before its queries. */
  healthFactors?: boolean;
  render(data: ReportData, ctx: ReportContext & { options: ReportOptions }): string;
}

/**
 * Views that many others read, in the order they build on each other. The views refer to them
 * unqualified (`FROM last_ok_runs`), so a temp table of that name, computed once for the session,
 * stands in for the view everywhere: the health factors read each of them up to twenty times, and
 * planning and running those subtrees again and again cost more than the factors themselves.
 * test/views.test.ts checks no view names them qualified (which would bypass the temp table).
 */
export const SHARED_VIEWS = [
  'latest_sys', 'last_ok_runs', 'load_samples', 'machine_sample', 'machine_filesystems', 'machines', 'source_freshness',
  'latest_agents', 'agent_processes', 'agent_panes', 'repo_status', 'cass_latest', 'rch_latest', 'ntm_status', 'ntm_agents',
  'beads_repos', 'beads_latest', 'agent_mail_latest', 'caam_latest', 'pt_latest', 'caut_latest',
] as const;

/**
 * Computes the shared views, then the health factors, once for the session, as temp tables that
 * the views reading them unqualified (triage, machine health, alert candidates, watch items,
 * snapshots) then use (views/v1/30_health.sql). Computing again (vc watch) starts from the views:
 * a stale table of a previous pass must not feed the next.
 */
export async function materializeHealthFactors(session: Session): Promise<void> {
  const t0 = performance.now();
  const tables = [...SHARED_VIEWS, 'health_factors'];
  await session.query(tables.map((t) => `DROP TABLE IF EXISTS temp.main.${t}`).join(';\n'));
  for (const t of tables) await session.query(`CREATE TEMP TABLE ${t} AS FROM ${VIEWS_VERSION}.${t}`);
  if (process.env.VC_PROFILE) process.stderr.write(`health factors ${(performance.now() - t0).toFixed(0)} ms\n`);
}

/** A session with the health factors computed, opened on first use: see healthSession. */
export interface HealthSession {
  get(): Promise<Session>;
  close(): Promise<void>;
}

/**
 * One session with the health factors computed, for the steps that read them at one moment
 * (vc cron run: the alert rules, then the snapshot), so they are computed once. It opens when a
 * step first asks (the alert rules ask under their lock); an open that failed is not kept, so
 * the next step tries again.
 */
export function healthSession(open: () => Promise<Session>): HealthSession {
  let pending: Promise<Session> | null = null;
  return {
    get() {
      pending ??= (async () => {
        const session = await open();
        try {
          await materializeHealthFactors(session);
          return session;
        } catch (err) {
          session.close();
          throw err;
        }
      })().catch((err: unknown) => {
        pending = null;
        throw err;
      });
      return pending;
    },
    async close() {
      const p = pending;
      pending = null;
      (await p?.catch(() => null))?.close();
    },
  };
}

/** Loaded on demand: a command pays only for the report it runs. */
export const REPORTS: Record<string, () => Promise<{ default: ReportDef }>> = {
  triage: () => import('../reports/triage.ts'),
  health: () => import('../reports/health.ts'),
  machines: () => import('../reports/machines.ts'),
  repos: () => import('../reports/repos.ts'),
  agents: () => import('../reports/agents.ts'),
  usage: () => import('../reports/usage.ts'),
  diff: () => import('../reports/diff.ts'),
  beads: () => import('../reports/beads.ts'),
  sessions: () => import('../reports/sessions.ts'),
  mail: () => import('../reports/mail.ts'),
  accounts: () => import('../reports/accounts.ts'),
  events: () => import('../reports/events.ts'),
  rch: () => import('../reports/rch.ts'),
};

interface NamedQuery { name: string; shape: 'rows' | 'one' | 'setup'; sql: string }

/**
 * Splits a report's SQL file into named queries. Each starts with a line `-- name: <key>`,
 * optionally followed by `one` when the query returns a single row (or none: null), or by `setup`
 * for statements whose result is no part of the report (a temp table the later queries share, so
 * that an expensive view is computed once, not once per query).
 */
export function parseNamedQueries(text: string, origin: string): NamedQuery[] {
  const queries: NamedQuery[] = [];
  for (const line of text.split('\n')) {
    const m = /^--\s*name:\s*([a-z_]+)(?:\s+(one|setup))?\s*$/.exec(line);
    if (m) queries.push({ name: m[1]!, shape: (m[2] as 'one' | 'setup' | undefined) ?? 'rows', sql: '' });
    else if (queries.length) queries[queries.length - 1]!.sql += `${line}\n`;
  }
  if (queries.length === 0) throw new Error(`${origin} has no "-- name:" queries`);
  return queries;
}

/** The SET VARIABLE statement giving a report's SQL its options (NULL where not given). */
export function reportVariables(options: ReportOptions): string {
  const ts = (d: Date | undefined) => (d ? `TIMESTAMP ${sqlString(d.toISOString().replace('T', ' ').replace('Z', ''))}` : 'NULL::TIMESTAMP');
  const text = (v: string | undefined) => (v === undefined ? 'NULL::VARCHAR' : sqlString(v));
  return [
    `SET VARIABLE vc_report_since = ${ts(options.since)}`,
    `SET VARIABLE vc_report_until = ${ts(options.until)}`,
    `SET VARIABLE vc_report_by = ${text(options.by)}`,
    `SET VARIABLE vc_report_machine = ${text(options.machine)}`,
  ].join(';\n');
}

export async function runReportQueries(name: string, session: Session, options: ReportOptions = {}): Promise<ReportData> {
  const file = path.join(repoRoot, 'reports', `${name}.sql`);
  const data: ReportData = {};
  await session.query(reportVariables(options));
  const load = REPORTS[name];
  if (load && (await load()).default.healthFactors) await materializeHealthFactors(session);
  for (const q of parseNamedQueries(fs.readFileSync(file, 'utf8'), `reports/${name}.sql`)) {
    try {
      const t0 = performance.now();
      const rows = await session.query(q.sql);
      if (process.env.VC_PROFILE) process.stderr.write(`reports/${name}.sql ${q.name} ${(performance.now() - t0).toFixed(0)} ms\n`);
      if (q.shape !== 'setup') data[q.name] = q.shape === 'one' ? (rows[0] ?? null) : rows;
    } catch (err) {
      throw new Error(`report ${name}, query ${q.name}: ${(err as Error).message}`);
    }
  }
  return data;
}

/** Staleness per source and the warnings every report carries. */
export async function reportContext(session: Session, at: Date, extraWarnings: string[]): Promise<ReportContext> {
  const staleness: Record<string, number | null> = {};
  for (const r of await session.query('SELECT source, staleness_s FROM v1.source_staleness ORDER BY source')) {
    staleness[String(r.source)] = typeof r.staleness_s === 'number' ? Math.round(r.staleness_s) : null;
  }
  const warnings = [...extraWarnings, ...session.warnings,
    ...(await session.query('SELECT warning FROM v1.data_warnings')).map((r) => String(r.warning))];
  return { at, staleness, warnings };
}

const minuteUtc = (d: Date) => `${d.toISOString().slice(0, 16).replace('T', ' ')} UTC`;

/** First line of every Markdown report. */
export const mdHeader = (title: string, ctx: ReportContext) => `# vc ${title} · ${minuteUtc(ctx.at)}\n\n`;

/** Last lines of every Markdown report: how old each source is, and the warnings. */
export function mdFooter(ctx: ReportContext, humanAge: (s: unknown) => string): string {
  const ages = Object.entries(ctx.staleness).map(([s, age]) => `${s} ${age === null ? 'never' : humanAge(age)}`);
  let out = ages.length ? `\nData age: ${ages.join(' · ')}\n` : '';
  for (const w of ctx.warnings) out += `\nWarning: ${w}\n`;
  return out;
}
