// Incremental reading of text files on a target: each run reads only the bytes appended since the
// last one, as whole lines, in one POSIX sh script (locally or over ssh), and returns the lines
// plus a cursor per file for the next run. Rotation (rename + new file), truncation (copytruncate,
// rewrite in place) and deletion are detected and reported, not guessed around.
//
// Bytes are bytes: the script sends file contents base64- (or, without base64, od-) encoded, so
// offsets count the file's bytes whatever it holds (multi-byte UTF-8, NULs, invalid UTF-8), and
// nothing a file contains can break the output's framing.
//
// Use: const t = buildTailScript({ trees: [{ root: '~/.claude/projects', name: '*.jsonl' }], cursors });
//      const r = await ctx.run('read session logs', t.script);
//      const res = t.parse(r.stdout);   // res.files[].lines; save res.cursors after appending
//
// Limits: tree listings do not follow symbolic links (find -type f). A rotated file is looked for
// only in its own directory, by inode; once it is read to its end the new file is read instead
// (lines a writer still adds to the old one after that are not read). A tree pattern that also
// matches rotated names (x.log.1) makes them new files, read again from 0 (dedup absorbs that).
import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { sectionScript, sectionText } from './sections.ts';
import { shPath, shQuote } from './shell.ts';

/** Where reading of one file stands. */
export interface FileCursor {
  path: string;
  /** Inode of the file being read (while a rotated file is finished: the old file's inode). */
  inode: number;
  /** The file's size when it was last looked at. */
  size: number;
  /** Bytes consumed so far; at a line boundary, except while an over-long line is being skipped. */
  offset: number;
  /** Hex of the (up to 32) bytes just before `offset`: a file rewritten in place does not match. */
  tail?: string;
  /** Bytes of an over-long line skipped so far (offset is inside that line until its newline). */
  skipping?: number;
  /** The path was rotated away and this cursor finishes the old file (found in the same directory). */
  finishing?: boolean;
}

/** Cursors by path: what a tail-reading collector saves as its cursor. */
export type TailCursors = Record<string, FileCursor>;

/** Every regular file under `root` whose name matches `name` (find ROOT -maxdepth D -name NAME -type f). */
export interface TailTree {
  /** Absolute, or `~/...` (the target user's home). */
  root: string;
  /** A find(1) -name pattern, e.g. `*.jsonl`. */
  name: string;
  /** Levels below root to look (1: files directly in root); default unlimited. */
  maxDepth?: number;
}

export interface TailLimits {
  /** Lines longer than this (newline excluded) are skipped whole with a warning. */
  maxLineBytes: number;
  /** At most this many new bytes of one file per run; must exceed maxLineBytes. */
  maxBytesPerFile: number;
  /**
   * At most this many new bytes of all files per run; at least maxBytesPerFile. A target without
   * base64 sends od's hex, 2.3x larger: it reads 7/16 of this (but at least maxBytesPerFile).
   */
  maxBytesTotal: number;
  /** At most this many files read per run (each costs a process or two on the target). */
  maxFilesPerRun: number;
}

/**
 * Defaults: 1 MiB lines, 4 MiB per file, 11 MiB and 500 files per run: within the default 16 MiB
 * output cap (tailLimitsWithin). Each run has a fixed cost (a script, a listing, a commit), so a
 * long history is read in as few runs as the cap allows.
 */
export const DEFAULT_TAIL_LIMITS: TailLimits = { maxLineBytes: 1 << 20, maxBytesPerFile: 4 << 20, maxBytesTotal: 11 << 20, maxFilesPerRun: 500 };

/** Output bytes per file byte, with room for the framing: base64 (76-column lines), and od -An -tx1. */
const BASE64_RATIO = 1.4;
const OD_RATIO = 3.2;

export interface TailRequest {
  /** Files to read, absolute or `~/...`. A file that has a cursor is read anyway (see cursors). */
  files?: readonly string[];
  /** Directory trees whose matching files are read; files found there without a cursor are new. */
  trees?: readonly TailTree[];
  /** The previous run's cursors. Every file that has one is looked at (and reported deleted when gone). */
  cursors?: TailCursors;
  limits?: Partial<TailLimits>;
  /**
   * Only lines holding one of these strings are returned; the others are consumed unread, for
   * readers that want few of a file's lines. Where the target's awk can (see VC_AWK), the filtering
   * happens there and only the kept lines are sent.
   */
  lineFilter?: readonly string[];
}

export interface TailLine {
  /** The line without its newline, decoded as UTF-8 (invalid bytes become U+FFFD; NUL stays). */
  text: string;
  /** Inode and byte offset of the line's first byte in the file it was read from. */
  inode: number;
  offset: number;
  /** The line's length in bytes, newline excluded. */
  bytes: number;
}

export type TailEvent =
  /** The file had no cursor: read from its start. */
  | { type: 'new' }
  /**
   * The path now names another file (or none). `oldPath`: where the old file was found in the same
   * directory (its rest is read before the new file), or null when it could not be found (its unread
   * rest, if any, is lost).
   */
  | { type: 'rotated'; oldInode: number; newInode: number | null; oldPath: string | null }
  /** Same file, but shorter than what was consumed (`shrunk`) or rewritten in place (`rewritten`): read again from 0. */
  | { type: 'truncated'; reason: 'shrunk' | 'rewritten'; size: number; offset: number }
  /** The path is gone (and no rotated file is left to finish): its cursor is dropped. */
  | { type: 'deleted' }
  /** A line over maxLineBytes was skipped whole. */
  | { type: 'line_skipped'; inode: number; offset: number; bytes: number };

export interface TailFile {
  path: string;
  /** Complete new lines, in file order (a rotated file's rest before the new file's lines). */
  lines: TailLine[];
  events: TailEvent[];
  /** The cursor to save, or null when the file is gone (or was never there). */
  cursor: FileCursor | null;
  /** Bytes remain that this run did not read (a limit was reached): the next run goes on. */
  more: boolean;
  /**
   * A last line still without its newline, when this run read to the file's end: held back (not
   * consumed, so it is read again as a whole line once its newline comes), given for readers of
   * files that never end in one (a JSON document).
   */
  pending?: string;
  /** Where `pending` starts in the file. */
  pendingOffset?: number;
}

export interface TailResult {
  files: TailFile[];
  /** The complete cursor map to save once the lines are stored. */
  cursors: TailCursors;
  warnings: string[];
  /** File bytes read this run (before encoding). */
  bytes: number;
  /** Some file, or some new file not yet looked at, has bytes left for a later run. */
  more: boolean;
  /** Tree roots that do not exist (or are not directories) on the target. */
  missingRoots: string[];
  /** Paths refused because their names hold control characters (or are not valid UTF-8). */
  refused: number;
}

export interface TailScript {
  script: string;
  parse(stdout: string): TailResult;
}

const FINGERPRINT = 32;

const cursorSchema = z.object({
  path: z.string(),
  inode: z.number().int().nonnegative(),
  size: z.number().int().nonnegative(),
  offset: z.number().int().nonnegative(),
  tail: z.string().regex(/^(?:[0-9a-f]{2})*$/).optional(),
  skipping: z.number().int().nonnegative().optional(),
  finishing: z.boolean().optional(),
});

/**
 * Reads a saved cursor map (ctx.cursor): entries of the wrong shape are dropped, with a warning
 * each (such a file is then read again from its start, and dedup absorbs the repeat).
 */
