import { getFunctions } from "firebase-admin/functions";
import { z } from "zod";
import { deliveryIdFor, taskIdFor } from "../domain/ids";
import type { Lane } from "../domain/delivery-lanes";
import { webhookSnapshotSchema, type WebhookSnapshot } from "../data/webhook-docs";

/** An event body up to this size travels in its tasks, so an attempt reads no event doc. */
export const MAX_CARRIED_BODY_BYTES = 64 * 1024;

export { webhookSnapshotSchema, type WebhookSnapshot } from "../data/webhook-docs";

/**
 * A task names its delivery and attempt. The fan-out's tasks also carry the event (type, body,
 * the event it follows) and its read of the webhook, so a first attempt needs no reads but the
 * signing secret's (cached per instance); later attempts carry the event only.
 */
export const deliveryTaskSchema = z.object({
  siteId: z.string().min(1).max(256),
  webhookId: z.string().min(1).max(256),
  eventId: z.string().min(1).max(64),
  deliveryId: z.string().min(1).max(64),
  attempt: z.number().int().min(1).max(100),
  /**
   * Times this attempt was held back: behind the event it answers (machine.online behind its
   * machine.offline), or for its site's turn in the slow lane. Each hold is a task of its own name.
   */
  hold: z.number().int().min(1).max(1000).optional(),
  /** The slow-lane start this attempt reserved for its site (delivery/slow-lane-gate.ts), epoch ms. */
  slotAt: z.number().int().nonnegative().optional(),
  event: z
    .object({
      type: z.string().min(1).max(64),
      body: z.string().max(MAX_CARRIED_BODY_BYTES),
      follows: z.string().max(64).optional(),
      /** The webhooks the event it follows was fanned out to: an attempt to any other need not look at that event. */
      followsTo: z.array(z.string().max(128)).max(1_000).optional(),
    })
    .optional(),
  webhook: webhookSnapshotSchema.optional(),
});
export type DeliveryTask = z.infer<typeof deliveryTaskSchema>;

export type Enqueue = (task: DeliveryTask, delaySeconds: number, lane?: Lane) => Promise<"enqueued" | "duplicate">;

export const DELIVERY_FUNCTION = "deliverWebhook";
export const SLOW_DELIVERY_FUNCTION = "deliverWebhookSlow";

/** The carried event, when it is small enough to travel in a task. */
export function carriedEvent(event: { type: string; body: string; follows?: string | undefined; followsTo?: string[] | undefined }): DeliveryTask["event"] {
  if (Buffer.byteLength(event.body) > MAX_CARRIED_BODY_BYTES) return undefined;
  return {
    type: event.type,
    body: event.body,
    ...(event.follows ? { follows: event.follows } : {}),
    ...(event.follows && event.followsTo ? { followsTo: event.followsTo } : {}),
  };
}

/**
 * The task of one attempt of a delivery, not held back: the one builder of the fan-out's first
 * attempts (which also carry the webhook as just read) and of every later attempt. The delivery
 * id derives from the event and the webhook at the fan-out; later attempts keep their task's.
 */
export function attemptTaskFor(
  ids: { siteId: string; webhookId: string; eventId: string; deliveryId?: string },
  attempt: number,
  event: DeliveryTask["event"],
  webhook?: WebhookSnapshot,
): DeliveryTask {
  return {
    siteId: ids.siteId,
    webhookId: ids.webhookId,
    eventId: ids.eventId,
    deliveryId: ids.deliveryId ?? deliveryIdFor(ids.eventId, ids.webhookId),
    attempt,
    ...(event ? { event } : {}),
    ...(webhook ? { webhook } : {}),
  };
}

/**
 * The Cloud Tasks emulator dispatches a task at once, whatever its schedule. The emulator suite
 * (scripts/emulators.mjs) runs a front before it that holds each task until its time and names
 * it in OWLETTE_TASKS_EMULATOR_HOST; firebase-tools points CLOUD_TASKS_EMULATOR_HOST (read by
 * firebase-admin at each enqueue) at the emulator itself. Deployed, neither variable is set.
 */
function useScheduleKeepingEmulator(): void {
  const front = process.env.OWLETTE_TASKS_EMULATOR_HOST;
  if (front && process.env.CLOUD_TASKS_EMULATOR_HOST) process.env.CLOUD_TASKS_EMULATOR_HOST = front;
}

/**
 * Enqueues through the firebase-admin task queue API, which also speaks to the Cloud Tasks
 * emulator. The task id is deterministic, so a replayed enqueue is refused by Cloud Tasks and
 * reported here as a duplicate rather than an error. Each lane is its own queue, so the same id
 * may stand once in each (a task moved to the slow lane keeps its id).
 */
export function taskQueueEnqueue(region: string): Enqueue {
  return (task, delaySeconds, lane = "fast") =>
    enqueueFunctionTask(region, lane === "slow" ? SLOW_DELIVERY_FUNCTION : DELIVERY_FUNCTION, task, {
      id: taskIdFor(task.deliveryId, task.attempt, task.hold),
      delaySeconds,
    });
}

/** The task function that runs a recovery's steps (triggers/recover-deliveries.ts). */
export const RECOVERY_FUNCTION = "recoverDeliveries";

/** A recovery's next step, under an id of its own: a step enqueued twice is a duplicate. */
export function recoveryQueueEnqueue(region: string) {
  return (task: { siteId: string; webhookId: string; recoveryId: string; step: number }, delaySeconds: number) =>
    enqueueFunctionTask(region, RECOVERY_FUNCTION, task, { id: `${task.recoveryId}-s${task.step}`, delaySeconds });
}

/** One task for a task function, under an id of its own: a second enqueue of that id is a duplicate, not an error. */
export async function enqueueFunctionTask<T extends Record<string, unknown>>(
  region: string,
  fn: string,
  payload: T,
  opts: { id: string; delaySeconds: number },
): Promise<"enqueued" | "duplicate"> {
  useScheduleKeepingEmulator();
  const queue = getFunctions().taskQueue<T>(`locations/${region}/functions/${fn}`);
  try {
    await queue.enqueue(payload, { id: opts.id, ...(opts.delaySeconds > 0 ? { scheduleDelaySeconds: opts.delaySeconds } : {}) });
    return "enqueued";
  } catch (err) {
    if ((err as { code?: string }).code === "functions/task-already-exists") return "duplicate";
    throw err;
  }
}
