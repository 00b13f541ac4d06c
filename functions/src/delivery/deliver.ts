import type { PipelineConfig } from "../config";
import { attemptOutcome, failureDetail, isSuccess, lastStatusOf, type AttemptResult } from "../domain/attempt-result";
import { nextAttemptDelay, parseRetryAfter } from "../domain/retry-policy";
import { hasExpiredSecrets } from "../domain/secret-rotation";
import { toSecretSet } from "../data/parse";
import type { Store } from "../data/store";
import { failureKey, failureKeyTime, healthWriteFor, type HealthWrite } from "../domain/webhook-health";
import { hasPendingHealth, type DeliveryDoc, type DeliveryStatus, type EventDoc, type SecretDoc } from "../data/webhook-docs";
import type { Log } from "../log";
import type { Sender } from "./http-sender";
import type { Resolver } from "./resolve-destination";
import { holdSeconds } from "../domain/event-order";
import { cutByFastLane, isSlow, laneDeadlineMs, SLOW_LANE_SECONDS, tooSlowForFastLane, type Lane } from "../domain/delivery-lanes";
import { missingRoutingKey, sendToWebhook } from "./send-signed";
import { SecretCache, SlowMemory } from "./secret-cache";
import { waitForSiteTurn } from "./slow-lane-gate";
import type { LaneShareStore } from "../data/lane-share-store";
import { attemptTaskFor, carriedEvent, type DeliveryTask, type Enqueue, type WebhookSnapshot } from "./task-queue";

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
 *
 * In steps, each of which may end the dispatch with its result: `recover` an attempt already
 * recorded, `route` (skip, move, hold, or ready to send), `attempt` the send, `judge` its answer,
 * `record` it, `settle` a failure and queue the next attempt.
 */
export async function deliver(task: DeliveryTask, deps: DeliverDeps, dispatch: Dispatch = { lane: "fast", retryCount: 0 }): Promise<DeliverResult> {
  const startedAt = deps.now();
  // A first attempt on its first dispatch cannot have been recorded: it skips the read and
  // creates the record (a rare second dispatch finds it there and stands down).
  const firstDispatch = dispatch.retryCount === 0 && task.attempt === 1 && !task.hold && !!task.webhook;
  const recovered = firstDispatch ? { deliveryExists: false } : await recover(task, deps, dispatch);
  if ("outcome" in recovered) return recovered;
  const ready = await route({ task, deps, dispatch, startedAt, firstDispatch, deliveryExists: recovered.deliveryExists });
  if ("outcome" in ready) return ready;
  const sent = await attempt(ready);
  if ("outcome" in sent) return sent;
  const recorded = await record(judge(sent));
  if ("outcome" in recorded) return recorded;
  return settle(recorded);
}

/** The event as an attempt sends it: carried in the task, or read from its doc. */
type EventPart = { type: string; body: string; follows?: string | undefined; followsTo?: string[] | undefined };

/** One dispatch of one task, as every step sees it. */
interface Run {
  task: DeliveryTask;
  deps: DeliverDeps;
  dispatch: Dispatch;
  startedAt: Date;
  firstDispatch: boolean;
  /** Whether the delivery doc was there when read (a first dispatch reads none: false). */
  deliveryExists: boolean;
}

/** Routed: to be sent now, to this webhook, with this event and secret. */
interface Ready extends Run {
  webhook: WebhookSnapshot;
  event: EventPart;
  secret: SecretDoc;
  /** The secret doc was read by this attempt, not served from the instance's cache. */
  secretRead: boolean;
  /** The webhook's key in the instance's caches (`siteId/webhookId`). */
  slowKey: string;
  slow: SlowMemory;
}

/** Sent, and not cut off by the fast lane's deadline. */
interface Sent extends Ready {
  result: AttemptResult;
  /** The lane of the next attempt. */
  laneAfter: Lane;
}

/** The answer judged: the delivery's status, when to try again, the webhook's health write. */
interface Judged extends Sent {
  now: Date;
  ok: boolean;
  gone: boolean;
  /** Seconds to the next attempt; null: none. */
  delay: number | null;
  status: DeliveryStatus;
  key: string;
  health: HealthWrite | null;
}

