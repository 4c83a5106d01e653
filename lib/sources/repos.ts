// repos: every git repository under the configured roots, with its branch, working-tree counts,
// ahead/behind against its upstream (from the local tracking ref, never fetched), last commit,
// stashes and remote. One POSIX sh script finds and inspects them on the target, so it works the
// same over ssh; git's output is summarised there (counts, not file lists) to keep it small.
import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import type { CollectorDef } from '../collector.ts';
import type { Config } from '../config.ts';
import { sectionScript, sectionText, type Section } from '../sections.ts';
import { shQuote } from '../shell.ts';

const count = z.number().int().nonnegative().nullable();

export const reposSchema = z.object({
  /** Absolute path of the working tree (the directory holding `.git`). */
  path: z.string().startsWith('/'),
  name: z.string(),
  /** null when HEAD is detached (or unknown). */
  branch: z.string().nullable(),
  /** Commit HEAD points at; null in a repository with no commits. */
  head: z.string().nullable(),
  detached: z.boolean(),
  upstream: z.string().nullable(),
  /** null without an upstream, or when the upstream ref is gone. */
  ahead: count,
  behind: count,
  /** Tracked entries changed in the worktree or the index, unmerged ones included. */
  dirty_files: count,
  staged_files: count,
  /** Untracked entries as `git status` lists them (an untracked directory counts once). */
  untracked_files: count,
  conflicted_files: count,
  /** null when git is too old (< 2.35) to report stashes in porcelain status. */
  stash_count: count,
  last_commit_at: z.iso.datetime().nullable(),
  last_commit_subject: z.string().max(200).nullable(),
  /** remote.origin.url with any user:password@ removed. */
  remote_url: z.string().nullable(),
  /** Why some or all of the fields above are null; null when everything was read. */
  error: z.string().nullable(),
});

export type RepoData = z.infer<typeof reposSchema>;
export type ReposSettings = Config['collectors']['repos'];

const SUBJECT_MAX = 200;
const ERROR_MAX = 300;
/** git prints `# stash N` in porcelain v2 from this version on. */
const STASH_SINCE: readonly [number, number] = [2, 35];

// ---------------------------------------------------------------------------------------------
// Time budget

export interface ReposPlan {
  timeoutSeconds: number;
  /** Limit on each git call, so one broken repository cannot eat the whole run. */
  gitSeconds: number;
  discoverySeconds: number;
  /** No repository is started once this many seconds have passed since the script began. */
  budgetSeconds: number;
}

/** Splits the collector's timeout so the script always ends (and reports) before the harness kills it. */
export function planBudget(timeoutSeconds: number, discoveryTimeoutSeconds: number): ReposPlan {
  const gitSeconds = Math.min(10, Math.max(1, Math.floor(timeoutSeconds / 12)));
  // A repository takes at most three git calls; keep room for the last one plus transfer and parsing.
  const budgetSeconds = Math.max(1, timeoutSeconds - 3 * gitSeconds - 2);
  const discoverySeconds = Math.max(1, Math.min(discoveryTimeoutSeconds, Math.floor(timeoutSeconds / 2)));
  return { timeoutSeconds, gitSeconds, discoverySeconds, budgetSeconds };
}

// ---------------------------------------------------------------------------------------------
// The script

/**
 * A configured root as a sh word. `~`, `~/x` and relative roots are expanded by the target's
 * shell ("$HOME"); the trailing slash makes find follow a root that is a symlink.
 */
export function rootWord(root: string): { word: string; home: boolean } {
  let rel: string | null = null;
  if (root === '~') rel = '';
  else if (root.startsWith('~/')) rel = root.slice(2);
  else if (!root.startsWith('/')) rel = root;
  if (rel === null) return { word: shQuote(`${root.replace(/\/+$/, '')}/`), home: false };
  const r = rel.replace(/^\/+|\/+$/g, '');
  return { word: r === '' ? '"$HOME"/' : `"$HOME"/${shQuote(`${r}/`)}`, home: true };
}

// awk programs run on the target. They avoid single quotes (they are single-quoted in the
// script) and interval expressions (mawk lacks them).

/** find's stderr: a count and the first three lines, printed after find is done. */
const AWK_FIND_ERRORS = `{ n++; if (n <= 3) e[n] = substr($0, 1, 300) }
END { if (n) { print "@errs " n; for (i = 1; i <= n && i <= 3; i++) print "@err " e[i] } }`;

