// Errors that decide the exit code: UsageError is the user's to fix (exit 2), anything else exits 1.

/** Bad usage or bad config: the message says what to change. Exits 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}

export const errorMessage = (err: unknown) => (err instanceof Error ? err.message : String(err));