export function tailCursorsFrom(saved: unknown): { cursors: TailCursors; warnings: string[] } {
  const cursors: TailCursors = {};
  const warnings: string[] = [];
  if (saved === null || saved === undefined) return { cursors, warnings };
  if (typeof saved !== 'object' || Array.isArray(saved)) {
    return { cursors, warnings: ['the saved tail cursor is not an object: every file is read from its start'] };
  }
  for (const [key, value] of Object.entries(saved)) {
    const parsed = cursorSchema.safeParse(value);
    if (parsed.success && parsed.data.path === key) cursors[key] = parsed.data;
    else warnings.push(`dropped a malformed cursor for ${JSON.stringify(key)}: that file is read from its start`);
  }
  return { cursors, warnings };
}

/** Why a path cannot be put in a script, or null if it can. */
function pathProblem(p: string): string | null {
  if (!p.isWellFormed()) return 'is not valid Unicode';
  if (/[\x00-\x1f\x7f]/.test(p)) return 'holds a control character (newline, tab, ...)';
  if (p.includes('\ufffd')) return 'is not valid UTF-8';
  if (!(p.startsWith('/') || p === '~' || p.startsWith('~/'))) return 'is neither absolute nor under ~/';
  return null;
}

const trimRoot = (root: string) => (root === '/' ? '/' : root.replace(/\/+$/, '') || '/');
const joinRoot = (root: string, rel: string) => (root.endsWith('/') ? `${root}${rel}` : `${root}/${rel}`);

function resolveLimits(given: Partial<TailLimits> | undefined): TailLimits {
  const l = { ...DEFAULT_TAIL_LIMITS, ...given };
  for (const [k, v] of Object.entries(l)) {
    if (!Number.isSafeInteger(v) || v < 1) throw new Error(`tail limit ${k} must be a positive integer, got ${v}`);
  }
  // A chunk that ends before the file does must either hold a newline or prove the line too long.
  if (l.maxBytesPerFile <= l.maxLineBytes) throw new Error(`tail limit maxBytesPerFile (${l.maxBytesPerFile}) must exceed maxLineBytes (${l.maxLineBytes})`);
  if (l.maxBytesTotal < l.maxBytesPerFile) throw new Error(`tail limit maxBytesTotal (${l.maxBytesTotal}) must be at least maxBytesPerFile (${l.maxBytesPerFile})`);
  return l;
}

/**
 * Limits whose encoded output fits in `maxOutputBytes` (the exec output cap): the total in base64,
 * and in the od fallback (which reads 7/16 of the total, and at least one file's share, 3.2 output
 * bytes per byte) too. Under a small cap, lines longer than half of what one file may send per run
 * are skipped (a chunk must be able to hold a whole line and more).
 */
export function tailLimitsWithin(maxOutputBytes: number, wanted: Partial<TailLimits> = {}): TailLimits {
  const l = { ...DEFAULT_TAIL_LIMITS, ...wanted };
  const total = Math.min(l.maxBytesTotal, Math.floor(maxOutputBytes / BASE64_RATIO));
  const perFile = Math.min(l.maxBytesPerFile, total, Math.floor(maxOutputBytes / OD_RATIO));
  return resolveLimits({ ...l, maxBytesTotal: total, maxBytesPerFile: perFile, maxLineBytes: Math.min(l.maxLineBytes, Math.floor(perFile / 2)) });
}

