/** Delay before each attempt, in seconds: attempt 1 at once, then 1 min, 5 min, 30 min, 2 h. */
export const DEFAULT_RETRY_SCHEDULE_SECONDS: readonly number[] = [0, 60, 300, 1800, 7200];

/** Parses "0,60,300" into delays; throws on anything else so bad config fails at start. */
export function parseRetrySchedule(text: string): number[] {
  const parts = text.split(",").map((p) => p.trim());
  const delays = parts.map(Number);
  if (
    parts.length === 0 ||
    parts.length > 20 ||
    delays.some((d, i) => parts[i] === "" || !Number.isInteger(d) || d < 0 || d > 30 * 86400)
  ) {
    throw new Error(
      `retry schedule must be 1-20 comma-separated whole seconds (0 to 30 days), got "${text}"`,
    );
  }
  return delays;
}

/**
 * Seconds to wait before the attempt after `attempt` (1-based), or null when the schedule is
 * exhausted and the delivery has failed for good.
 */
export function nextAttemptDelay(schedule: readonly number[], attempt: number): number | null {
  const delay = schedule[attempt];
  return delay === undefined ? null : delay;
}
