import type { PipelineConfig } from "../config";
import { isSuccess, lastStatusOf, type AttemptResult } from "../domain/attempt-result";
import { nextAttemptDelay, parseRetryAfter } from "../domain/retry-policy";
import { hasExpiredSecrets } from "../domain/secret-rotation";
import { toSecretSet, type Store } from "../data/store";
import type { HealthUpdate } from "../domain/webhook-health";
import { hasPendingHealth, type DeliveryStatus } from "../data/webhook-docs";
import type { Log } from "../log";
import type { Sender } from "./http-sender";
import type { Resolver } from "./resolve-destination";
import { holdSeconds } from "../domain/event-order";
import { missingRoutingKey, sendToWebhook } from "./send-signed";
import type { DeliveryTask, Enqueue } from "./task-queue";

export interface DeliverDeps {
  store: Store;
  send: Sender;
  enqueue: Enqueue;
  now: () => Date;
  config: PipelineConfig;
  log: Log;
  resolve: Resolver;
  /** Source of retry jitter; tests pin it. */
  random?: () => number;
}

export type DeliverResult =
  | { outcome: "attempted"; status: DeliveryStatus; result: AttemptResult }
  | { outcome: "duplicate" }
  | { outcome: "held"; seconds: number }
  | { outcome: "skipped"; reason: string };

/**
 * One attempt of one delivery. Receiver failures are recorded outcomes, followed by the next
 * attempt on the retry schedule; infrastructure errors (Firestore, Cloud Tasks) throw so Cloud
 * Tasks retries this same attempt, which is then recognised and not sent twice once recorded.
 */