// The shell side. The script prints its encoding name, then ONE encoded stream (base64, or od hex
// where base64 is missing) of records, one per line, with file bytes framed by a per-run marker:
//   known IDX | file IDX | found TREE RELPATH   a file's record begins
//   id INODE SIZE | missing                     what the path names now
//   old INODE SIZE PATH | lost                  the cursor's inode found elsewhere in the directory, or not
//   oldend | oldshort                           the old file is finished (oldshort: shorter than the offset)
//   data cur|old FROM K N ALL, bytes, \n END \n K+N bytes from FROM: K already consumed (fingerprint), N new;
//                                              ALL 1: read to the end (more bytes may follow: cut off)
//   defer cur|old                               not read: the run's budget is spent
//   refused TREE | pending N | noroot TREE      tree listing notes
// Per file that changed: one process (cat or tail) when it is read to its end, else tail + head.
// Unchanged known files cost none: their identities come from one batched stat(1); new files
// under a tree get theirs from find -exec stat +.
const PRELUDE = String.raw`
if [ "$(printf ab | base64 2>/dev/null)" = YWI= ]; then VC_ENC=b64; else VC_ENC=hex
  # od's output is 2.3x base64's: read 7/16 as much, but at least one file's share.
  VC_LEFT=$((VC_LEFT / 16 * 7)); [ "$VC_LEFT" -lt "$VC_PER" ] && VC_LEFT=$VC_PER
fi
if [ "$(printf abc | head -c 2 2>/dev/null)" = ab ]; then VC_HC=1; else VC_HC=0; fi
if stat -L -c '%i %s' / >/dev/null 2>&1; then VC_ST=c
elif stat -L -f '%i %z' / >/dev/null 2>&1; then VC_ST=f
else VC_ST=l; fi
vc_enc() { if [ "$VC_ENC" = b64 ]; then base64; else od -An -v -tx1; fi; }
vc_head() { if [ "$VC_HC" = 1 ]; then head -c "$1"; else dd bs=1 count="$1" 2>/dev/null; fi; }
# vc_read FILE FROM COUNT: COUNT bytes of FILE from byte FROM
vc_read() {
  if [ "$2" != 0 ]; then tail -c +$(($2 + 1)) "$1" | vc_head "$3"
  elif [ "$VC_HC" = 1 ]; then head -c "$3" "$1"
  else dd if="$1" bs=1 count="$3"; fi
} 2>/dev/null
vc_stat() {
  case $VC_ST in
    c) stat -L -c '%i %s' "$1" ;;
    f) stat -L -f '%i %z' "$1" ;;
    *) vc_l=$(ls -diL "$1") && vc_s=$(wc -c < "$1") || return 1
       vc_l=${'$'}{vc_l#"${'$'}{vc_l%%[! ]*}"}; printf '%s %s\n' "${'$'}{vc_l%% *}" $vc_s ;;
  esac
} 2>/dev/null
# Batched: "INODE SIZE NAME" per existing file, in argument order; nothing in ls mode.
vc_stats() {
  case $VC_ST in
    c) stat -L -c '%i %s %n' "$@" ;;
    f) stat -L -f '%i %z %N' "$@" ;;
  esac
} 2>/dev/null
# vc_id PATH: prints "id INODE SIZE" and sets VC_INO, VC_SIZE; VC_PRE, if set, is its stat already.
vc_id() {
  VC_INO=; VC_SIZE=
  if [ -f "$1" ]; then
    if [ -n "$VC_PRE" ]; then vc_o=$VC_PRE; else vc_o=$(vc_stat "$1") || vc_o=; fi
    VC_PRE=
    case $vc_o in
      *[!0-9\ ]*|'') ;;
      [0-9]*\ [0-9]*) VC_INO=${'$'}{vc_o%% *}; VC_SIZE=${'$'}{vc_o#* }; printf 'id %s\n' "$vc_o"; return 0 ;;
    esac
  fi
  VC_PRE=; printf 'missing\n'; return 1
}
# vc_chunk cur|old FILE OFFSET SIZE: the new bytes of FILE within the budget, with the bytes just
# before OFFSET (the fingerprint). A chunk that stops short of SIZE is longer than a line may be,
# so it always holds a newline or proves the line too long: every read makes progress.
vc_chunk() {
  vc_av=$(($4 - $3)); [ "$vc_av" -lt 0 ] && vc_av=0
  vc_n=$vc_av; [ "$vc_n" -gt "$VC_PER" ] && vc_n=$VC_PER; [ "$vc_n" -gt "$VC_LEFT" ] && vc_n=$VC_LEFT
  VC_ALL=0
  if { [ "$vc_n" -lt "$vc_av" ] && [ "$vc_n" -le "$VC_LINE" ]; } || { [ "$vc_n" -gt 0 ] && [ "$VC_FILES" -le 0 ]; }; then
    printf 'defer %s\n' "$1"; return 0
  fi
  [ "$vc_n" = "$vc_av" ] && VC_ALL=1
  vc_k=$3; [ "$vc_k" -gt "$VC_K" ] && vc_k=$VC_K
  vc_from=$(($3 - vc_k))
  printf 'data %s %s %s %s %s\n' "$1" "$vc_from" "$vc_k" "$vc_n" "$VC_ALL"
  if [ $((vc_k + vc_n)) -eq 0 ]; then :
  # To the end (the usual case): one process, not two; what the file gained since its stat is cut off by the parser.
  elif [ "$VC_ALL" = 1 ]; then
    if [ "$vc_from" = 0 ]; then cat "$2"; else tail -c +$((vc_from + 1)) "$2"; fi 2>/dev/null
  else vc_read "$2" "$vc_from" $((vc_k + vc_n)); fi
  printf '\n%s\n' "$VC_END"
  VC_LEFT=$((VC_LEFT - vc_n))
  [ "$vc_n" -gt 0 ] && VC_FILES=$((VC_FILES - 1))
  return 0
}
# The fast path, where a request has filter strings (TailRequest.lineFilter) and awk counts bytes,
# keeps NULs and prints big numbers (the probe below): one awk process (VC_AWK) reads every file of
# a manifest on its stdin, one line each:
#   MODE <tab> ID <tab> INODE SIZE OFFSET <tab> PATH
# MODE known|found: it prints the record's head itself ("known ID" or "found ID", and "id INODE
# SIZE"); "-": the shell did; "note": it prints ID as it is. Then, within the run's budget (it
# says "defer cur" for a known file that does not fit, and counts a found one as pending):
#   fdata cur FROM K N        K fingerprint bytes from FROM, then the N new bytes from OFFSET
#   F<k> \n bytes \n          the fingerprint (fewer bytes: the file shrank)
#   L<len> \n bytes \n        a line holding a filter string;  S<n>  n bytes of lines not kept;
#   X<len>                    a line over the cap, not read
#   T<len> \n bytes \n        the (up to 32) bytes before where it stopped
#   E<consumed> <stop>        stop 1: out of budget; 2: OFFSET is not a line start; 3: unreadable
# then the block's end marker. A line not whole within N bytes is not consumed. A file is read
# from its start (skipping what was read) up to VC_SEEK bytes in, else through tail -c. At the end,
# on stderr: the budget left and the files left.
VC_AWK='
function keep(t,  i) { for (i = 1; i <= nf; i++) if (index(t, f[i])) return 1; return 0 }
function last(t, m) { return length(t) > m ? substr(t, length(t) - m + 1) : t }
function q(t) { gsub(/\047/, "\047\\\047\047", t); return "\047" t "\047" }
function push(line, len) { tl = len >= 31 ? substr(line, len - 30) "\n" : last(tl line "\n", 32) }
function rd(path, off, n, lim,   k, from, cmd, pos, end, len, line, s, out, stop, r, fp, on) {
  k = off < K ? off : K; from = off - k
  printf "fdata cur %.0f %.0f %.0f\n", from, k, n
  cmd = ""; pos = 0; s = 0; out = 0; stop = 0; tl = ""; on = off == 0
  if (from > seek) { cmd = "tail -c +" sprintf("%.0f", from + 1) " " q(path) " 2>/dev/null"; pos = from }
  if (on) printf "F0\n\n"
  while ((r = (cmd != "" ? (cmd | getline line) : (getline line < path))) > 0) {
    len = length(line); end = pos + len + 1
    if (!on) {
      if (end > off) { fp = last(tl substr(line, 1, off - pos), k); printf "F%.0f\n%s\n", length(fp), fp; stop = 2; break }
      push(line, len); pos = end
      if (end == off) { on = 1; fp = last(tl, k); printf "F%.0f\n%s\n", length(fp), fp }
      continue
    }
    if (end > off + n) break
    if (len > max) { if (s) { printf "S%.0f\n", s; s = 0 } printf "X%.0f\n", len }
    else if (!keep(line)) s += len + 1
    else {
      if (out + len + 16 > lim) { stop = 1; break }
      if (s) { printf "S%.0f\n", s; s = 0 }
      printf "L%.0f\n%s\n", len, line; out += len + 16
    }
    push(line, len); pos = end
  }
  if (cmd != "") close(cmd); else close(path)
  if (r < 0 && pos == 0 && !(on && off > 0)) stop = 3
  if (!on && stop == 0) printf "F0\n\n"
  if (s) printf "S%.0f\n", s
  if (stop < 2) printf "T%.0f\n%s\n", length(tl), tl
  printf "E%.0f %d\n", (on && pos > off ? pos - off : 0), stop
  printf "\n%s\n", ENVIRON["VC_END"]
  return out
}
BEGIN { FS = "\t"; nf = ENVIRON["VC_NF"] + 0; for (i = 1; i <= nf; i++) f[i] = ENVIRON["VC_F" i]; pending = 0 }
$1 == "note" { print $2; next }
NF < 4 { next }
{
  split($3, a, " "); av = a[2] - a[3]; if (av < 0) av = 0
  lim = per < left ? per : left
  room = av == 0 || (lim > max + 16 && files > 0)
  if ($1 == "found" && !room) { pending++; next }
  if ($1 != "-") printf "%s %s\nid %.0f %.0f\n", $1, $2, a[1], a[2]
  if (!room) { print "defer cur"; next }
  left -= rd($4, a[3], av, lim); if (av > 0) files--
}
END { if (pending) print "pending " pending; printf "%.0f %.0f\n", left, files > "/dev/stderr" }'
VC_FLT=0
if [ "$VC_NF" -gt 0 ] && [ "$(printf 'x\000y\n' | awk '{ printf "%d:%s\n", length($0), $0 }' 2>/dev/null | od -An -tx1 | tr -d ' \n')" = 333a7800790a ] \
  && [ "$(awk 'BEGIN { printf "%.0f", 2 ^ 40 }' 2>/dev/null)" = 1099511627776 ] \
  && [ "$(awk 'BEGIN { print 7 > "/dev/stderr" }' 2>&1)" = 7 ]; then VC_FLT=1; fi
# vc_manifest: VC_AWK over the manifest on stdin; the budget it leaves is the shell's again.
vc_manifest() {
  vc_r=$(awk -v left="$VC_LEFT" -v files="$VC_FILES" -v per="$VC_PER" -v max="$VC_LINE" -v K="$VC_K" -v seek="$VC_SEEK" "$VC_AWK" 2>&1 >&6)
  case $vc_r in [0-9]*\ [0-9]*) VC_LEFT=${'$'}{vc_r%% *}; VC_FILES=${'$'}{vc_r#* } ;; *) VC_LEFT=0 ;; esac
}
# vc_fchunk FILE OFFSET SIZE: one file through VC_AWK (the shell printed its record's head).
vc_fchunk() {
  vc_m=$(printf -- '-\t-\t0 %s %s\t%s' "$3" "$2" "$1")
  vc_manifest <<VC_M
$vc_m
VC_M
}
# vc_cur FILE OFFSET SIZE [SKIPPING]: the new bytes of the file a path names: filtered where that
# works, raw while an over-long line is being skipped (only raw bytes can finish it).
vc_cur() { if [ "$VC_FLT" = 1 ] && [ "${'$'}{4:-0}" = 0 ]; then vc_fchunk "$1" "$2" "$3"; else vc_chunk cur "$1" "$2" "$3"; fi; }
vc_fresh() { if vc_id "$1"; then vc_cur "$1" 0 "$VC_SIZE"; fi; }
# vc_known IDX PATH INODE SIZE OFFSET SKIPPING DIR: a file read before (SIZE: its size then).
vc_known() {
  printf 'known %s\n' "$1"
  vc_has=0
  if vc_id "$2"; then
    if [ "$VC_INO" = "$3" ]; then
      if [ "$VC_SIZE" -lt "$5" ]; then vc_cur "$2" 0 "$VC_SIZE"
      elif [ "$VC_SIZE" = "$4" ] && [ "$VC_SIZE" = "$5" ]; then :
      else vc_cur "$2" "$5" "$VC_SIZE" "$6"; fi
      return 0
    fi
    vc_has=1; vc_nsize=$VC_SIZE
  fi
  # The path is gone or names another file: the old one may have been renamed in its directory.
  vc_old=$(find "$7" -maxdepth 1 -type f -inum "$3" ! -name '*[[:cntrl:]]*' 2>/dev/null | head -n 1)
  if [ -n "$vc_old" ] && vc_o=$(vc_stat "$vc_old") && [ "${'$'}{vc_o%% *}" = "$3" ]; then
    vc_osize=${'$'}{vc_o#* }
    printf 'old %s %s\n' "$vc_o" "$vc_old"
    if [ "$vc_osize" -ge "$5" ]; then
      vc_chunk old "$vc_old" "$5" "$vc_osize"
      [ "$VC_ALL" = 1 ] || return 0
      printf 'oldend\n'
    else
      printf 'oldshort\n'
    fi
  else
    printf 'lost\n'
  fi
  if [ "$vc_has" = 1 ]; then vc_cur "$2" 0 "$vc_nsize"; fi
  return 0
}
# Known files, from stdin: the cursors ("IDX INODE SIZE OFFSET SKIPPING PATH"), a line $1, then
# their batched stats ("INODE SIZE PATH"). Those whose path still names the same file, at the size
# already read to its end, are settled here in one awk (their records go straight out, no shell
# loop); on the fast path, those that only grew are printed for VC_AWK ("M ..."); the others for
# vc_known, with their stat or "- -" ("W ...").
vc_plan() {
  awk -v sep="$1" -v fast="$VC_FLT" '
    !s { if ($0 == sep) { s = 1; next }
         n++; line[n] = $0; p = $0; for (i = 0; i < 5; i++) sub(/^[^ ]* /, "", p)
         if (p == "~") p = ENVIRON["HOME"]; else if (substr(p, 1, 2) == "~/") p = ENVIRON["HOME"] substr(p, 2)
         path[n] = p; next }
    { q = $0; sub(/^[^ ]* [^ ]* /, "", q); st[q] = $1 " " $2 }
    END { for (i = 1; i <= n; i++) {
      split(line[i], a, " ")
      has = path[i] in st; b[1] = b[2] = ""; if (has) split(st[path[i]], b, " ")
      if (has && b[1] == a[2] && b[2] == a[3] && a[3] == a[4]) print "R known " a[1] "\nR id " st[path[i]]
      else if (fast && has && b[1] == a[2] && b[2] + 0 > a[4] + 0 && a[5] == 0) print "M known\t" a[1] "\t" b[1] " " b[2] " " a[4] "\t" path[i]
      else print "W " (has ? st[path[i]] : "- -") " " a[1] " " a[2] " " a[3] " " a[4] " " a[5] " " path[i]
    } }'
}
# vc_walk: the W lines of vc_plan, from fd 3, each through vc_known.
vc_walk() {
  while IFS= read -r vc_e <&3; do
    [ -n "$vc_e" ] || continue
    vc_s1=${'$'}{vc_e%% *}; vc_e=${'$'}{vc_e#* }; vc_s2=${'$'}{vc_e%% *}; vc_e=${'$'}{vc_e#* }
    vc_i=${'$'}{vc_e%% *}; vc_e=${'$'}{vc_e#* }; vc_ino=${'$'}{vc_e%% *}; vc_e=${'$'}{vc_e#* }
    vc_sz=${'$'}{vc_e%% *}; vc_e=${'$'}{vc_e#* }; vc_off=${'$'}{vc_e%% *}; vc_e=${'$'}{vc_e#* }
    vc_sk=${'$'}{vc_e%% *}; vc_p=${'$'}{vc_e#* }
    VC_PRE=; [ "$vc_s1" = - ] || VC_PRE="$vc_s1 $vc_s2"
    vc_d=${'$'}{vc_p%/*}; [ -n "$vc_d" ] || vc_d=/
    vc_known "$vc_i" "$vc_p" "$vc_ino" "$vc_sz" "$vc_off" "$vc_sk" "$vc_d"
  done
}
`;

