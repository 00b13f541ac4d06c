import { randomBytes } from "node:crypto";
import { z } from "zod";
import { deliveryIdFor } from "../domain/ids";
import { answerEventId } from "../domain/emission-policy";
import {
  afterItem,
  isRejection,
  questionsOf,
  recoveryPlan,
  RECOVERY,
  statusOf,
  stepHasTime,
  waitBeforeNext,
  type ItemOutcome,
  type RecoveryProgress,
  type RecoveryStop,
} from "../domain/recovery";
import type { RecoveryDoc, RecoveryStore } from "../data/recovery-store";
import { retryNow } from "../delivery/manual-retry";
import type { DeliverDeps } from "../delivery/deliver";

/** One step of a recovery's task chain: the step number makes a second dispatch of it a no-op. */
export const recoveryTaskSchema = z.object({
  siteId: z.string().min(1).max(256),
  webhookId: z.string().min(1).max(256),
  recoveryId: z.string().min(1).max(64),
  step: z.number().int().min(0).max(100_000),
});
export type RecoveryTask = z.infer<typeof recoveryTaskSchema>;

export type EnqueueRecovery = (task: RecoveryTask, delaySeconds: number) => Promise<"enqueued" | "duplicate">;

export type RecoverDeps = Pick<DeliverDeps, "store" | "send" | "resolve" | "config" | "now" | "log"> & {
  recoveries: RecoveryStore;
  enqueueRecovery: EnqueueRecovery;
};

export type StartResult = { kind: "started"; recovery: RecoveryDoc } | { kind: "running"; recovery: RecoveryDoc } | { kind: "too_many" };

/**
 * Plans what the window holds to re-send (oldest first), records the plan and starts its task
 * chain. One recovery runs at a time per webhook (looked for before the plan is made, and again
 * in the transaction that records it); an empty plan is done at once.
 */
export async function startRecovery(
  target: { siteId: string; webhookId: string },
  window: { sinceMs: number; untilMs: number },
  createdBy: string,
  deps: RecoverDeps,
): Promise<StartResult> {
  const ids = { siteId: target.siteId, webhookId: target.webhookId };
  const busy = await deps.recoveries.running(ids.siteId, ids.webhookId, deps.now().getTime());
  if (busy) return { kind: "running", recovery: busy };
  const candidates = await deps.recoveries.candidates(ids.siteId, ids.webhookId, window);
  if (candidates === "too_many") return { kind: "too_many" };
  const items = recoveryPlan(candidates);
  if (items.length > RECOVERY.maxItems) return { kind: "too_many" };
  const nowMs = deps.now().getTime();
  const recovery: RecoveryDoc = {
    id: `rcv_${randomBytes(12).toString("hex")}`,
    ...ids,
    sinceMs: window.sinceMs,
    untilMs: window.untilMs,
    status: items.length === 0 ? "done" : "running",
    reason: null,
    items,
    questions: questionsOf(candidates, items),
    cursor: 0,
    total: items.length,
    sent: 0,
    alreadyDelivered: 0,
    answered: 0,
    rejected: 0,
    unavailable: 0,
    stoppedAt: null,
    step: 0,
    lastStartMs: null,
    createdBy,
    createdAtMs: nowMs,
    updatedAtMs: nowMs,
  };
  const created = await deps.recoveries.create(recovery);
  if (created.kind === "running") return created;
  if (recovery.status === "running") {
    try {
      await deps.enqueueRecovery({ ...ids, recoveryId: recovery.id, step: 0 }, 0);
    } catch (err) {
      await deps.recoveries.abandon({ ...ids, recoveryId: recovery.id }, 0, deps.now().getTime());
      throw err;
    }
  }
  deps.log.info("recovery.started", { ...ids, recoveryId: recovery.id, total: items.length, since: new Date(window.sinceMs).toISOString() });
  return { kind: "started", recovery };
}

/**
 * One planned event re-sent now, as the retry action sends it; a missed event gets its record
 * here. A question whose answer reached the webhook meanwhile is not re-sent.
 */
