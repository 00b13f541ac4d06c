import { isSuccess, lastStatusOf, type AttemptResult } from "../domain/attempt-result";
import { renderBody } from "../domain/destination-formats";
import { activeSecrets } from "../domain/secret-rotation";
import { toSecretSet } from "../data/store";
import type { DeliveryStatus } from "../data/webhook-docs";
import type { DeliverDeps } from "./deliver";
import { sendSigned } from "./send-signed";

export type ManualRetryResult =
  | { outcome: "not_found" }
  | { outcome: "already_succeeded" }
  | { outcome: "webhook_disabled" }
  | { outcome: "unavailable"; reason: "event_expired" | "secret_missing" | "routing_key_missing" }
  | { outcome: "attempted"; status: DeliveryStatus; result: AttemptResult; attempt: number };

/**
 * The retry action: one attempt now, outside the schedule, for a failed, skipped or pending
 * delivery. A success settles the delivery; a failure leaves a pending delivery on its
 * schedule and a finished one failed. It counts toward the webhook's health like any attempt.
 */
export async function retryNow(
  ids: { siteId: string; webhookId: string; deliveryId: string; eventId: string },
  deps: Pick<DeliverDeps, "store" | "send" | "resolve" | "config" | "now" | "log">,
): Promise<ManualRetryResult> {
  const ctx = await deps.store.loadDeliveryContext(ids);
  const delivery = ctx.delivery;
  if (!delivery || !ctx.webhook) return { outcome: "not_found" };
  if (delivery.status === "succeeded") return { outcome: "already_succeeded" };
  if (!ctx.webhook.enabled) return { outcome: "webhook_disabled" };
  if (!ctx.secret) return { outcome: "unavailable", reason: "secret_missing" };
  if (!ctx.event) return { outcome: "unavailable", reason: "event_expired" };
  if (ctx.webhook.format === "pagerduty" && !ctx.secret.routingKey) return { outcome: "unavailable", reason: "routing_key_missing" };

  const attempt = Math.max(0, ...delivery.attempts.map((a) => a.attempt)) + 1;
  const sendAt = deps.now();
  const result = await sendSigned(
    {
      url: ctx.webhook.url,
      method: ctx.webhook.method,
      scheme: ctx.webhook.signatureScheme,
      secrets: activeSecrets(toSecretSet(ctx.secret), sendAt.getTime()),
      body: renderBody(ctx.webhook.format, ctx.event.body, { routingKey: ctx.secret.routingKey }),
      eventId: ids.eventId,
      eventType: ctx.event.type,
      deliveryId: ids.deliveryId,
      attempt,
      custom: ctx.secret.headers,
      at: sendAt,
    },
    deps,
  );
  const now = deps.now();
  const ok = isSuccess(result);
  const stillScheduled = !ok && delivery.status === "pending";
  const status: DeliveryStatus = ok ? "succeeded" : stillScheduled ? "pending" : "failed";
  const recorded = await deps.store.recordAttempt({
    siteId: ids.siteId,
    webhookId: ids.webhookId,
    preloaded: ctx.webhook,
    outcome: { ok, gone: result.kind === "response" && result.status === 410, lastStatus: lastStatusOf(result) },
    now,
    delivery: {
      id: ids.deliveryId,
      siteId: ids.siteId,
      webhookId: ids.webhookId,
      eventId: ids.eventId,
      eventType: ctx.event.type,
      status,
      firstAttempt: false,
      nextAttempt: stillScheduled ? (delivery.nextAttempt ?? null) : null,
      nextAttemptAt: stillScheduled && delivery.nextAttemptAt ? new Date(delivery.nextAttemptAt.toMillis()) : null,
      attempt: {
        attempt,
        at: now,
        status: result.kind === "response" ? result.status : null,
        error: result.kind === "error" ? result.error : null,
        durationMs: result.durationMs,
        responseSnippet: result.kind === "response" ? result.bodySnippet : result.detail,
        manual: true,
      },
    },
  });
  deps.log.info("delivery.manual_retry", {
    deliveryId: ids.deliveryId,
    webhookId: ids.webhookId,
    siteId: ids.siteId,
    attempt,
    lastStatus: lastStatusOf(result),
    deliveryStatus: recorded.status,
  });
  return { outcome: "attempted", status: recorded.status, result, attempt };
}