/**
 * On the fast path a file is read from its start, skipping what was read, when that is at most this
 * far in; further in, a tail -c process is cheaper than reading through.
 */
const SEEK_BYTES = 1 << 20;

/** Paths per stat(1) call: far below any ARG_MAX. */
const STAT_BATCH = 256;

/** Raw bytes: k fingerprint bytes from `from`, then n new ones (more, when read to the end). */
interface Chunk { from: number; k: number; n: number; bytes: Buffer }
/** What the target's filter sent for k + n bytes from `from` (VC_AWK). */
interface FilteredChunk {
  from: number; k: number; n: number;
  /** The k bytes before the new ones (fewer: the file shrank meanwhile). */
  fp: Buffer;
  /** In file order: kept lines, byte counts of lines not kept, lengths of over-long lines. */
  items: Array<{ line: Buffer } | { skip: number } | { long: number }>;
  /** The (up to 32) bytes before where consuming stopped. */
  tail: Buffer;
  /** New bytes consumed (whole lines only). */
  consumed: number;
  /** 0: done; 1: the output budget ran out; 2: the fingerprint does not end at a line start; 3: unreadable. */
  stop: number;
}
type ChunkOrDefer = Chunk | FilteredChunk | 'defer';
const isFiltered = (c: Chunk | FilteredChunk): c is FilteredChunk => 'items' in c;
interface Rec {
  kind: 'known' | 'file' | 'found';
  idx: number;
  /** For `found`: the path relative to the tree root; null if it is not valid UTF-8. */
  rel?: string | null;
  id?: { inode: number; size: number };
  missing?: boolean;
  old?: { inode: number; size: number; path: string | null };
  lost?: boolean;
  oldEnd?: boolean;
  oldShort?: boolean;
  cur?: ChunkOrDefer;
  oldChunk?: Chunk | 'defer';
  /** Every block it announced was terminated: the record can be trusted. */
  complete: boolean;
}

