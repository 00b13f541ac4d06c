/**
 * Two delivery queues keep one slow receiver from delaying everyone else's deliveries:
 * - the fast lane (`deliverWebhook`): every webhook starts here; a request gets
 *   `FAST_LANE_DEADLINE_MS` to be answered;
 * - the slow lane (`deliverWebhookSlow`): its own, smaller dispatch budget and the full
 *   `DELIVERY_TIMEOUT_MS`.
 * A fast-lane request that is not answered in time is cut off, not counted as an attempt, and
 * sent again at once in the slow lane (the receiver may see that first request twice, with the
 * same `webhook-id`); the webhook is marked slow for `SLOW_LANE_SECONDS`, so its next
 * deliveries are enqueued there directly, and a fast-lane task that finds it marked moves over
 * without sending. A receiver that hangs or answers after seconds thus holds fast-lane dispatch
 * slots for at most one deadline each, once, instead of every delivery's full timeout.
 */
export type Lane = "fast" | "slow";

export const SLOW_LANE_SECONDS = 600;

export function isSlow(slowUntilMs: number | null | undefined, nowMs: number): boolean {
  return typeof slowUntilMs === "number" && slowUntilMs > nowMs;
}

/** The request deadline of an attempt in `lane`: the fast lane's cut-off only where it is shorter. */
export function laneDeadlineMs(lane: Lane, config: { deliveryTimeoutMs: number; fastLaneDeadlineMs: number }): number {
  return lane === "fast" ? Math.min(config.deliveryTimeoutMs, config.fastLaneDeadlineMs) : config.deliveryTimeoutMs;
}

/** A fast-lane request cut off by the fast lane's own deadline (not the overall one): moved, not failed. */
export function cutByFastLane(lane: Lane, error: string | null, config: { deliveryTimeoutMs: number; fastLaneDeadlineMs: number }): boolean {
  return lane === "fast" && error === "timeout" && config.fastLaneDeadlineMs < config.deliveryTimeoutMs;
}

/** A fast-lane attempt that used up the fast lane's deadline (cut off, or a status and then a trickle). */
export function tooSlowForFastLane(durationMs: number, config: { deliveryTimeoutMs: number; fastLaneDeadlineMs: number }): boolean {
  return config.fastLaneDeadlineMs < config.deliveryTimeoutMs && durationMs >= config.fastLaneDeadlineMs - 50;
}