export async function deliver(task: DeliveryTask, deps: DeliverDeps): Promise<DeliverResult> {
  const { store, log } = deps;
  const ctx = await store.loadDeliveryContext(task);
  let delivery = ctx.delivery;

  // Recorded attempts whose outcome never reached the webhook (a handler failed in between):
  // finish that first, exactly once, before anything else.
  if (hasPendingHealth(delivery)) {
    const applied = await store.applyPendingHealth(task);
    delivery = { ...delivery, status: applied.status };
  }
  if (delivery && delivery.status !== "pending") return { outcome: "duplicate" };
  // A manual retry's attempt (marked `manual`) never stands for a scheduled one of the same number.
  if (delivery?.attempts.some((a) => a.attempt === task.attempt && !a.manual)) {
    // Recorded but perhaps cut off before the next attempt was queued: queue it (idempotent).
    if (delivery.nextAttempt === task.attempt + 1) {
      const dueMs = delivery.nextAttemptAt?.toMillis() ?? 0;
      const delay = Math.max(0, Math.ceil((dueMs - deps.now().getTime()) / 1000));
      await deps.enqueue(attemptTask(task, delivery.nextAttempt), delay);
    }
    return { outcome: "duplicate" };
  }

  const skip = async (reason: string): Promise<DeliverResult> => {
    await store.recordSkipped({ ...task, eventType: ctx.event?.type ?? null }, reason, deps.now(), !ctx.deliveryExists);
    log.info("delivery.skipped", { deliveryId: task.deliveryId, webhookId: task.webhookId, reason });
    return { outcome: "skipped", reason };
  };
  if (!ctx.event) {
    log.error("delivery.event_missing", { deliveryId: task.deliveryId, eventId: task.eventId });
    return skip("event_missing");
  }
  if (!ctx.webhook) return skip("webhook_deleted");
  if (!ctx.webhook.enabled) return skip(ctx.webhook.disabledReason === "paused" ? "webhook_paused" : "webhook_disabled");
  if (!ctx.secret) {
    log.error("delivery.secret_missing", { webhookId: task.webhookId, siteId: task.siteId });
    return skip("secret_missing");
  }
  if (missingRoutingKey(ctx.webhook, ctx.secret)) return skip("routing_key_missing");
  if (ctx.event.follows) {
    const question = await store.loadQuestion(task, ctx.event.follows);
    const seconds = holdSeconds(task.webhookId, question, task.hold ?? 0, deps.now().getTime());
    if (seconds !== null) {
      await deps.enqueue({ ...task, hold: (task.hold ?? 0) + 1 }, seconds);
      log.info("delivery.held", { deliveryId: task.deliveryId, webhookId: task.webhookId, follows: ctx.event.follows, seconds });
      return { outcome: "held", seconds };
    }
  }

  const sendAt = deps.now();
  const result = await sendToWebhook(
    { webhook: ctx.webhook, secret: ctx.secret },
    { body: ctx.event.body, eventId: task.eventId, eventType: ctx.event.type, deliveryId: task.deliveryId, attempt: task.attempt },
    sendAt,
    deps,
  );
  if (hasExpiredSecrets(toSecretSet(ctx.secret), sendAt.getTime())) await store.purgeExpiredSecrets(task.siteId, task.webhookId, sendAt);

  const now = deps.now();
  const ok = isSuccess(result);
  const gone = result.kind === "response" && result.status === 410;
  const delay =
    ok || gone
      ? null
      : nextAttemptDelay(deps.config.retrySchedule, task.attempt, {
          retryAfterSeconds: result.kind === "response" ? parseRetryAfter(result.retryAfter, now.getTime()) : null,
          ...(deps.random ? { random: deps.random } : {}),
        });
  const status: DeliveryStatus = ok ? "succeeded" : delay === null ? "failed" : "pending";
  const recorded = await store.recordAttempt({
    siteId: task.siteId,
    webhookId: task.webhookId,
    preloaded: ctx.webhook,
    outcome: { ok, gone, lastStatus: lastStatusOf(result) },
    now,
    delivery: {
      id: task.deliveryId,
      siteId: task.siteId,
      webhookId: task.webhookId,
      eventId: task.eventId,
      eventType: ctx.event.type,
      status,
      firstAttempt: !ctx.deliveryExists,
      nextAttempt: status === "pending" ? task.attempt + 1 : null,
      nextAttemptAt: status === "pending" && delay !== null ? new Date(now.getTime() + delay * 1000) : null,
      attempt: {
        attempt: task.attempt,
        at: now,
        status: result.kind === "response" ? result.status : null,
        error: result.kind === "error" ? result.error : null,
        durationMs: result.durationMs,
        responseSnippet: result.kind === "response" ? result.bodySnippet : result.detail,
      },
    },
  });

  const next = attemptTask(task, task.attempt + 1);
  let applied: { health: HealthUpdate | null; status: DeliveryStatus } = { health: null, status: recorded.status };
  if (recorded.healthPending) {
    try {
      applied = await store.applyPendingHealth(task);
    } catch (err) {
      // The attempt is recorded; queue its successor now (idempotent) so that a webhook doc too
      // busy to update for every Cloud Tasks retry of this task still loses no delivery.
      if (recorded.status === "pending" && delay !== null) await deps.enqueue(next, delay);
      throw err;
    }
  }

  log.info("delivery.attempt", {
    deliveryId: task.deliveryId,
    webhookId: task.webhookId,
    siteId: task.siteId,
    eventType: ctx.event.type,
    attempt: task.attempt,
    lastStatus: lastStatusOf(result),
    durationMs: result.durationMs,
    deliveryStatus: applied.status,
  });
  if (applied.health?.enabled === false) {
    log.warn("webhook.auto_disabled", {
      webhookId: task.webhookId,
      siteId: task.siteId,
      failCount: applied.health.failCount,
      reason: applied.health.disabledReason,
    });
  }
  if (applied.status === "pending" && delay !== null) await deps.enqueue(next, delay);
  return { outcome: "attempted", status: applied.status, result };
}

/** The task of another attempt of the same delivery (never held back yet). */
function attemptTask(task: DeliveryTask, attempt: number): DeliveryTask {
  return { siteId: task.siteId, webhookId: task.webhookId, eventId: task.eventId, deliveryId: task.deliveryId, attempt };
}