const utf8 = (b: Buffer): string | null => {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(b);
  } catch {
    return null;
  }
};

/** The encoded stream back to bytes; a stream cut short (the script was killed) decodes as far as it goes. */
function decodeStream(text: string): Buffer {
  const nl = text.indexOf('\n');
  const enc = (nl < 0 ? text : text.slice(0, nl)).trim();
  const body = nl < 0 ? '' : text.slice(nl + 1);
  if (enc === 'b64') {
    // One base64 process wrote it all: padding only at its end. The decoder skips line breaks.
    if (!/^[A-Za-z0-9+/\n]*={0,2}\n?$/.test(body)) throw new Error('the tail script\'s output is not valid base64');
    return Buffer.from(body, 'base64');
  }
  if (enc === 'hex') {
    const pairs = body.trim() === '' ? [] : body.trim().split(/\s+/);
    if (!pairs.every((p) => /^[0-9a-f]{2}$/.test(p))) throw new Error('the tail script\'s output is not valid od output');
    return Buffer.from(pairs.join(''), 'hex');
  }
  throw new Error(`the tail script's output starts with ${JSON.stringify(enc.slice(0, 40))}, not an encoding name`);
}

const num = (s: string | undefined) => (s !== undefined && /^\d+$/.test(s) ? Number(s) : NaN);

/** Parses the decoded stream into records. Records the script did not finish are marked incomplete. */
function parseRecords(buf: Buffer, endMark: Buffer, finished: boolean, warnings: string[]): { recs: Rec[]; notes: string[][] } {
  const recs: Rec[] = [];
  const notes: string[][] = [];
  let rec: Rec | null = null;
  let pos = 0;
  const bad = (what: string) => {
    if (rec) rec.complete = false;
    warnings.push(`tail script output: ${what}`);
  };
  while (pos < buf.length) {
    const nl = buf.indexOf(0x0a, pos);
    if (nl < 0) {
      if (rec) rec.complete = false; // a record line cut short
      break;
    }
    const raw = buf.subarray(pos, nl);
    pos = nl + 1;
    if (raw.length === 0) continue;
    // latin1 maps bytes 1:1, so fields can be cut out and turned back into bytes (paths).
    const line = raw.toString('latin1');
    const f = line.split(' ');
    const w = f[0];
    const rest = (n: number) => utf8(Buffer.from(f.slice(n).join(' '), 'latin1'));
    if (w === 'known' || w === 'file') {
      rec = { kind: w, idx: num(f[1]), complete: true };
      recs.push(rec);
    } else if (w === 'found') {
      rec = { kind: 'found', idx: num(f[1]), rel: rest(2), complete: true };
      recs.push(rec);
    } else if (w === 'refused' || w === 'pending' || w === 'noroot') {
      notes.push(f);
    } else if (!rec) {
      bad(`an unexpected line ${JSON.stringify(line.slice(0, 80))}`);
    } else if (w === 'id') {
      rec.id = { inode: num(f[1]), size: num(f[2]) };
      if (Number.isNaN(rec.id.inode) || Number.isNaN(rec.id.size)) bad(`a malformed line ${JSON.stringify(line.slice(0, 80))}`);
    } else if (w === 'missing') rec.missing = true;
    else if (w === 'old') {
      rec.old = { inode: num(f[1]), size: num(f[2]), path: rest(3) };
      if (Number.isNaN(rec.old.inode) || Number.isNaN(rec.old.size)) bad(`a malformed line ${JSON.stringify(line.slice(0, 80))}`);
    } else if (w === 'lost') rec.lost = true;
    else if (w === 'oldend') rec.oldEnd = true;
    else if (w === 'oldshort') rec.oldShort = true;
    else if (w === 'defer' && (f[1] === 'cur' || f[1] === 'old')) {
      if (f[1] === 'cur') rec.cur = 'defer'; else rec.oldChunk = 'defer';
    } else if (w === 'data' && (f[1] === 'cur' || f[1] === 'old')) {
      // The bytes run up to "\n<END>\n"; the newline before the marker is the script's, not the file's.
      const end = buf.indexOf(endMark, pos);
      if (end < 0) {
        rec.complete = false;
        break;
      }
      const bytes = buf.subarray(pos, Math.max(pos, end));
      pos = end + endMark.length;
      const [from, k, n] = [num(f[2]), num(f[3]), num(f[4])];
      // A block read to the file's end may hold what was appended after its stat: that is cut off.
      const toEnd = f[5] === '1';
      if ([from, k, n].some(Number.isNaN)) bad(`a malformed line ${JSON.stringify(line.slice(0, 80))}`);
      else if (bytes.length > k + n && !toEnd) bad(`a block of ${bytes.length} bytes where at most ${k + n} were asked for`);
      else if (f[1] === 'cur') rec.cur = { from, k, n, bytes: bytes.subarray(0, k + n) };
      else rec.oldChunk = { from, k, n, bytes: bytes.subarray(0, k + n) };
    } else if (w === 'fdata' && f[1] === 'cur') {
      const end = buf.indexOf(endMark, pos);
      if (end < 0) {
        rec.complete = false;
        break;
      }
      const block = buf.subarray(pos, Math.max(pos, end));
      pos = end + endMark.length;
      const [from, k, n] = [num(f[2]), num(f[3]), num(f[4])];
      const chunk = [from, k, n].some(Number.isNaN) ? 'a malformed header' : parseFiltered(block, from, k, n);
      if (typeof chunk === 'string') bad(`a filtered block: ${chunk}`);
      else rec.cur = chunk;
    } else bad(`an unexpected line ${JSON.stringify(line.slice(0, 80))}`);
  }
  // The script did not finish: its last record may be cut short.
  if (!finished && rec) rec.complete = false;
  return { recs, notes };
}

/**
 * Reads VC_AWK's output for one file (the grammar is beside VC_AWK), or says what is wrong with it.
 * Every count is checked: the items must add up to what it says it consumed, within n.
 */
function parseFiltered(block: Buffer, from: number, k: number, n: number): FilteredChunk | string {
  const chunk: FilteredChunk = { from, k, n, fp: Buffer.alloc(0), items: [], tail: Buffer.alloc(0), consumed: -1, stop: 0 };
  let pos = 0;
  let sum = 0;
  const take = (len: number): Buffer | null => {
    if (pos + len + 1 > block.length || block[pos + len] !== 0x0a) return null;
    const b = block.subarray(pos, pos + len);
    pos += len + 1;
    return b;
  };
  while (pos < block.length) {
    const nl = block.indexOf(0x0a, pos);
    if (nl < 0) return 'a record cut short';
    const head = block.toString('latin1', pos, nl);
    pos = nl + 1;
    const m = /^([FLSXT])(\d{1,15})$/.exec(head) ?? /^(E)(\d{1,15}) ([0-3])$/.exec(head);
    if (!m) return `an unexpected record ${JSON.stringify(head.slice(0, 40))}`;
    const [, type, count, stop] = m;
    const len = Number(count);
    if (chunk.consumed >= 0) return 'a record after the end';
    if (type === 'F' || type === 'L' || type === 'T') {
      const bytes = take(len);
      if (!bytes) return `a ${type} record whose ${len} bytes are missing`;
      if (type === 'F') chunk.fp = bytes;
      else if (type === 'T') chunk.tail = bytes;
      else { chunk.items.push({ line: bytes }); sum += len + 1; }
    } else if (type === 'S') { chunk.items.push({ skip: len }); sum += len; }
    else if (type === 'X') { chunk.items.push({ long: len }); sum += len + 1; }
    else { chunk.consumed = len; chunk.stop = Number(stop); }
  }
  if (chunk.consumed < 0) return 'no end record';
  if (chunk.consumed !== sum || sum > n) return `its records cover ${sum} bytes, it says ${chunk.consumed}, of ${n}`;
  if (chunk.fp.length > k || chunk.tail.length > FINGERPRINT) return 'an over-long fingerprint';
  return chunk;
}