/** find's hits: `.git` becomes its working tree, duplicates (overlapping roots) go, at most max kept. */
const AWK_SELECT = `/^@/ { print; next }
/^\\// { gsub(/\\/\\/+/, "/"); sub(/\\/\\.git$/, ""); if ($0 == "") $0 = "/"
  if (seen[$0]++) next
  if (++k > max) { print "@more"; exit }
  print }`;

/**
 * \`git status --porcelain=v2 --branch\` reduced to its headers and four counts
 * (changed, staged, unmerged, untracked) plus the first line it did not recognise.
 */
const AWK_STATUS = `/^# / { h = h substr($0, 1, 1000) "\\n"; next }
/^[12u] / { xy = substr($0, 3, 2); need = ($1 == "1") ? 9 : (($1 == "2") ? 10 : 11)
  if (xy ~ /^[.MTADRCU][.MTADRCU]$/ && NF >= need) {
    if ($1 == "u") c++; else { d++; if (substr(xy, 1, 1) != ".") s++ }
    next } }
/^[?] / { q++; next }
/^! / { next }
{ b++; if (b == 1) first = substr($0, 1, 200) }
END { printf "\\n%s out %s\\n%s@counts %d %d %d %d\\n", m, n, h, d, s, c, q
  if (b) printf "@bad %d %s\\n", b, first }`;

/** Any other git output: the first 4000 bytes. */
const AWK_KEEP = `{ if (length(t) < 4000) t = t $0 "\\n" }
END { printf "\\n%s out %s\\n%s", m, n, substr(t, 1, 4000) }`;

function prelude(mark: string, plan: ReposPlan): string {
  return `
# A GIT_DIR or GIT_WORK_TREE inherited from the caller would point every git call at one repository.
unset GIT_DIR GIT_WORK_TREE GIT_INDEX_FILE GIT_COMMON_DIR GIT_OBJECT_DIRECTORY GIT_ALTERNATE_OBJECT_DIRECTORIES GIT_NAMESPACE
# Never take index.lock in a repository an agent is working in; never prompt.
GIT_OPTIONAL_LOCKS=0; GIT_TERMINAL_PROMPT=0; export GIT_OPTIONAL_LOCKS GIT_TERMINAL_PROMPT
R='${mark}'
G=${plan.gitSeconds}
NL='
'
if timeout 5 true </dev/null >/dev/null 2>&1; then T=1; else T=0; fi
lim() { s=$1; shift; if [ "$T" = 1 ]; then timeout "$s" "$@"; else "$@"; fi; }
START=$(date +%s 2>/dev/null); case $START in ''|*[!0-9]*) START= ;; esac
AWK_STATUS='${AWK_STATUS}'
AWK_KEEP='${AWK_KEEP}'
exec 3>&1
# gitcall NAME AWKPROG DIR ARGS...: frames git's stderr, its filtered stdout and its exit status.
# The status travels on fd 5 so that stdout can stream through awk without a temp file.
gitcall() {
  n=$1; f=$2; d=$3; shift 3
  printf '\\n%s err %s\\n' "$R" "$n"
  rc=$( { { lim "$G" git --no-optional-locks -C "$d" "$@" </dev/null 2>&3 5>&-; echo "$?" >&5; } | awk -v m="$R" -v n="$n" "$f" >&3; } 5>&1 )
  printf '\\n%s rc %s %s\\n' "$R" "$n" "\${rc:-x}"
}
check() {
  printf '\\n%s repo\\n%s' "$R" "$1"
  gitcall status "$AWK_STATUS" "$1" -c status.showStash=true -c status.aheadBehind=true -c core.fsmonitor=false \\
    status --porcelain=v2 --branch --untracked-files=normal --ignored=no
  [ "$rc" = 0 ] || return 0
  gitcall log "$AWK_KEEP" "$1" log -1 --no-show-signature --no-color --format=%ct%x1f%s
  gitcall url "$AWK_KEEP" "$1" config --get remote.origin.url
}`;
}

