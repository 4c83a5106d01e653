// Words for POSIX sh: anything spliced into a script sent to a machine, a crontab line or a
// command shown to the user goes through here, never raw.

/** Single-quotes a word for POSIX sh: every ' becomes '\''. */
export const shQuote = (s: string): string => `'${s.replaceAll("'", `'\\''`)}'`;
