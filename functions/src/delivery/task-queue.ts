import { getFunctions } from "firebase-admin/functions";
import { z } from "zod";
import { taskIdFor } from "../domain/ids";

/** A task carries ids only; the handler loads the rest at send time. */
export const deliveryTaskSchema = z.object({
  siteId: z.string().min(1).max(256),
  webhookId: z.string().min(1).max(256),
  eventId: z.string().min(1).max(64),
  deliveryId: z.string().min(1).max(64),
  attempt: z.number().int().min(1).max(100),
  /** Times this attempt was held back behind the event it answers (machine.online behind its machine.offline). */
  hold: z.number().int().min(1).max(1000).optional(),
});
export type DeliveryTask = z.infer<typeof deliveryTaskSchema>;

export type Enqueue = (task: DeliveryTask, delaySeconds: number) => Promise<"enqueued" | "duplicate">;

export const DELIVERY_FUNCTION = "deliverWebhook";

/**
 * Enqueues through the firebase-admin task queue API, which also speaks to the Cloud Tasks
 * emulator. The task id is deterministic, so a replayed enqueue is refused by Cloud Tasks and
 * reported here as a duplicate rather than an error.
 */
export function taskQueueEnqueue(region: string): Enqueue {
  return async (task, delaySeconds) => {
    const queue = getFunctions().taskQueue<DeliveryTask>(`locations/${region}/functions/${DELIVERY_FUNCTION}`);
    try {
      await queue.enqueue(task, {
        id: taskIdFor(task.deliveryId, task.attempt, task.hold),
        ...(delaySeconds > 0 ? { scheduleDelaySeconds: delaySeconds } : {}),
      });
      return "enqueued";
    } catch (err) {
      if ((err as { code?: string }).code === "functions/task-already-exists") return "duplicate";
      throw err;
    }
  };
}