interface Reading {
  lines: TailLine[];
  events: TailEvent[];
  warnings: string[];
  label: string;
  maxLine: number;
  /** TailRequest.lineFilter, as bytes: raw bytes are filtered here. */
  filter: Buffer[] | null;
}

function lineSkipped(r: Reading, inode: number, start: number, bytes: number): void {
  r.events.push({ type: 'line_skipped', inode, offset: start, bytes });
  r.warnings.push(`${r.label}: skipped a ${bytes}-byte line at byte ${start} (over the ${r.maxLine}-byte line limit)`);
}

/**
 * Splits new bytes into lines. `data` starts at `offset` in the file; `skipping` carries an
 * over-long line in progress. A last partial line is held back (not consumed) unless it is already
 * over the cap (then skipping starts) or the file is `finished` (then it is dropped with a warning).
 */
function consume(r: Reading, inode: number, offset: number, skipping: number, data: Buffer, finished: boolean):
  { offset: number; skipping: number } {
  let pos = 0;
  const skipped = (start: number, bytes: number) => lineSkipped(r, inode, start, bytes);
  if (skipping > 0) {
    const nl = data.indexOf(0x0a);
    if (nl < 0) {
      skipping += data.length;
      pos = data.length;
      if (finished) {
        skipped(offset - (skipping - data.length), skipping);
        skipping = 0;
      }
      return { offset: offset + pos, skipping };
    }
    skipped(offset - skipping, skipping + nl);
    pos = nl + 1;
    skipping = 0;
  }
  // With filters, `hits` holds where each next occurs (-1: nowhere): lines before are not decoded.
  const hits = r.filter?.map((f) => data.indexOf(f, pos)) ?? [];
  const kept = (nl: number) => {
    let any = false;
    hits.forEach((h, i) => {
      if (h >= 0 && h < pos) hits[i] = h = data.indexOf(r.filter![i]!, pos);
      if (h >= 0 && h < nl) any = true;
    });
    return any;
  };
  for (;;) {
    const nl = data.indexOf(0x0a, pos);
    if (nl < 0) break;
    const len = nl - pos;
    if (len > r.maxLine) skipped(offset + pos, len);
    else if (!r.filter || kept(nl)) r.lines.push({ text: data.toString('utf8', pos, nl), inode, offset: offset + pos, bytes: len });
    pos = nl + 1;
  }
  const rest = data.length - pos;
  if (rest > 0) {
    if (finished) {
      if (rest > r.maxLine) skipped(offset + pos, rest);
      else r.warnings.push(`${r.label}: the rotated file ended in a ${rest}-byte line without a newline; it was not read`);
      pos = data.length;
    } else if (rest > r.maxLine) {
      skipping = rest;
      pos = data.length;
    }
  }
  return { offset: offset + pos, skipping };
}

/** Hex of the up to 32 bytes before `offset`, from a chunk covering [chunk.from, ...). */
function fingerprint(chunk: Chunk, offset: number): string {
  const start = Math.max(0, offset - FINGERPRINT);
  return chunk.bytes.subarray(start - chunk.from, offset - chunk.from).toString('hex');
}

/** Do the k bytes read before the cursor's offset match what it consumed last? */
function sameTail(cursor: FileCursor, before: Buffer): boolean {
  if (cursor.tail === undefined || before.length === 0) return true;
  return before.toString('hex') === cursor.tail.slice(-before.length * 2);
}

/** Takes a filtered chunk's lines into the reading and moves the cursor past what it consumed. */
function readFiltered(cursor: FileCursor, chunk: FilteredChunk, r: Reading, result: TailResult): void {
  let at = cursor.offset;
  for (const item of chunk.items) {
    if ('line' in item) {
      r.lines.push({ text: item.line.toString('utf8'), inode: cursor.inode, offset: at, bytes: item.line.length });
      at += item.line.length + 1;
    } else if ('skip' in item) at += item.skip;
    else {
      lineSkipped(r, cursor.inode, at, item.long);
      at += item.long + 1;
    }
  }
  result.bytes += chunk.consumed;
  cursor.offset = at;
  cursor.tail = chunk.tail.toString('hex');
  delete cursor.skipping;
}

