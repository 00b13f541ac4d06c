import type { PipelineConfig } from "../config";
import { attemptOutcome, failureDetail, isSuccess, lastStatusOf, type AttemptResult } from "../domain/attempt-result";
import { nextAttemptDelay, parseRetryAfter } from "../domain/retry-policy";
import { hasExpiredSecrets } from "../domain/secret-rotation";
import { toSecretSet, type Store } from "../data/store";
import { failureKey, failureKeyTime, healthWriteFor } from "../domain/webhook-health";
import { hasPendingHealth, type DeliveryStatus, type EventDoc } from "../data/webhook-docs";
import type { Log } from "../log";
import type { Sender } from "./http-sender";
import type { Resolver } from "./resolve-destination";
import { holdSeconds } from "../domain/event-order";
import { cutByFastLane, isSlow, laneDeadlineMs, SLOW_LANE_SECONDS, tooSlowForFastLane, type Lane } from "../domain/delivery-lanes";
import { missingRoutingKey, sendToWebhook } from "./send-signed";
import { SecretCache, SlowMemory } from "./secret-cache";
import { waitForSiteTurn } from "./slow-lane-gate";
import type { LaneShareStore } from "../data/lane-share-store";
import { carriedEvent, type DeliveryTask, type Enqueue, type WebhookSnapshot } from "./task-queue";

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
  /** Per-instance caches; a fresh one per call when absent. */
  secrets?: SecretCache;
  slow?: SlowMemory;
  shares?: LaneShareStore;
}

/**
 * How long a fan-out's read of a webhook, carried in the task, stands in for reading the doc:
 * a change to the webhook (disable, pause, delete, a new URL or format, a rotated secret) is
 * honoured by every attempt dispatched more than this after the fan-out that preceded it.
 */
export const SNAPSHOT_MAX_AGE_MS = 30_000;

/** Why a delivery to a webhook that is off is skipped, by its `disabledReason` (the host's soft delete: `deleted`). */
const SKIPPED_WHEN_OFF: Record<string, string> = { paused: "webhook_paused", deleted: "webhook_deleted" };

export type DeliverResult =
  | { outcome: "attempted"; status: DeliveryStatus; result: AttemptResult }
  | { outcome: "duplicate" }
  | { outcome: "held"; seconds: number }
  | { outcome: "moved"; reason: "webhook_slow" | "fast_lane_deadline" }
  | { outcome: "skipped"; reason: string };

/** How Cloud Tasks dispatched this task: its lane, and how often it was dispatched before. */
export interface Dispatch {
  lane: Lane;
  retryCount: number;
}

/**
 * One attempt of one delivery. Receiver failures are recorded outcomes, followed by the next
 * attempt on the retry schedule; infrastructure errors (Firestore, Cloud Tasks) throw so Cloud
 * Tasks retries this same attempt, which is then recognised and not sent twice once recorded.
 *
 * Cost of the common case, a fan-out's task dispatched once and answered 2xx: no read but the
 * secret's on a cold instance, one write (the delivery doc, created). Everything else (a later
 * attempt, a redispatched or held task, a stale snapshot) reads what it needs first.
 */
