// Words for POSIX sh: anything spliced into a script sent to a machine, a crontab line or a
// command shown to the user goes through here, never raw.

/** Single-quotes a word for POSIX sh: every ' becomes '\''. */
export const shQuote = (s: string): string => `'${s.replaceAll("'", `'\\''`)}'`;

/** A path on a machine as one sh word: `~/x` becomes "$HOME"/'x' (the machine's home, not ours). */
export function shPath(p: string): string {
  if (p === '~') return '"$HOME"';
  if (p.startsWith('~/')) return p.length > 2 ? `"$HOME"/${shQuote(p.slice(2))}` : '"$HOME"/';
  return shQuote(p);
}