export function buildTailScript(req: TailRequest): TailScript {
  const limits = resolveLimits(req.limits);
  const filters = req.lineFilter ?? [];
  for (const f of filters) {
    if (f === '' || /[\n\0]/.test(f) || !f.isWellFormed()) throw new Error(`a tail lineFilter string must be non-empty, without newline or NUL: ${JSON.stringify(f)}`);
  }
  const filter = filters.length ? filters.map((f) => Buffer.from(f)) : null;
  const cursors = req.cursors ?? {};
  const warnings: string[] = [];
  let refused = 0;
  const refuse = (p: string, why: string) => {
    refused++;
    warnings.push(`refused the path ${JSON.stringify(p)}: it ${why}`);
  };

  // Known files: up-to-date ones first (their new lines are the freshest), backlogs after.
  const known: FileCursor[] = [];
  const carried: TailCursors = {};
  for (const [key, c] of Object.entries(cursors)) {
    const why = pathProblem(key);
    if (why) { refuse(key, why); carried[key] = c; continue; }
    known.push({ ...c, path: key });
  }
  known.sort((a, b) => Number(a.offset < a.size) - Number(b.offset < b.size) || (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));

  const fresh: string[] = [];
  for (const p of new Set(req.files ?? [])) {
    const why = pathProblem(p);
    if (why) refuse(p, why);
    else if (!(p in cursors)) fresh.push(p);
  }

  const trees: TailTree[] = [];
  for (const t of req.trees ?? []) {
    const why = pathProblem(t.root)
      ?? (t.name === '' || /[\x00-\x1f\x7f]/.test(t.name) || !t.name.isWellFormed() ? 'has an empty or unusable name pattern' : null)
      ?? (t.maxDepth !== undefined && !(Number.isSafeInteger(t.maxDepth) && t.maxDepth >= 1) ? 'has a maxDepth that is not a positive integer' : null);
    if (why) refuse(t.root, why);
    else trees.push({ ...t, root: trimRoot(t.root) });
  }

  const nonce = randomBytes(8).toString('hex');
  const endMark = `@@vc-tail-${nonce}@@`;
  const delim = `VC_EOF_${nonce}`;
  const parts: string[] = [];

  if (known.length) {
    const stats: string[] = [];
    for (let i = 0; i < known.length; i += STAT_BATCH) stats.push(`vc_stats ${known.slice(i, i + STAT_BATCH).map((c) => shPath(c.path)).join(' ')}`);
    parts.push(
      `vc_st=$(${stats.join('; ')})`,
      `vc_pl=$({ cat <<'${delim}'`,
      ...known.map((c, i) => `${i} ${c.inode} ${c.size} ${c.offset} ${c.skipping ? 1 : 0} ${c.path}`),
      delim,
      `printf '%s\\n%s\\n' ${delim} "$vc_st"; } | vc_plan ${delim})`,
      `printf '%s\\n' "$vc_pl" | awk 'sub(/^R /, "")'`,
      // In this shell, not a pipeline's: the budget they use is gone for what follows.
      `vc_manifest <<VC_M_${nonce}`, `$(printf '%s\\n' "$vc_pl" | awk 'sub(/^M /, "")')`, `VC_M_${nonce}`,
      `vc_walk 3<<VC_W_${nonce}`, `$(printf '%s\\n' "$vc_pl" | awk 'sub(/^W /, "")')`, `VC_W_${nonce}`,
    );
  }
  fresh.forEach((p, i) => parts.push(`printf 'file ${i}\\n'; vc_fresh ${shPath(p)}`));

  if (trees.length) {
    // List matching files (with their stat, batched, where stat can), drop the known ones (paths
    // relative to the root, as find prints them), then read the rest as new files while the
    // budget lasts. Output lines: "TREE ./REL<tab>INODE SIZE" (no stat in ls mode), or "TREE ?"
    // for a path with a control character, which is never printed.
    const taken = new Set([...known.map((c) => c.path), ...fresh]);
    const listings = trees.map((t, i) => {
      const prefix = t.root === '/' ? '/' : `${t.root}/`;
      const rels = [...taken].filter((p) => p.startsWith(prefix)).map((p) => `./${p.slice(prefix.length)}`);
      const depth = t.maxDepth !== undefined ? ` -maxdepth ${t.maxDepth}` : '';
      const find = (action: string) => `find .${depth} -type f -name ${shQuote(t.name)} \\( -path '*[[:cntrl:]]*' -exec printf '?\\n' \\; -o ${action} \\)`;
      return [
        `if [ -d ${shPath(t.root)} ]; then ( cd ${shPath(t.root)} 2>/dev/null && { cat <<'${delim}'`,
        ...rels,
        delim,
        `echo; case $VC_ST in c) ${find("-exec stat -L -c '%i %s %n' {} +")} ;; f) ${find("-exec stat -L -f '%i %z %N' {} +")} ;; *) ${find('-print')} ;; esac 2>/dev/null; } |`,
        `  awk 'k == 0 { if ($0 == "") k = 1; else seen[$0] = 1; next }`,
        `      $0 == "?" { print "${i} ?"; next }`,
        `      { p = $0; s = ""; if (p !~ /^\\.\\//) { s = p; sub(/ \\.\\/.*$/, "", s); p = substr(p, length(s) + 2) }`,
        `        if (!(p in seen)) print "${i} " p "\\t" s }' )`,
        `else printf 'noroot ${i}\\n' >&5; fi`,
      ].join('\n');
    });
    const roots = trees.map((t, i) => `${i}) vc_r=${shPath(t.root)} ;;`).join(' ');
    parts.push(`{
{
${listings.join('\n')}
} | sort | if [ "$VC_FLT" = 1 ] && [ "$VC_ST" != l ]; then
  # The fast path: the new files, with their stats, as the manifest of vc_manifest (refused ones as notes).
  awk '{ t = $0; sub(/ .*/, "", t); x = substr($0, length(t) + 2) }
    x == "?" { print "note\trefused " t; next }
    { rel = x; sub(/\t.*/, "", rel); sub(/^\\.\\//, "", rel); st = substr(x, index(x, "\t") + 1)
      print "found\t" t " " rel "\t" st " 0\t" ENVIRON["VC_R" t] "/" rel }' | vc_manifest
else { vc_p=0; while IFS= read -r vc_line; do
  vc_t=\${vc_line%% *}; vc_x=\${vc_line#* }
  if [ "$vc_x" = '?' ]; then printf 'refused %s\\n' "$vc_t"; continue; fi
  if [ "$VC_LEFT" -le 0 ] || [ "$VC_FILES" -le 0 ]; then
    # The budget is spent: awk counts the rest (and notes refused paths), not this loop line by line.
    awk '$2 == "?" { print "refused " $1; next } { n++ } END { print "pending " n + 1 }'; vc_p=-1; break
  fi
  case $vc_t in ${roots} *) continue ;; esac
  vc_rel=\${vc_x%%\t*}; VC_PRE=\${vc_x#*\t}; vc_rel=\${vc_rel#./}
  printf 'found %s %s\\n' "$vc_t" "$vc_rel"
  vc_fresh "$vc_r/$vc_rel"
done; [ "$vc_p" = -1 ] || printf 'pending 0\\n'; }; fi
} 5>&1`);
  }

  const prelude = `VC_LEFT=${limits.maxBytesTotal}; VC_PER=${limits.maxBytesPerFile}; VC_LINE=${limits.maxLineBytes}; `
    + `VC_FILES=${limits.maxFilesPerRun}; VC_K=${FINGERPRINT}; VC_END=${shQuote(endMark)}\n`
    + `VC_SEEK=${SEEK_BYTES}; export VC_END; VC_NF=${filters.length}; export VC_NF\n`
    + filters.map((f, i) => `VC_F${i + 1}=${shQuote(f)}; export VC_F${i + 1}\n`).join('')
    + trees.map((t, i) => `VC_R${i}=${shPath(t.root)}; export VC_R${i}\n`).join('')
    + PRELUDE;
  // fd 6: the stream itself, for the awk filter inside command substitutions.
  const body = `printf '%s\\n' "$VC_ENC"\n{\nexec 6>&1\n${parts.join('\n')}\n} | vc_enc`;
  const sections = sectionScript([['tail', body]], prelude);

  return {
    script: sections.script,
    parse(stdout: string): TailResult {
      const parsed = sections.parse(stdout);
      const text = sectionText(parsed, 'tail'); // throws a clear error when the script never got there
      const result: TailResult = {
        files: [], cursors: { ...carried }, warnings: [...warnings], bytes: 0, more: false, missingRoots: [], refused,
      };
      const finished = parsed.get('tail')!.rc !== null;
      const { recs, notes } = parseRecords(decodeStream(text), Buffer.from(`\n${endMark}\n`), finished, result.warnings);

      const knownPaths = new Set(known.map((c) => c.path));
      const handled = new Set<number>();
      for (const rec of recs) {
        const label = rec.kind === 'known' ? known[rec.idx]?.path : rec.kind === 'file' ? fresh[rec.idx] : trees[rec.idx]?.root;
        if (label === undefined) {
          result.warnings.push(`tail script output: a record for an unknown ${rec.kind} file ${rec.idx}`);
          continue;
        }
        if (!rec.complete) {
          result.warnings.push(`${label}: the script's output for it is incomplete; it is read again next run`);
          continue;
        }
        if (rec.kind === 'known') {
          const c = known[rec.idx]!;
          if (handled.has(rec.idx)) continue;
          handled.add(rec.idx);
          const file = readKnown(c, rec, limits, filter, result);
          result.files.push(file);
          if (file.cursor) result.cursors[c.path] = file.cursor;
          continue;
        }
        let p: string;
        if (rec.kind === 'file') p = fresh[rec.idx]!;
        else if (typeof rec.rel !== 'string') {
          result.refused++;
          result.warnings.push(`refused a file under ${label}: its name is not valid UTF-8`);
          continue;
        } else p = joinRoot(trees[rec.idx]!.root, rec.rel);
        if (p in result.cursors || knownPaths.has(p)) continue;
        const file = readFresh(p, rec, limits, filter, result);
        result.files.push(file);
        if (file.cursor) result.cursors[p] = file.cursor;
      }
      // A known file the script did not get to keeps its cursor.
      known.forEach((c, i) => {
        if (handled.has(i)) return;
        result.cursors[c.path] = c;
        result.more = true;
      });
      for (const note of notes) {
        const tree = trees[num(note[1])];
        if (note[0] === 'refused') {
          result.refused++;
          result.warnings.push(`refused a file under ${tree?.root ?? '?'}: its path holds a control character (newline, tab, ...)`);
        } else if (note[0] === 'pending' && num(note[1]) > 0) {
          result.more = true;
        } else if (note[0] === 'noroot' && tree) {
          result.missingRoots.push(tree.root);
        }
      }
      if (result.files.some((x) => x.more)) result.more = true;
      return result;
    },
  };
}