export async function deliver(task: DeliveryTask, deps: DeliverDeps, dispatch: Dispatch = { lane: "fast", retryCount: 0 }): Promise<DeliverResult> {
  const { store, log } = deps;
  const startedAt = deps.now();
  // A first attempt on its first dispatch cannot have been recorded: it skips the read and
  // creates the record (a rare second dispatch finds it there and stands down).
  const firstDispatch = dispatch.retryCount === 0 && task.attempt === 1 && !task.hold && !!task.webhook;
  let deliveryExists = false;
  if (!firstDispatch) {
    const loaded = await store.loadDelivery(task);
    let delivery = loaded.doc;
    deliveryExists = loaded.exists;
    // Outcomes an earlier version parked on the delivery doc are applied first, exactly once.
    if (hasPendingHealth(delivery)) {
      const applied = await store.applyPendingHealth(task);
      delivery = { ...delivery, status: applied.status };
    }
    if (delivery && delivery.status !== "pending") return { outcome: "duplicate" };
    // A manual retry's attempt (marked `manual`) never stands for a scheduled one of the same number.
    const recorded = delivery?.attempts.find((a) => a.attempt === task.attempt && !a.manual);
    if (delivery && recorded) {
      // Recorded, but perhaps cut off before its failure was settled or the next attempt queued:
      // finish both (each idempotent).
      const key = recordedFailureKey(recorded, task.deliveryId);
      const status = key ? (await settleFailure(store, task, key, delivery.status, deps.now())).status : delivery.status;
      if (status === "pending" && delivery.nextAttempt === task.attempt + 1) {
        const dueMs = delivery.nextAttemptAt?.toMillis() ?? 0;
        const delay = Math.max(0, Math.ceil((dueMs - deps.now().getTime()) / 1000));
        await deps.enqueue(attemptTask(task, delivery.nextAttempt, task.event), delay, dispatch.lane);
      }
      return { outcome: "duplicate" };
    }
  }

  const snapshotFresh = firstDispatch && task.webhook && startedAt.getTime() - task.webhook.readAtMs <= SNAPSHOT_MAX_AGE_MS;
  const [webhook, event] = await Promise.all([
    snapshotFresh ? (task.webhook as WebhookSnapshot) : store.loadWebhookSnapshot(task, startedAt),
    task.event ?? store.loadEvent(task).then((e: EventDoc | null) => e && { type: e.type, body: e.body, follows: e.follows }),
  ]);

  const skip = async (reason: string): Promise<DeliverResult> => {
    await store.recordSkipped({ ...task, eventType: event?.type ?? null }, reason, deps.now(), !deliveryExists);
    log.info("delivery.skipped", { deliveryId: task.deliveryId, webhookId: task.webhookId, reason });
    return { outcome: "skipped", reason };
  };
  if (!event) {
    log.error("delivery.event_missing", { deliveryId: task.deliveryId, eventId: task.eventId });
    return skip("event_missing");
  }
  if (!webhook) return skip("webhook_deleted");
  if (!webhook.enabled) return skip(SKIPPED_WHEN_OFF[webhook.disabledReason ?? ""] ?? "webhook_disabled");

  const slowKey = `${task.siteId}/${task.webhookId}`;
  const slow = deps.slow ?? new SlowMemory();
  if (dispatch.lane === "fast" && (isSlow(webhook.slowUntilMs, startedAt.getTime()) || isSlow(slow.slowUntil(slowKey), startedAt.getTime()))) {
    await deps.enqueue(task, 0, "slow");
    log.info("delivery.moved", { deliveryId: task.deliveryId, webhookId: task.webhookId, reason: "webhook_slow" });
    return { outcome: "moved", reason: "webhook_slow" };
  }

  const secrets = deps.secrets ?? new SecretCache();
  let secretRead = false;
  const secret = await secrets.get(slowKey, webhook.secretVersion, startedAt.getTime(), () => {
    secretRead = true;
    return store.loadSecret(task);
  });
  if (!secret) {
    log.error("delivery.secret_missing", { webhookId: task.webhookId, siteId: task.siteId });
    return skip("secret_missing");
  }
  if (missingRoutingKey(webhook, secret)) return skip("routing_key_missing");
  if (event.follows) {
    const question = await store.loadQuestion(task, event.follows);
    const seconds = holdSeconds(task.webhookId, question, task.hold ?? 0, deps.now().getTime());
    if (seconds !== null) {
      await deps.enqueue({ ...task, hold: (task.hold ?? 0) + 1 }, seconds, dispatch.lane);
      log.info("delivery.held", { deliveryId: task.deliveryId, webhookId: task.webhookId, follows: event.follows, seconds });
      return { outcome: "held", seconds };
    }
  }

  const waited = await waitForSiteTurn(task, dispatch.lane, deps);
  if (waited !== null) {
    log.info("delivery.held", { deliveryId: task.deliveryId, webhookId: task.webhookId, reason: "site_slow_lane_share", seconds: waited });
    return { outcome: "held", seconds: waited };
  }

  const sendAt = deps.now();
  const result = await sendToWebhook(
    { webhook, secret },
    { body: event.body, eventId: task.eventId, eventType: event.type, deliveryId: task.deliveryId, attempt: task.attempt },
    sendAt,
    { ...deps, config: { ...deps.config, deliveryTimeoutMs: laneDeadlineMs(dispatch.lane, deps.config) } },
  );
  // Too slow for the fast lane: the webhook's deliveries go to the slow lane from now on; an
  // attempt cut off by the fast lane's deadline is not an attempt, and is sent again there at once.
  const laneAfter: Lane = dispatch.lane === "fast" && tooSlowForFastLane(result.durationMs, deps.config) ? "slow" : dispatch.lane;
  if (laneAfter !== dispatch.lane) {
    const until = new Date(sendAt.getTime() + SLOW_LANE_SECONDS * 1000);
    slow.mark(slowKey, until.getTime());
    if (!isSlow(webhook.slowUntilMs, sendAt.getTime())) await store.markSlow(task, until);
  }
  if (result.kind === "error" && cutByFastLane(dispatch.lane, result.error, deps.config)) {
    await deps.enqueue(task, 0, "slow");
    log.info("delivery.moved", { deliveryId: task.deliveryId, webhookId: task.webhookId, reason: "fast_lane_deadline", durationMs: result.durationMs });
    return { outcome: "moved", reason: "fast_lane_deadline" };
  }
  // Rotated-out secrets past their overlap are dropped from the doc by the attempt that read it
  // (signing already leaves them out); a cached copy keeps them until it is read again.
  if (secretRead && hasExpiredSecrets(toSecretSet(secret), sendAt.getTime())) await store.purgeExpiredSecrets(task.siteId, task.webhookId, sendAt);

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
  const key = failureKey(now.getTime(), task.deliveryId, task.attempt);
  const health = healthWriteFor(
    { enabled: webhook.enabled, failCount: webhook.failCount, lastStatus: webhook.lastStatus },
    { ok, gone, lastStatus: lastStatusOf(result) },
    key,
    now,
  );
  const record = {
    siteId: task.siteId,
    webhookId: task.webhookId,
    health,
    hostShape: webhook.hostShape,
    now,
    delivery: {
      id: task.deliveryId,
      siteId: task.siteId,
      webhookId: task.webhookId,
      eventId: task.eventId,
      eventType: event.type,
      status,
      firstAttempt: !deliveryExists,
      nextAttempt: status === "pending" ? task.attempt + 1 : null,
      nextAttemptAt: status === "pending" && delay !== null ? new Date(now.getTime() + delay * 1000) : null,
      attempt: {
        attempt: task.attempt,
        at: now,
        // Site members read this record: an outcome word for anything but an HTTP answer.
        ...attemptOutcome(result),
      },
    },
  };
  let finalStatus: DeliveryStatus = status;
  if (firstDispatch) {
    if ((await store.recordFirstAttempt(record)) === "duplicate") {
      log.warn("delivery.dispatched_twice", { deliveryId: task.deliveryId, webhookId: task.webhookId, attempt: task.attempt });
      return { outcome: "duplicate" };
    }
  } else {
    const recorded = await store.recordAttempt({ ...record, ok });
    if (!recorded) return { outcome: "duplicate" };
    finalStatus = recorded.status;
  }

  let failCount: number | null = ok ? 0 : null;
  if (health?.kind === "fail" && !gone) {
    const { settled, status } = await settleFailure(store, task, key, finalStatus, now);
    failCount = settled.failCount;
    finalStatus = status;
    if (settled.disabledNow) {
      log.warn("webhook.auto_disabled", { webhookId: task.webhookId, siteId: task.siteId, failCount: settled.failCount, reason: "auto" });
    }
  }
  if (gone) log.warn("webhook.auto_disabled", { webhookId: task.webhookId, siteId: task.siteId, reason: "gone" });

  log.info("delivery.attempt", {
    deliveryId: task.deliveryId,
    webhookId: task.webhookId,
    siteId: task.siteId,
    eventType: event.type,
    attempt: task.attempt,
    lane: dispatch.lane,
    lastStatus: lastStatusOf(result),
    durationMs: result.durationMs,
    // Why it got no HTTP answer, for operators: the record and the webhook doc say only the outcome word.
    ...failureDetail(result),
    deliveryStatus: finalStatus,
    ...(failCount !== null ? { failCount } : {}),
  });
  if (finalStatus === "pending" && delay !== null) {
    await deps.enqueue(attemptTask(task, task.attempt + 1, event), delay, laneAfter);
  }
  return { outcome: "attempted", status: finalStatus, result };
}