/**
 * A task that may have run before (a later attempt, a redispatch, a hold) reads its delivery
 * first: an attempt already recorded ends here as a duplicate.
 */
async function recover(task: DeliveryTask, deps: DeliverDeps, dispatch: Dispatch): Promise<DeliverResult | { deliveryExists: boolean }> {
  const loaded = await deps.store.reads.loadDelivery(task);
  let delivery = loaded.doc;
  // Outcomes an earlier version parked on the delivery doc are applied first, exactly once.
  if (hasPendingHealth(delivery)) {
    const applied = await deps.store.deliveries.applyPendingHealth(task);
    delivery = { ...delivery, status: applied.status };
  }
  if (delivery && delivery.status !== "pending") return { outcome: "duplicate" };
  // A manual retry's attempt (marked `manual`) never stands for a scheduled one of the same number.
  const recorded = delivery?.attempts.find((a) => a.attempt === task.attempt && !a.manual);
  if (delivery && recorded) {
    await finishRecorded(task, delivery, recorded, deps, dispatch.lane);
    return { outcome: "duplicate" };
  }
  return { deliveryExists: loaded.exists };
}

/**
 * Recorded, but perhaps cut off before its failure was settled or the next attempt queued:
 * finish both (each idempotent).
 */
async function finishRecorded(task: DeliveryTask, delivery: DeliveryDoc, recorded: DeliveryDoc["attempts"][number], deps: DeliverDeps, lane: Lane) {
  const key = recordedFailureKey(recorded, task.deliveryId);
  const status = key ? (await settleFailure(deps.store, task, key, delivery.status, deps.now())).status : delivery.status;
  if (status === "pending" && delivery.nextAttempt === task.attempt + 1) {
    const dueMs = delivery.nextAttemptAt?.toMillis() ?? 0;
    const delay = Math.max(0, Math.ceil((dueMs - deps.now().getTime()) / 1000));
    await deps.enqueue(attemptTask(task, delivery.nextAttempt, task.event), delay, lane);
  }
}

/**
 * Whether this attempt is sent now: skipped (event gone; webhook deleted, off, without its
 * secret or routing key), moved to the slow lane (the webhook is slow), held back, or ready.
 */
async function route(run: Run): Promise<DeliverResult | Ready> {
  const { task, deps, dispatch, startedAt } = run;
  const { webhook, event } = await loadTargets(run);
  const skip = (reason: string) => skipDelivery(run, event?.type ?? null, reason);
  if (!event) {
    deps.log.error("delivery.event_missing", { deliveryId: task.deliveryId, eventId: task.eventId });
    return skip("event_missing");
  }
  if (!webhook) return skip("webhook_deleted");
  if (!webhook.enabled) return skip(SKIPPED_WHEN_OFF[webhook.disabledReason ?? ""] ?? "webhook_disabled");

  const slowKey = `${task.siteId}/${task.webhookId}`;
  const slow = deps.slow ?? new SlowMemory();
  if (dispatch.lane === "fast" && (isSlow(webhook.slowUntilMs, startedAt.getTime()) || isSlow(slow.slowUntil(slowKey), startedAt.getTime()))) {
    return moveToSlowLane(run, "webhook_slow");
  }

  const { secret, secretRead } = await signingSecret(run, webhook, slowKey);
  if (!secret) {
    deps.log.error("delivery.secret_missing", { webhookId: task.webhookId, siteId: task.siteId });
    return skip("secret_missing");
  }
  if (missingRoutingKey(webhook, secret)) return skip("routing_key_missing");
  const ready: Ready = { ...run, webhook, event, secret, secretRead, slowKey, slow };
  return (await hold(ready)) ?? ready;
}

/** The webhook (the fan-out's read while fresh, on a first dispatch; else its doc) and the event (carried, else its doc). */
async function loadTargets(run: Run): Promise<{ webhook: WebhookSnapshot | null; event: EventPart | null }> {
  const { task, deps, startedAt } = run;
  const snapshotFresh = run.firstDispatch && task.webhook && startedAt.getTime() - task.webhook.readAtMs <= SNAPSHOT_MAX_AGE_MS;
  const [webhook, event] = await Promise.all([
    snapshotFresh ? (task.webhook as WebhookSnapshot) : deps.store.reads.loadWebhookSnapshot(task, startedAt),
    task.event ??
      deps.store.events.loadEvent(task).then((e: EventDoc | null) => e && { type: e.type, body: e.body, follows: e.follows, followsTo: e.followsTo }),
  ]);
  return { webhook, event };
}