async function resendOne(ids: { siteId: string; webhookId: string }, eventId: string, question: boolean, deps: RecoverDeps): Promise<ItemOutcome> {
  if (question && (await deps.store.events.loadQuestionDelivery(ids, answerEventId(eventId)))?.status === "succeeded") return "answered";
  const result = await retryNow({ ...ids, eventId, deliveryId: deliveryIdFor(eventId, ids.webhookId) }, deps, { recovering: true });
  switch (result.outcome) {
    case "not_found":
      return "webhook_deleted";
    case "webhook_disabled":
      return "webhook_disabled";
    case "already_succeeded":
    case "on_schedule":
      return "already_delivered";
    case "unavailable":
      return "unavailable";
    case "attempted":
      if (result.status === "succeeded") return "sent";
      return isRejection(result.result.kind === "response" ? result.result.status : null) ? "rejected" : "send_failed";
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Another dispatch of the same step holds it: this one is tried again later (and never abandons it). */
export class StepTaken extends Error {
  constructor(task: RecoveryTask) {
    super(`recovery ${task.recoveryId} step ${task.step} is being run by another dispatch`);
    this.name = "StepTaken";
  }
}

/**
 * One step: re-sends one at a time, no two closer than the pace, while the step has time (at
 * most `RECOVERY.batch`), then the progress saved and the next step enqueued. The step is
 * claimed first: a second dispatch of it while this one runs is refused (StepTaken, and Cloud
 * Tasks tries it again later), so no item is sent by two dispatches at once. A step that throws
 * (Firestore unavailable) saves what it did and lets go of the step before it throws, so its next
 * dispatch goes on from there. A step found past enqueues the next again (refused as a duplicate
 * if it is there), so a step whose save's answer or enqueue was lost does not end the chain.
 */
export async function runRecoveryStep(task: RecoveryTask, deps: RecoverDeps): Promise<void> {
  const ids = { siteId: task.siteId, webhookId: task.webhookId, recoveryId: task.recoveryId };
  const lease = randomBytes(8).toString("hex");
  const claim = await deps.recoveries.claimStep(ids, task.step, lease, Date.now());
  if (claim.kind === "taken") throw new StepTaken(task);
  if (claim.kind === "gone" || !claim.doc) return enqueueIfPast(task, claim.doc, deps);
  const doc = claim.doc;
  const questions = new Set(doc.questions);
  let progress: RecoveryProgress = pick(doc);
  let stop: RecoveryStop | null = null;
  let lastStartMs = doc.lastStartMs;
  const startedMs = Date.now();
  try {
    for (let n = 0; n < RECOVERY.batch && progress.cursor < progress.total && !stop && stepHasTime(startedMs, Date.now(), deps.config.deliveryTimeoutMs); n++) {
      await sleep(waitBeforeNext(lastStartMs, Date.now()));
      lastStartMs = Date.now();
      const eventId = doc.items[progress.cursor] as string;
      ({ progress, stop } = afterItem(progress, await resendOne(ids, eventId, questions.has(eventId), deps)));
    }
  } catch (err) {
    await deps.recoveries.releaseStep(ids, task.step, lease, { ...progress, lastStartMs }, Date.now()).catch(() => undefined);
    throw err;
  }
  const status = statusOf(progress, stop);
  const stoppedAt = stop ? (doc.items[progress.cursor] ?? null) : null;
  const saved = await deps.recoveries.saveStep(ids, task.step, lease, { ...progress, status, reason: stop, stoppedAt, lastStartMs }, deps.now().getTime());
  if (!saved) return enqueueIfPast(task, await deps.recoveries.load(ids), deps);
  deps.log.info("recovery.step", {
    ...ids,
    step: task.step,
    status,
    cursor: progress.cursor,
    total: progress.total,
    sent: progress.sent,
    ...(stop ? { reason: stop } : {}),
  });
  if (status === "running") await deps.enqueueRecovery({ ...task, step: task.step + 1 }, Math.ceil(waitBeforeNext(lastStartMs, Date.now()) / 1000));
}

/** A recovery found one step past this one and still running: its next step enqueued (again). */
async function enqueueIfPast(task: RecoveryTask, doc: RecoveryDoc | null, deps: RecoverDeps): Promise<void> {
  if (doc?.status === "running" && doc.step === task.step + 1) await deps.enqueueRecovery({ ...task, step: doc.step }, 0);
}

function pick(d: RecoveryDoc): RecoveryProgress {
  return {
    cursor: d.cursor,
    total: d.total,
    sent: d.sent,
    alreadyDelivered: d.alreadyDelivered,
    answered: d.answered,
    rejected: d.rejected,
    unavailable: d.unavailable,
  };
}
