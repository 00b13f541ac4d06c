/** Consecutive failed attempts after which a webhook is switched off. */
export const AUTO_DISABLE_AFTER = 10;
/**
 * Failures in a row after which the site is told a webhook is failing (`webhook.failing`): half
 * the streak that switches it off, so with the default schedule about two hours before that.
 */
export const FAILING_STREAK = 5;

export interface WebhookHealth {
  enabled: boolean;
  failCount: number;
  lastStatus: number | string | null;
}

/**
 * What one attempt's outcome writes on its webhook doc, as a blind write (no transaction, no
 * read of the webhook doc), in the same commit as the attempt's record:
 * - `reset`: a success after failures, or with a new status (`failCount` 0, streak cleared).
 * - `fail`: a failure adds its key to `failStreak` and 1 to `failCount` (both or neither); a
 *   410 Gone also switches the webhook off at once.
 * - null: a success that changes nothing (the common case) writes nothing on the webhook.
 */
export type HealthWrite =
  { kind: "reset"; lastStatus: number | string; at: Date } | { kind: "fail"; key: string; lastStatus: number | string; at: Date; gone: boolean };

export function healthWriteFor(
  current: WebhookHealth,
  outcome: { ok: boolean; lastStatus: number | string; gone?: boolean },
  key: string,
  at: Date,
): HealthWrite | null {
  if (outcome.ok) {
    if (!current.enabled || (current.failCount === 0 && current.lastStatus === outcome.lastStatus)) return null;
    return { kind: "reset", lastStatus: outcome.lastStatus, at };
  }
  return { kind: "fail", key, lastStatus: outcome.lastStatus, at, gone: outcome.gone ?? false };
}

/**
 * The key of one failed attempt in `failStreak`: its time first, so the streak tells when it
 * began. Unique per attempt (`m`: a manual retry).
 */
export function failureKey(atMs: number, deliveryId: string, attempt: number, manual = false): string {
  return `${atMs}:${deliveryId}:${attempt}${manual ? "m" : ""}`;
}

export function failureKeyTime(key: string): number {
  const ms = Number(key.slice(0, key.indexOf(":")));
  return Number.isFinite(ms) ? ms : 0;
}

/**
 * After a failure's blind write landed, what its place in the streak (read back) calls for.
 * Appends land in commit order, so the rank is exact without a transaction:
 * - `counted`: within the first `disableAfter - 1` failures, or one of the first `disableAfter`
 *   of a webhook the limit switched off.
 * - `disable`: the limit is reached (rank `disableAfter - 1`, or later if the one at the limit
 *   died before acting): switch off, keep exactly `disableAfter` in the count.
 * - `uncount`: the webhook was already off (the limit, a 410, a user) when this attempt's outcome
 *   arrived: it is taken back out, so the count stops where the webhook was switched off.
 * - `gone`: the streak was reset after this failure (a success, or a re-enable): nothing to do.
 */
export type StreakDecision = "counted" | "disable" | "uncount" | "gone";

export function streakDecision(
  webhook: { enabled: boolean; disabledReason: string | null; failStreak: readonly string[] },
  key: string,
  disableAfter = AUTO_DISABLE_AFTER,
): StreakDecision {
  const rank = webhook.failStreak.indexOf(key);
  if (rank < 0) return "gone";
  if (webhook.enabled) return rank >= disableAfter - 1 ? "disable" : "counted";
  return webhook.disabledReason === "auto" && rank < disableAfter ? "counted" : "uncount";
}

/**
 * At the limit, the streak is checked against the deliveries that succeeded since it began: a
 * success dispatched on a fan-out snapshot taken before the first failure does not reset the
 * webhook doc (it had no reason to), so the keys before it are not consecutive failures.
 */
export function streakAfterSuccess(failStreak: readonly string[], lastSuccessMs: number | null): string[] {
  if (lastSuccessMs === null) return [...failStreak];
  return failStreak.filter((k) => failureKeyTime(k) > lastSuccessMs);
}

export interface HealthUpdate {
  failCount: number;
  lastStatus: number | string;
  lastDeliveryAt: Date;
  enabled?: false;
  disabledReason?: "auto" | "gone";
}

/**
 * The webhook-doc update one outcome calls for, applied in a transaction: only for outcomes an
 * earlier version parked on a delivery doc (`healthPending`) before it was applied. A webhook
 * that is already off is left alone; a success that changes nothing is null.
 */
export function healthAfterAttempt(
  current: WebhookHealth,
  outcome: { ok: boolean; lastStatus: number | string; gone?: boolean },
  nowMs: number,
  disableAfter = AUTO_DISABLE_AFTER,
): HealthUpdate | null {
  if (!current.enabled) return null;
  const lastDeliveryAt = new Date(nowMs);
  if (outcome.ok) {
    if (current.failCount === 0 && current.lastStatus === outcome.lastStatus) return null;
    return { failCount: 0, lastStatus: outcome.lastStatus, lastDeliveryAt };
  }
  const failCount = current.failCount + 1;
  const update: HealthUpdate = { failCount, lastStatus: outcome.lastStatus, lastDeliveryAt };
  if (outcome.gone) {
    update.enabled = false;
    update.disabledReason = "gone";
  } else if (failCount >= disableAfter) {
    update.enabled = false;
    update.disabledReason = "auto";
  }
  return update;
}
