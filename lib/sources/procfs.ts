// /proc/<pid>/stat records, as printed by `cat /proc/[0-9]*/stat` on any Linux machine.

export interface ProcStat {
  pid: number;
  comm: string;
  state: string;
  ppid: number;
  /** CPU time in clock ticks (user + system are separate in the kernel's record). */
  utime: number;
  stime: number;
  /** Start time in clock ticks after boot: with pid, the identity of a process across samples. */
  starttime: number;
  rssPages: number;
}

/**
 * The command name sits in parentheses and may itself contain spaces, parentheses or newlines,
 * so a record runs from "<pid> (" to the last ")" before the next record; fields follow it.
 */
export function parseProcStat(text: string): ProcStat[] {
  const records: string[] = [];
  for (const line of text.split('\n')) {
    if (/^\d+ \(/.test(line) || records.length === 0) records.push(line);
    else records[records.length - 1] += `\n${line}`;
  }
  const out: ProcStat[] = [];
  for (const rec of records) {
    const open = rec.indexOf(' (');
    const close = rec.lastIndexOf(')');
    if (open < 0 || close < open) continue;
    const pid = Number(rec.slice(0, open));
    const f = rec.slice(close + 2).trim().split(/\s+/);
    // Fields after the command, counted from field 3 (state) of proc(5).
    const state = f[0];
    const nums = [f[1], f[11], f[12], f[19], f[21]].map(Number);
    if (!Number.isInteger(pid) || pid <= 0 || !state || nums.some((n) => !Number.isFinite(n) || n < 0)) continue;
    const [ppid, utime, stime, starttime, rssPages] = nums as [number, number, number, number, number];
    out.push({ pid, comm: rec.slice(open + 2, close), state, ppid, utime, stime, starttime, rssPages });
  }
  return out;
}