/** The signing secret, from the instance's cache while it holds the webhook's `secretVersion`. */
async function signingSecret(run: Run, webhook: WebhookSnapshot, slowKey: string): Promise<{ secret: SecretDoc | null; secretRead: boolean }> {
  const secrets = run.deps.secrets ?? new SecretCache();
  let secretRead = false;
  const secret = await secrets.get(slowKey, webhook.secretVersion, run.startedAt.getTime(), () => {
    secretRead = true;
    return run.deps.store.secrets.loadSecret(run.task);
  });
  return { secret, secretRead };
}

async function skipDelivery(run: Run, eventType: string | null, reason: string): Promise<DeliverResult> {
  const { task, deps } = run;
  await deps.store.deliveries.recordSkipped({ ...task, eventType }, reason, deps.now(), !run.deliveryExists);
  deps.log.info("delivery.skipped", { deliveryId: task.deliveryId, webhookId: task.webhookId, reason });
  return { outcome: "skipped", reason };
}

/** This task enqueued again at once, in the slow lane. */
async function moveToSlowLane(run: Run, reason: "webhook_slow" | "fast_lane_deadline", detail: { durationMs?: number } = {}): Promise<DeliverResult> {
  await run.deps.enqueue(run.task, 0, "slow");
  run.deps.log.info("delivery.moved", { deliveryId: run.task.deliveryId, webhookId: run.task.webhookId, reason, ...detail });
  return { outcome: "moved", reason };
}

/**
 * Held back, and enqueued again under a name of its own (`hold` + 1): an answer until the event
 * it follows is delivered or has failed for good (domain/event-order.ts); a slow-lane attempt
 * until its site's turn (delivery/slow-lane-gate.ts). Null: it is sent now.
 */
async function hold(ready: Ready): Promise<DeliverResult | null> {
  const { task, deps, dispatch, event } = ready;
  if (event.follows) {
    // Whom the question went to is carried (an answer fanned out since it was): one read, of its
    // delivery to this webhook, and none when it did not go to this webhook.
    const question = event.followsTo
      ? {
          fannedOutTo: event.followsTo,
          delivery: event.followsTo.includes(task.webhookId) ? await deps.store.events.loadQuestionDelivery(task, event.follows) : null,
        }
      : await deps.store.events.loadQuestion(task, event.follows);
    const seconds = holdSeconds(task.webhookId, question, task.hold ?? 0, deps.now().getTime());
    if (seconds !== null) {
      await deps.enqueue({ ...task, hold: (task.hold ?? 0) + 1 }, seconds, dispatch.lane);
      deps.log.info("delivery.held", { deliveryId: task.deliveryId, webhookId: task.webhookId, follows: event.follows, seconds });
      return { outcome: "held", seconds };
    }
  }

  const waited = await waitForSiteTurn(task, dispatch.lane, deps);
  if (waited !== null) {
    deps.log.info("delivery.held", { deliveryId: task.deliveryId, webhookId: task.webhookId, reason: "site_slow_lane_share", seconds: waited });
    return { outcome: "held", seconds: waited };
  }
  return null;
}

/** The send, within its lane's deadline, and the upkeep it calls for (the lane, expired secrets). */
async function attempt(ready: Ready): Promise<DeliverResult | Sent> {
  const { task, deps, dispatch, webhook, event, secret } = ready;
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
    ready.slow.mark(ready.slowKey, until.getTime());
    if (!isSlow(webhook.slowUntilMs, sendAt.getTime())) await deps.store.health.markSlow(task, until);
  }
  if (result.kind === "error" && cutByFastLane(dispatch.lane, result.error, deps.config)) {
    return moveToSlowLane(ready, "fast_lane_deadline", { durationMs: result.durationMs });
  }
  // Rotated-out secrets past their overlap are dropped from the doc by the attempt that read it
  // (signing already leaves them out); a cached copy keeps them until it is read again.
  if (ready.secretRead && hasExpiredSecrets(toSecretSet(secret), sendAt.getTime()))
    await deps.store.secrets.purgeExpiredSecrets(task.siteId, task.webhookId, sendAt);
  return { ...ready, result, laneAfter };
}