function rootsSnippet(roots: readonly string[]): string {
  const lines = roots.map((root, i) => {
    const { word, home } = rootWord(root);
    const test = home ? `[ -n "$HOME" ] && [ -d ${word} ]` : `[ -d ${word} ]`;
    return `if ${test}; then set -- "$@" ${word}; else echo 'missing ${i}'; fi`;
  });
  return ['set --', ...lines].join('\n');
}

function discoverSnippet(settings: ReposSettings, plan: ReposPlan): string {
  // Names with a newline are pruned: the path list is newline-separated.
  const excludes = settings.exclude.map((name) => `-name ${shQuote(name)}`).join(' -o ');
  const prune = excludes ? `\\( -name "*$NL*" -o -type d \\( ${excludes} \\) \\)` : `-name "*$NL*"`;
  // A repository at depth max_depth below a root has its .git one level deeper.
  const find = `lim ${plan.discoverySeconds} find "$@" -maxdepth ${settings.max_depth + 1} ${prune} -prune -o -name .git \\( -type d -o -type f \\) -print -prune </dev/null`;
  return `[ "$HAVE_GIT" = 1 ] || exit 0
REPOS=
if [ $# -gt 0 ]; then
  REPOS=$( { { ${find}; echo "@rc $?"; } 2>&1 >&4 | awk '${AWK_FIND_ERRORS}'; } 4>&1 | awk -v max=${settings.max_repos} '${AWK_SELECT}' )
fi
printf '%s\\n' "$REPOS"`;
}

function reposSnippet(plan: ReposPlan): string {
  return `printf '%s\\n' "$REPOS" | while IFS= read -r p; do
  case $p in /*) ;; *) continue ;; esac
  if [ -n "$START" ] && [ $(( $(date +%s) - START )) -ge ${plan.budgetSeconds} ]; then printf '\\n%s stop\\n' "$R"; break; fi
  check "$p"
done`;
}

export interface ReposScript {
  script: string;
  /** The per-run marker framing each repository's record inside the `repos` section. */
  mark: string;
  parse(stdout: string): Map<string, Section>;
}

export function buildReposScript(settings: ReposSettings, plan: ReposPlan): ReposScript {
  const mark = `@@vcr-${randomBytes(8).toString('hex')}@@`;
  const built = sectionScript([
    ['env', `printf 'timeout %s\\n' "$T"
if command -v git >/dev/null 2>&1; then HAVE_GIT=1; lim "$G" git --version </dev/null 2>/dev/null | sed -n 1p; else HAVE_GIT=0; echo nogit; fi`],
    ['roots', rootsSnippet(settings.roots)],
    ['discover', discoverSnippet(settings, plan)],
    ['repos', reposSnippet(plan)],
  ], prelude(mark, plan));
  return { script: built.script, mark, parse: built.parse };
}

// ---------------------------------------------------------------------------------------------
// Parsing

export interface EnvInfo {
  haveTimeout: boolean;
  /** [major, minor] of the target's git, or null when it did not say. */
  gitVersion: [number, number] | null;
}

export function parseEnv(text: string): EnvInfo {
  const lines = text.split('\n');
  if (lines.includes('nogit')) throw new Error('git is not installed (not found on PATH)');
  const v = /^git version (\d+)\.(\d+)/m.exec(text);
  return { haveTimeout: lines.includes('timeout 1'), gitVersion: v ? [Number(v[1]), Number(v[2])] : null };
}

export interface Discovery {
  paths: string[];
  /** find's exit status; null when it was not run or its status was cut off with the list. */
  findStatus: number | null;
  truncated: boolean;
  findErrors: number;
  findErrorSamples: string[];
}

export function parseDiscovery(text: string): Discovery {
  const out: Discovery = { paths: [], findStatus: null, truncated: false, findErrors: 0, findErrorSamples: [] };
  for (const line of text.split('\n')) {
    if (line.startsWith('/')) out.paths.push(line);
    else if (line === '@more') out.truncated = true;
    else if (/^@rc \d+$/.test(line)) out.findStatus = Number(line.slice(4));
    else if (/^@errs \d+$/.test(line)) out.findErrors = Number(line.slice(6));
    else if (line.startsWith('@err ')) out.findErrorSamples.push(line.slice(5));
  }
  return out;
}

export interface GitCall {
  rc: number | null;
  stdout: string;
  stderr: string;
}

export interface RepoRecord {
  path: string;
  calls: Map<string, GitCall>;
}

