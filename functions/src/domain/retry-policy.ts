/** Delay before each attempt, in seconds: attempt 1 at once, then 1 min, 5 min, 30 min, 2 h. */
export const DEFAULT_RETRY_SCHEDULE_SECONDS: readonly number[] = [0, 60, 300, 1800, 7200];

/** Parses "0,60,300" into delays; throws on anything else so bad config fails at start. */
export function parseRetrySchedule(text: string): number[] {
  const parts = text.split(",").map((p) => p.trim());
  const delays = parts.map(Number);
  if (parts.length === 0 || parts.length > 20 || delays.some((d, i) => parts[i] === "" || !Number.isInteger(d) || d < 0 || d > 30 * 86400)) {
    throw new Error(`retry schedule must be 1-20 comma-separated whole seconds (0 to 30 days), got "${text}"`);
  }
  return delays;
}

/** Up to this share of each delay is added or removed at random, so retries do not arrive in lockstep. */
export const JITTER_RATIO = 0.1;
/** A receiver's Retry-After is honoured up to this many seconds. */
export const MAX_RETRY_AFTER_SECONDS = 3600;

/**
 * Seconds to wait before the attempt after `attempt` (1-based), or null when the schedule is
 * exhausted and the delivery has failed for good. A receiver's Retry-After can push the next
 * attempt later (never earlier), up to MAX_RETRY_AFTER_SECONDS.
 */
export function nextAttemptDelay(
  schedule: readonly number[],
  attempt: number,
  opts: { retryAfterSeconds?: number | null; random?: () => number } = {},
): number | null {
  const base = schedule[attempt];
  if (base === undefined) return null;
  const random = opts.random ?? Math.random;
  const jittered = Math.max(0, Math.round(base + base * JITTER_RATIO * (random() * 2 - 1)));
  const retryAfter = opts.retryAfterSeconds;
  return retryAfter === null || retryAfter === undefined ? jittered : Math.max(jittered, Math.min(retryAfter, MAX_RETRY_AFTER_SECONDS));
}

/** Retry-After as seconds from `nowMs`: delta-seconds or an HTTP date; null when absent or unreadable. */
export function parseRetryAfter(value: string | undefined, nowMs: number): number | null {
  if (!value) return null;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed);
  const at = Date.parse(trimmed);
  return Number.isNaN(at) ? null : Math.max(0, Math.ceil((at - nowMs) / 1000));
}
