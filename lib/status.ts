// How a collector run ended: what collector_runs stores, `vc collect` prints and the views read.

/**
 * `unreachable`: ssh could not reach the machine (down, key refused, ...), so nothing ran there.
 * `absent`: what the collector reads is not on that machine; nothing is wrong.
 */
export type RunStatus = 'ok' | 'absent' | 'error' | 'timeout' | 'killed' | 'unreachable';

/** A run that did its job: it collected, or found nothing there to collect. */
export const succeeded = (status: string): boolean => status === 'ok' || status === 'absent';