export interface RepoRecords {
  records: RepoRecord[];
  /** The script stopped starting repositories because its time budget ran out. */
  stopped: boolean;
}

const escapeRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** Splits the `repos` section into one record per repository, by the per-run marker. */
export function parseRepoRecords(text: string, mark: string): RepoRecords {
  const marker = new RegExp(`\\n${escapeRe(mark)} (repo|err|out|rc|stop)(?: ([a-z]+))?(?: (\\d+|x))?\\n`, 'g');
  const records: RepoRecord[] = [];
  let stopped = false;
  let current: RepoRecord | undefined;
  let field: { call: GitCall; part: 'stderr' | 'stdout' } | 'path' | null = null;
  let from = 0;
  const body = `\n${text}`;
  const close = (to: number) => {
    const chunk = body.slice(from, to);
    if (field === 'path' && current) current.path = chunk;
    else if (field && field !== 'path') field.call[field.part] = chunk;
  };
  for (const m of body.matchAll(marker)) {
    close(m.index);
    from = m.index + m[0].length;
    const [, what, name, rc] = m;
    field = null;
    if (what === 'stop') stopped = true;
    else if (what === 'repo') {
      current = { path: '', calls: new Map() };
      records.push(current);
      field = 'path';
    } else if (current && name) {
      const call = current.calls.get(name) ?? { rc: null, stdout: '', stderr: '' };
      current.calls.set(name, call);
      if (what === 'err') field = { call, part: 'stderr' };
      else if (what === 'out') field = { call, part: 'stdout' };
      else call.rc = rc !== undefined && rc !== 'x' ? Number(rc) : null;
    }
  }
  close(body.length);
  return { records, stopped };
}

export interface StatusInfo {
  head: string | null;
  branch: string | null;
  detached: boolean;
  upstream: string | null;
  ahead: number | null;
  behind: number | null;
  /** As printed; null when git printed no stash line (meaning 0 on git >= 2.35). */
  stash: number | null;
  changed: number;
  staged: number;
  conflicted: number;
  untracked: number;
}

/** Parses the summary of `git status --porcelain=v2 --branch` made on the target; throws if it is malformed. */
export function parseStatusSummary(text: string): StatusInfo {
  const info: Partial<StatusInfo> & { stash: number | null } = { upstream: null, ahead: null, behind: null, stash: null };
  let counts: number[] | null = null;
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const bad = /^@bad (\d+) (.*)$/s.exec(line);
    if (bad) throw new Error(`${bad[1]} unrecognised line(s), first: ${JSON.stringify(bad[2]!.slice(0, 120))}`);
    const c = /^@counts (\d+) (\d+) (\d+) (\d+)$/.exec(line);
    if (c) { counts = c.slice(1).map(Number); continue; }
    const h = /^# (\S+)(?: (.*))?$/.exec(line);
    if (!h) throw new Error(`unexpected line ${JSON.stringify(line.slice(0, 120))}`);
    readHeader(info, h[1]!, h[2] ?? '');
  }
  if (info.head === undefined || info.branch === undefined) throw new Error('no branch.oid/branch.head header');
  if (!counts) throw new Error('no entry counts');
  const [changed, staged, conflicted, untracked] = counts as [number, number, number, number];
  return { ...(info as StatusInfo), changed, staged, conflicted, untracked };
}

function readHeader(info: Partial<StatusInfo>, name: string, value: string): void {
  const fail = () => { throw new Error(`malformed header "# ${name} ${value.slice(0, 80)}"`); };
  switch (name) {
    case 'branch.oid':
      if (value === '(initial)') info.head = null;
      else if (/^[0-9a-f]{40}([0-9a-f]{24})?$/.test(value)) info.head = value;
      else fail();
      break;
    case 'branch.head':
      if (value === '') fail();
      info.detached = value === '(detached)';
      info.branch = info.detached ? null : value;
      break;
    case 'branch.upstream':
      if (value === '') fail();
      info.upstream = value;
      break;
    case 'branch.ab': {
      const ab = /^\+(\d+) -(\d+)$/.exec(value);
      if (!ab) fail();
      info.ahead = Number(ab![1]);
      info.behind = Number(ab![2]);
      break;
    }
    case 'stash':
      if (!/^\d+$/.test(value)) fail();
      info.stash = Number(value);
      break;
    default: // newer git may add headers; they do not change the counts
  }
}

