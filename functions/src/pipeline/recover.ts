import { randomBytes } from "node:crypto";
import { z } from "zod";
import { deliveryIdFor } from "../domain/ids";
import { afterItem, recoveryPlan, RECOVERY, statusOf, waitBeforeNext, type ItemOutcome, type RecoveryStop } from "../domain/recovery";
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
 * chain. One recovery runs at a time per webhook; an empty plan is done at once.
 */
export async function startRecovery(
  ids: { siteId: string; webhookId: string },
  window: { sinceMs: number; untilMs: number },
  createdBy: string,
  deps: RecoverDeps,
): Promise<StartResult> {
  const candidates = await deps.recoveries.candidates(ids.siteId, ids.webhookId, window);
  if (candidates === "too_many") return { kind: "too_many" };
  const items = recoveryPlan(candidates);
  if (items.length > RECOVERY.maxItems) return { kind: "too_many" };
  const nowMs = deps.now().getTime();
  const recovery: RecoveryDoc = {
    id: `rcv_${randomBytes(12).toString("hex")}`,
    ...ids,
    ...window,
    status: items.length === 0 ? "done" : "running",
    reason: null,
    items,
    cursor: 0,
    total: items.length,
    sent: 0,
    alreadyDelivered: 0,
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
      await deps.recoveries.abandon({ ...ids, recoveryId: recovery.id }, deps.now().getTime());
      throw err;
    }
  }
  deps.log.info("recovery.started", { ...ids, recoveryId: recovery.id, total: items.length, since: new Date(window.sinceMs).toISOString() });
  return { kind: "started", recovery };
}

/** One planned event re-sent now, as the retry action sends it; a missed event gets its record here. */
async function resendOne(ids: { siteId: string; webhookId: string }, eventId: string, deps: RecoverDeps): Promise<ItemOutcome> {
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
      return result.status === "succeeded" ? "sent" : "send_failed";
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * One step: up to `RECOVERY.batch` re-sends, one at a time and no two closer than the pace, then
 * the progress saved (only if no other dispatch saved this step) and the next step enqueued.
 * A step found already saved enqueues the next again (refused as a duplicate if it is there), so
 * a step whose enqueue failed and is retried by Cloud Tasks does not end the chain.
 */
export async function runRecoveryStep(task: RecoveryTask, deps: RecoverDeps): Promise<void> {
  const ids = { siteId: task.siteId, webhookId: task.webhookId, recoveryId: task.recoveryId };
  const doc = await deps.recoveries.load(ids);
  if (!doc || doc.status !== "running") return;
  if (doc.step !== task.step) {
    if (doc.step === task.step + 1) await deps.enqueueRecovery({ ...task, step: doc.step }, 0);
    return;
  }
  let progress = { cursor: doc.cursor, total: doc.total, sent: doc.sent, alreadyDelivered: doc.alreadyDelivered, unavailable: doc.unavailable };
  let stop: RecoveryStop | null = null;
  let lastStartMs = doc.lastStartMs;
  for (let n = 0; n < RECOVERY.batch && progress.cursor < progress.total && !stop; n++) {
    await sleep(waitBeforeNext(lastStartMs, Date.now()));
    lastStartMs = Date.now();
    const outcome = await resendOne(ids, doc.items[progress.cursor] as string, deps);
    ({ progress, stop } = afterItem(progress, outcome));
  }
  const status = statusOf(progress, stop);
  const stoppedAt = stop ? (doc.items[progress.cursor] ?? null) : null;
  const saved = await deps.recoveries.saveStep(ids, task.step, { ...progress, status, reason: stop, stoppedAt, lastStartMs }, deps.now().getTime());
  if (!saved) return;
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