/**
 * After a failure's commit: its rank in the streak acted on (store.settleFailure), and a pending
 * delivery whose webhook is now off stopped, with no further attempt.
 */
export async function settleFailure(
  store: Store,
  ids: { siteId: string; webhookId: string; deliveryId: string },
  key: string,
  status: DeliveryStatus,
  now: Date,
): Promise<{ settled: Awaited<ReturnType<Store["settleFailure"]>>; status: DeliveryStatus }> {
  const settled = await store.settleFailure(ids, key);
  if (!settled.disabled || status !== "pending") return { settled, status };
  await store.stopDelivery(ids, now);
  return { settled, status: "failed" };
}

/** The task of another attempt of the same delivery (never held back yet), carrying the event. */
function attemptTask(task: DeliveryTask, attempt: number, event: DeliveryTask["event"] | null | undefined): DeliveryTask {
  const carried = event ? carriedEvent(event) : undefined;
  return {
    siteId: task.siteId,
    webhookId: task.webhookId,
    eventId: task.eventId,
    deliveryId: task.deliveryId,
    attempt,
    ...(carried ? { event: carried } : {}),
  };
}

/** The `failStreak` key of a recorded failed attempt, rebuilt from its record. */
function recordedFailureKey(recorded: { attempt: number; status: number | null; error: string | null; at?: unknown }, deliveryId: string): string | null {
  const failed = recorded.error !== null || recorded.status === null || recorded.status < 200 || recorded.status >= 300;
  const at = recorded.at as { toMillis?: () => number } | undefined;
  if (!failed || typeof at?.toMillis !== "function") return null;
  const key = failureKey(at.toMillis(), deliveryId, recorded.attempt);
  return failureKeyTime(key) > 0 ? key : null;
}