/** Parses `git log -1 --format=%ct%x1f%s`. */
export function parseLastCommit(text: string): { at: string; subject: string } {
  const line = text.replace(/\n$/, '');
  const m = /^(\d{1,12})\x1f([^\n]*)$/.exec(line);
  if (!m) throw new Error(`unexpected output ${JSON.stringify(line.slice(0, 80))}`);
  return { at: new Date(Number(m[1]) * 1000).toISOString(), subject: truncate(m[2]!, SUBJECT_MAX) };
}

/** Cuts to n UTF-16 units without leaving half a surrogate pair. */
function truncate(s: string, n: number): string {
  if (s.length <= n) return s;
  const cut = s.slice(0, n);
  return /[\uD800-\uDBFF]$/.test(cut) ? cut.slice(0, -1) : cut;
}

/**
 * Removes credentials from a remote URL: the whole user-info of a scheme://… URL (a token is often
 * the user name), except a plain user name on ssh; a password in scp-like user:pw@host:path.
 */
export function redactUrl(url: string): string {
  const m = /^([A-Za-z][A-Za-z0-9+.-]*:\/\/)([^/?#]*)@(.*)$/s.exec(url);
  if (m) {
    const [, scheme, userinfo, rest] = m;
    const keepUser = /ssh/i.test(scheme!) && !userinfo!.includes(':');
    return keepUser ? url : `${scheme}${rest}`;
  }
  const scp = /^([^/@:]*):[^/@]*@([^/]*:.*)$/s.exec(url);
  return scp ? `${scp[1]}@${scp[2]}` : url;
}

const atLeast = (v: [number, number] | null, min: readonly [number, number]) =>
  v !== null && (v[0] > min[0] || (v[0] === min[0] && v[1] >= min[1]));

/** Why a git call did not succeed, in one line; null when it did. */
function callFailure(what: string, call: GitCall | undefined, env: EnvInfo, plan: ReposPlan): string | null {
  if (!call || call.rc === null) return `${what} did not report an exit status`;
  if (call.rc === 0) return null;
  if (env.haveTimeout && (call.rc === 124 || call.rc === 137)) return `${what} timed out after ${plan.gitSeconds}s`;
  const lines = call.stderr.split('\n').map((l) => l.trim()).filter(Boolean);
  const reason = lines.find((l) => /^(fatal|error):/.test(l)) ?? lines[0] ?? '';
  return truncate(`${what} exited with ${call.rc}${reason ? `: ${reason}` : ''}`, ERROR_MAX);
}

function blankRepo(path: string): RepoData {
  return {
    path, name: path.split('/').filter(Boolean).pop() ?? '/', branch: null, head: null, detached: false,
    upstream: null, ahead: null, behind: null, dirty_files: null, staged_files: null, untracked_files: null,
    conflicted_files: null, stash_count: null, last_commit_at: null, last_commit_subject: null,
    remote_url: null, error: null,
  };
}

/** One repository's item from its record. Never throws: what cannot be read becomes `error`. */
export function repoFromRecord(record: RepoRecord, env: EnvInfo, plan: ReposPlan): RepoData {
  const repo = blankRepo(record.path);
  const statusCall = record.calls.get('status');
  const failed = callFailure('git status', statusCall, env, plan);
  if (failed) return { ...repo, error: failed };
  let st: StatusInfo;
  try {
    st = parseStatusSummary(statusCall!.stdout);
  } catch (err) {
    return { ...repo, error: truncate(`git status printed unexpected output: ${(err as Error).message}`, ERROR_MAX) };
  }
  const errors: string[] = [];
  Object.assign(repo, {
    branch: st.branch, head: st.head, detached: st.detached, upstream: st.upstream, ahead: st.ahead, behind: st.behind,
    dirty_files: st.changed + st.conflicted, staged_files: st.staged, untracked_files: st.untracked,
    conflicted_files: st.conflicted, stash_count: st.stash ?? (atLeast(env.gitVersion, STASH_SINCE) ? 0 : null),
  });
  if (st.head !== null) { // a repository with no commits has no last commit: not an error
    const logCall = record.calls.get('log');
    const logFailed = callFailure('git log', logCall, env, plan);
    if (logFailed) errors.push(logFailed);
    else {
      try {
        const c = parseLastCommit(logCall!.stdout);
        repo.last_commit_at = c.at;
        repo.last_commit_subject = c.subject;
      } catch (err) {
        errors.push(`git log printed ${(err as Error).message}`);
      }
    }
  }
  const urlCall = record.calls.get('url');
  if (urlCall?.rc === 0) repo.remote_url = redactUrl(urlCall.stdout.replace(/\n$/, '')) || null;
  else if (urlCall?.rc !== 1) errors.push(callFailure('git config', urlCall, env, plan) ?? 'git config failed'); // 1: no origin
  repo.error = errors.length ? truncate(errors.join('; '), ERROR_MAX) : null;
  return repo;
}

export interface ReposResult {
  repos: RepoData[];
  warnings: string[];
}

/** Turns the script's sections into items and warnings; throws only when the output is unusable. */
export function parseReposOutput(sections: Map<string, Section>, mark: string, settings: ReposSettings, plan: ReposPlan): ReposResult {
  const env = parseEnv(sectionText(sections, 'env'));
  const warnings: string[] = [];
  if (!env.haveTimeout) warnings.push('timeout(1) is not available on the target: discovery and git calls are bounded only by the collector timeout');
  for (const m of sectionText(sections, 'roots').matchAll(/^missing (\d+)$/gm)) {
    warnings.push(`root ${JSON.stringify(settings.roots[Number(m[1])])} does not exist or is not a directory; skipped`);
  }
  const found = parseDiscovery(sectionText(sections, 'discover'));
  warnings.push(...discoveryWarnings(found, settings, plan, env));
  const { records, stopped } = parseRepoRecords(sectionText(sections, 'repos'), mark);
  if (sections.get('repos')?.rc === null) throw new Error('the script stopped in the middle of the repository checks');
  if (stopped || records.length < found.paths.length) {
    warnings.push(`checked ${records.length} of ${found.paths.length} repositories: no new repository is started after ${plan.budgetSeconds}s, to finish within the collector's timeout_seconds=${plan.timeoutSeconds}`);
  }
  const repos = records.map((r) => repoFromRecord(r, env, plan));
  const failed = repos.filter((r) => r.error !== null);
  if (failed.length) warnings.push(`${failed.length} of ${repos.length} repositories could not be read fully, e.g. ${failed[0]!.path}: ${failed[0]!.error}`);
  return { repos, warnings };
}

function discoveryWarnings(found: Discovery, settings: ReposSettings, plan: ReposPlan, env: EnvInfo): string[] {
  const out: string[] = [];
  if (found.truncated) out.push(`found more than max_repos=${settings.max_repos} repositories; reporting the first ${settings.max_repos}`);
  if (env.haveTimeout && found.findStatus === 124) {
    const capped = plan.discoverySeconds < settings.discovery_timeout_seconds ? ` (discovery_timeout_seconds=${settings.discovery_timeout_seconds}, capped at half the collector timeout)` : '';
    out.push(`repository discovery was cut short by discovery_timeout_seconds after ${plan.discoverySeconds}s${capped}; found ${found.paths.length}, others may be missing`);
  } else if (found.findErrors > 0) {
    out.push(`find could not read ${found.findErrors} path(s) under the roots, e.g. ${found.findErrorSamples[0] ?? '?'}`);
  } else if (found.findStatus !== null && found.findStatus !== 0) {
    out.push(`find exited with ${found.findStatus}; the repository list may be incomplete`);
  }
  return out;
}

export const reposCollector: CollectorDef = {
  name: 'repos', // description, interval (600 s) and timeout (60 s) defaults: lib/catalog.ts
  version: '1.0.0',
  schemaVersion: 1,
  schema: reposSchema,
  async collect(ctx) {
    const settings = ctx.config.collectors.repos;
    const plan = planBudget(ctx.limits.timeoutMs / 1000, settings.discovery_timeout_seconds);
    const built = buildReposScript(settings, plan);
    const r = await ctx.run('repos scan', built.script);
    const { repos, warnings } = parseReposOutput(built.parse(r.stdout), built.mark, settings, plan);
    for (const w of warnings) ctx.warn(w);
    return { items: repos.map((data) => ({ key: data.path, kind: 'snapshot' as const, data })) };
  },
};
