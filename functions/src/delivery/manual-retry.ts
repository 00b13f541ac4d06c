import { attemptOutcome, failureDetail, isSuccess, lastStatusOf, type AttemptResult } from "../domain/attempt-result";
import { hasPendingHealth, type DeliveryStatus } from "../data/webhook-docs";
import { settleFailure, type DeliverDeps } from "./deliver";
import { failureKey, healthWriteFor } from "../domain/webhook-health";
import { missingRoutingKey, sendToWebhook } from "./send-signed";
import { snapshotOf } from "../data/fan-out";

export type ManualRetryResult =
  | { outcome: "not_found" }
  | { outcome: "already_succeeded" }
  | { outcome: "webhook_disabled" }
  /** Recovering only: a pending delivery is left to its schedule. */
  | { outcome: "on_schedule" }
  | { outcome: "unavailable"; reason: "event_expired" | "secret_missing" | "routing_key_missing" | "record_unreadable" }
  | { outcome: "attempted"; status: DeliveryStatus; result: AttemptResult; attempt: number };

type DeliveryContext = Awaited<ReturnType<DeliverDeps["store"]["reads"]["loadDeliveryContext"]>>;

type Sendable = {
  webhook: NonNullable<DeliveryContext["webhook"]>;
  secret: NonNullable<DeliveryContext["secret"]>;
  event: NonNullable<DeliveryContext["event"]>;
};

/** What this delivery is sent with now, or why it is not sent. */
function readyToSend(ctx: DeliveryContext, opts: { missed: boolean; recovering: boolean }): { refused: ManualRetryResult } | Sendable {
  const { webhook, secret, event } = ctx;
  if (!webhook) return { refused: { outcome: "not_found" } };
  // A record there but unreadable: the retry action says not found; a recovery passes it over.
  if (!ctx.delivery && !opts.missed) return { refused: opts.recovering ? { outcome: "unavailable", reason: "record_unreadable" } : { outcome: "not_found" } };
  if (ctx.delivery?.status === "succeeded") return { refused: { outcome: "already_succeeded" } };
  if (opts.recovering && ctx.delivery?.status === "pending") return { refused: { outcome: "on_schedule" } };
  // Off as the fan-out reads it: the host's `paused` and `deletedAt` count as much as `enabled`.
  if (!snapshotOf(webhook, 0).enabled) return { refused: { outcome: "webhook_disabled" } };
  if (!secret) return { refused: { outcome: "unavailable", reason: "secret_missing" } };
  if (!event) return { refused: { outcome: "unavailable", reason: "event_expired" } };
  if (missingRoutingKey(webhook, secret)) return { refused: { outcome: "unavailable", reason: "routing_key_missing" } };
  return { webhook, secret, event };
}

/**
 * The retry action: one attempt now, outside the schedule, for a failed, skipped or pending
 * delivery. A success settles the delivery; a failure leaves a pending delivery on its
 * schedule and a finished one failed. It counts toward the webhook's health like any attempt.
 * `recovering` (pipeline/recover.ts): an event the webhook missed while off has no delivery yet,
 * and this attempt makes its record; a pending delivery is left to its schedule.
 */
export async function retryNow(
  ids: { siteId: string; webhookId: string; deliveryId: string; eventId: string },
  deps: Pick<DeliverDeps, "store" | "send" | "resolve" | "config" | "now" | "log">,
  opts: { recovering?: boolean } = {},
): Promise<ManualRetryResult> {
  let ctx = await deps.store.reads.loadDeliveryContext(ids);
  // Outcomes a crashed handler left behind count before this attempt's.
  if (hasPendingHealth(ctx.delivery)) {
    await deps.store.deliveries.applyPendingHealth(ids);
    ctx = await deps.store.reads.loadDeliveryContext(ids);
  }
  const delivery = ctx.delivery;
  const missed = opts.recovering === true && !ctx.deliveryExists;
  const ready = readyToSend(ctx, { missed, recovering: opts.recovering === true });
  if ("refused" in ready) return ready.refused;
  const { webhook, secret, event } = ready;

  const attempt = Math.max(0, ...(delivery?.attempts ?? []).map((a) => a.attempt)) + 1;
  const sendAt = deps.now();
  const result = await sendToWebhook(
    { webhook, secret },
    { body: event.body, eventId: ids.eventId, eventType: event.type, deliveryId: ids.deliveryId, attempt },
    sendAt,
    deps,
  );
  const now = deps.now();
  const ok = isSuccess(result);
  // A failure keeps a pending delivery on its schedule: the store decides from a fresh read.
  const status: DeliveryStatus = ok ? "succeeded" : "failed";
  const gone = result.kind === "response" && result.status === 410;
  const key = failureKey(now.getTime(), ids.deliveryId, attempt, true);
  const health = healthWriteFor(
    { enabled: webhook.enabled, failCount: webhook.failCount, lastStatus: webhook.lastStatus ?? null },
    { ok, gone, lastStatus: lastStatusOf(result) },
    key,
    now,
  );
  const recorded = await deps.store.deliveries.recordAttempt({
    siteId: ids.siteId,
    webhookId: ids.webhookId,
    ok,
    health,
    hostShape: webhook.hostShape,
    now,
    delivery: {
      id: ids.deliveryId,
      siteId: ids.siteId,
      webhookId: ids.webhookId,
      eventId: ids.eventId,
      eventType: event.type,
      status,
      firstAttempt: missed,
      nextAttempt: null,
      nextAttemptAt: null,
      attempt: {
        attempt,
        at: now,
        // Site members read this record: an outcome word for anything but an HTTP answer.
        ...attemptOutcome(result),
        manual: true,
      },
    },
  });
  let finalStatus = recorded?.status ?? status;
  if (health?.kind === "fail" && !gone) finalStatus = (await settleFailure(deps.store, ids, key, finalStatus, now)).status;
  deps.log.info("delivery.manual_retry", {
    deliveryId: ids.deliveryId,
    webhookId: ids.webhookId,
    siteId: ids.siteId,
    attempt,
    lastStatus: lastStatusOf(result),
    // Why it got no HTTP answer, for operators: the record and the API answer say only the outcome word.
    ...failureDetail(result),
    deliveryStatus: finalStatus,
  });
  return { outcome: "attempted", status: finalStatus, result, attempt };
}
