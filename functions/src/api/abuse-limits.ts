/**
 * Per-site ceilings on what the management API does on a caller's behalf, in fixed one-minute
 * windows: beyond them a 429 with `Retry-After`. A test or a probe sends a request to a URL of
 * the caller's choosing, so they are the tightest (a probe must not become a port scanner).
 * Reads are not limited here: put a Cloud Armor or API Gateway rate limit in front of `api`.
 */
export const ABUSE_LIMITS = {
  windowSeconds: 60,
  /** Test actions and probes. */
  sends: 10,
  /** Webhook creates, updates, deletes, state changes, rotations, manual retries. */
  writes: 60,
  /**
   * API key creates and revocations, apart from the webhook changes: members may make read keys
   * and revoke their own, and must not be able to use up the admins' budget for changes.
   */
  keys: 20,
} as const;

export type AbuseBucket = "sends" | "writes" | "keys";

/** Seconds until the window of `nowMs` ends. */
export function secondsLeftInWindow(nowMs: number, windowSeconds = ABUSE_LIMITS.windowSeconds): number {
  const windowMs = windowSeconds * 1000;
  return Math.max(1, Math.ceil((windowMs - (nowMs % windowMs)) / 1000));
}