/** Reads a path that had no cursor: from its start. */
function readFresh(p: string, rec: Rec, limits: TailLimits, filter: Buffer[] | null, result: TailResult): TailFile {
  const file: TailFile = { path: p, lines: [], events: [], cursor: null, more: false };
  if (!rec.id || rec.missing) return file;
  const r: Reading = { lines: file.lines, events: file.events, warnings: result.warnings, label: p, maxLine: limits.maxLineBytes, filter };
  file.events.push({ type: 'new' });
  const cursor: FileCursor = { path: p, inode: rec.id.inode, size: rec.id.size, offset: 0 };
  readCur(cursor, rec.cur, r, result, file);
  file.cursor = cursor;
  return file;
}

/** Reads a chunk of the file the path names into `cursor` (updated in place). */
function readCur(cursor: FileCursor, chunk: ChunkOrDefer | undefined, r: Reading, result: TailResult, file: TailFile): void {
  if (chunk === 'defer') { file.more = cursor.offset < cursor.size; return; }
  if (!chunk) return;
  if (chunk.from + chunk.k !== cursor.offset) {
    r.warnings.push(`${r.label}: the script read from byte ${chunk.from + chunk.k}, not ${cursor.offset}; reading again next run`);
    file.more = true;
    return;
  }
  if (isFiltered(chunk) && chunk.stop === 3) {
    r.warnings.push(`${r.label}: cannot be read (permissions?): it is tried again next run`);
    return;
  }
  const before = isFiltered(chunk) ? chunk.fp : chunk.bytes.subarray(0, chunk.k);
  if (before.length < chunk.k || !sameTail(cursor, before) || (isFiltered(chunk) && chunk.stop === 2)) {
    file.events.push({ type: 'truncated', reason: 'rewritten', size: cursor.size, offset: cursor.offset });
    r.warnings.push(`${r.label}: the bytes before byte ${cursor.offset} changed (rewritten in place): reading it again from its start`);
    Object.assign(cursor, { offset: 0, tail: '' });
    delete cursor.skipping;
    file.more = cursor.size > 0;
    return;
  }
  if (isFiltered(chunk)) {
    readFiltered(cursor, chunk, r, result);
    file.more = chunk.stop === 1;
    return;
  }
  const data = chunk.bytes.subarray(chunk.k);
  result.bytes += data.length;
  const from = cursor.offset;
  const next = consume(r, cursor.inode, cursor.offset, cursor.skipping ?? 0, data, false);
  cursor.offset = next.offset;
  if (next.skipping > 0) cursor.skipping = next.skipping; else delete cursor.skipping;
  cursor.tail = fingerprint(chunk, cursor.offset);
  file.more = chunk.from + chunk.k + chunk.n < cursor.size;
  if (!file.more && next.skipping === 0 && next.offset < from + data.length) {
    file.pending = data.toString('utf8', next.offset - from);
    file.pendingOffset = next.offset;
  }
}

/** Reads a path that had a cursor: what changed since, and the new bytes. */
function readKnown(c: FileCursor, rec: Rec, limits: TailLimits, filter: Buffer[] | null, result: TailResult): TailFile {
  const file: TailFile = { path: c.path, lines: [], events: [], cursor: null, more: false };
  const r: Reading = { lines: file.lines, events: file.events, warnings: result.warnings, label: c.path, maxLine: limits.maxLineBytes, filter };
  const cursor: FileCursor = { ...c };

  if (rec.id && rec.id.inode === c.inode) {
    if (rec.id.size < c.offset) {
      file.events.push({ type: 'truncated', reason: 'shrunk', size: rec.id.size, offset: c.offset });
      Object.assign(cursor, { offset: 0, tail: '' });
      delete cursor.skipping;
    }
    cursor.size = rec.id.size;
    delete cursor.finishing;
    readCur(cursor, rec.cur, r, result, file);
    file.cursor = cursor;
    return file;
  }

  // The path names another file, or none.
  const newInode = rec.id ? rec.id.inode : null;
  let oldDone = true;
  if (rec.old && rec.old.inode === c.inode) {
    if (!c.finishing) file.events.push({ type: 'rotated', oldInode: c.inode, newInode, oldPath: rec.old.path });
    const chunk = rec.oldChunk;
    cursor.size = rec.old.size;
    cursor.finishing = true;
    if (rec.oldShort) {
      r.warnings.push(`${c.path}: the rotated file ${rec.old.path ?? ''} is shorter than what was read of it; going on with the new file`);
    } else if (chunk === 'defer' || chunk === undefined) {
      oldDone = false;
    } else if (chunk.from + chunk.k !== c.offset || chunk.bytes.length < chunk.k || !sameTail(c, chunk.bytes.subarray(0, chunk.k))) {
      r.warnings.push(`${c.path}: the rotated file ${rec.old.path ?? ''} does not continue where reading stopped; its rest is not read`);
    } else {
      const data = chunk.bytes.subarray(chunk.k);
      result.bytes += data.length;
      const next = consume(r, c.inode, c.offset, c.skipping ?? 0, data, rec.oldEnd === true);
      cursor.offset = next.offset;
      if (next.skipping > 0) cursor.skipping = next.skipping; else delete cursor.skipping;
      cursor.tail = fingerprint(chunk, cursor.offset);
      oldDone = rec.oldEnd === true;
    }
    if (!oldDone) {
      file.more = true;
      file.cursor = cursor;
      return file;
    }
  } else {
    if (c.finishing) {
      // The old file went away while it was being finished.
      r.warnings.push(`${c.path}: the rotated file being finished is gone; its rest is not read`);
    } else if (newInode !== null) {
      file.events.push({ type: 'rotated', oldInode: c.inode, newInode, oldPath: null });
      const known = c.size > c.offset ? ` (at least ${c.size - c.offset} bytes)` : '';
      r.warnings.push(`${c.path}: replaced by another file, and the old one is not in its directory: whatever of it was not read yet${known} is lost`);
    }
  }

  if (newInode === null || !rec.id) {
    file.events.push({ type: 'deleted' });
    return file;
  }
  // The new file the path names, from its start.
  const fresh: FileCursor = { path: c.path, inode: newInode, size: rec.id.size, offset: 0 };
  readCur(fresh, rec.cur, r, result, file);
  if (rec.cur === undefined) file.more = fresh.size > 0;
  file.cursor = fresh;
  return file;
}
