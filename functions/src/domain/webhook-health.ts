/** Consecutive failed attempts after which a webhook is switched off. */
export const AUTO_DISABLE_AFTER = 10;

/**
 * A webhook doc is read by dashboards and rewritten by deliveries. Firestore sustains about one
 * write per second per document, so a run of successes only refreshes `lastDeliveryAt` this often.
 */
export const LAST_DELIVERY_REFRESH_MS = 60_000;

export interface WebhookHealth {
  enabled: boolean;
  failCount: number;
  lastStatus: number | string | null;
  lastDeliveryAtMs: number | null;
}

export interface HealthUpdate {
  failCount: number;
  lastStatus: number | string;
  lastDeliveryAt: Date;
  enabled?: false;
  disabledReason?: "auto" | "gone";
}

/**
 * The webhook-doc update one attempt's outcome calls for, or null when nothing changes.
 * A webhook that is already disabled (by a user, or by a concurrent attempt reaching the limit)
 * is left alone: its count stops where it was disabled.
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
    const stale =
      current.lastDeliveryAtMs === null || nowMs - current.lastDeliveryAtMs >= LAST_DELIVERY_REFRESH_MS;
    if (current.failCount === 0 && current.lastStatus === outcome.lastStatus && !stale) return null;
    return { failCount: 0, lastStatus: outcome.lastStatus, lastDeliveryAt };
  }
  const failCount = current.failCount + 1;
  const update: HealthUpdate = { failCount, lastStatus: outcome.lastStatus, lastDeliveryAt };
  if (outcome.gone) {
    // 410 Gone: the receiver says the endpoint no longer exists. Stop at once.
    update.enabled = false;
    update.disabledReason = "gone";
  } else if (failCount >= disableAfter) {
    update.enabled = false;
    update.disabledReason = "auto";
  }
  return update;
}