/** What the answer makes of the delivery (its status, the next attempt's delay) and of the webhook's health. */
function judge(sent: Sent): Judged {
  const { task, deps, webhook, result } = sent;
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
  return { ...sent, now, ok, gone, delay, status, key, health };
}

/**
 * The attempt's record and its webhook write, in one commit: a first dispatch creates the
 * delivery doc, any other records in a transaction. Either finds a recorded attempt a duplicate.
 * `status` becomes the one recorded.
 */
async function record(judged: Judged): Promise<DeliverResult | Judged> {
  const { task, deps } = judged;
  const write = recordWrite(judged);
  if (judged.firstDispatch) {
    if ((await deps.store.deliveries.recordFirstAttempt(write)) === "duplicate") {
      deps.log.warn("delivery.dispatched_twice", { deliveryId: task.deliveryId, webhookId: task.webhookId, attempt: task.attempt });
      return { outcome: "duplicate" };
    }
    return judged;
  }
  const recorded = await deps.store.deliveries.recordAttempt({ ...write, ok: judged.ok });
  if (!recorded) return { outcome: "duplicate" };
  return { ...judged, status: recorded.status };
}

function recordWrite({ task, webhook, event, result, now, status, delay, health, deliveryExists }: Judged) {
  return {
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
}

/** A failure's rank in the streak acted on (perhaps switching the webhook off), the attempt logged, the next one queued. */
async function settle(recorded: Judged): Promise<DeliverResult> {
  const { task, deps, dispatch, event, result, ok, gone, delay, key, health, now } = recorded;
  let status = recorded.status;
  let failCount: number | null = ok ? 0 : null;
  if (health?.kind === "fail" && !gone) {
    const { settled, status: settledStatus } = await settleFailure(deps.store, task, key, status, now);
    failCount = settled.failCount;
    status = settledStatus;
    if (settled.disabledNow) {
      deps.log.warn("webhook.auto_disabled", { webhookId: task.webhookId, siteId: task.siteId, failCount: settled.failCount, reason: "auto" });
    }
  }
  if (gone) deps.log.warn("webhook.auto_disabled", { webhookId: task.webhookId, siteId: task.siteId, reason: "gone" });

  deps.log.info("delivery.attempt", {
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
    deliveryStatus: status,
    ...(failCount !== null ? { failCount } : {}),
  });
  if (status === "pending" && delay !== null) {
    await deps.enqueue(attemptTask(task, task.attempt + 1, event), delay, recorded.laneAfter);
  }
  return { outcome: "attempted", status, result };
}

/**
 * After a failure's commit: its rank in the streak acted on (store.health.settleFailure), and a pending
 * delivery whose webhook is now off stopped, with no further attempt.
 */
export async function settleFailure(
  store: Store,
  ids: { siteId: string; webhookId: string; deliveryId: string },
  key: string,
  status: DeliveryStatus,
  now: Date,
): Promise<{ settled: Awaited<ReturnType<Store["health"]["settleFailure"]>>; status: DeliveryStatus }> {
  const settled = await store.health.settleFailure(ids, key);
  if (!settled.disabled || status !== "pending") return { settled, status };
  await store.deliveries.stopDelivery(ids, now);
  return { settled, status: "failed" };
}

/** The task of another attempt of the same delivery (never held back yet), carrying the event. */
function attemptTask(task: DeliveryTask, attempt: number, event: DeliveryTask["event"] | null | undefined): DeliveryTask {
  return attemptTaskFor(task, attempt, event ? carriedEvent(event) : undefined);
}

/** The `failStreak` key of a recorded failed attempt, rebuilt from its record. */
function recordedFailureKey(recorded: { attempt: number; status: number | null; error: string | null; at?: unknown }, deliveryId: string): string | null {
  const failed = recorded.error !== null || recorded.status === null || recorded.status < 200 || recorded.status >= 300;
  const at = recorded.at as { toMillis?: () => number } | undefined;
  if (!failed || typeof at?.toMillis !== "function") return null;
  const key = failureKey(at.toMillis(), deliveryId, recorded.attempt);
  return failureKeyTime(key) > 0 ? key : null;
}
