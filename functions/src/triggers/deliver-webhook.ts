import { onTaskDispatched, type Request } from "firebase-functions/v2/tasks";
import { SIZING } from "../sizing";
import { deliver } from "../delivery/deliver";
import { deliveryTaskSchema, type DeliveryTask } from "../delivery/task-queue";
import { deliveryMaxConcurrent, deliveryMaxPerSecond, deliverySlowMaxConcurrent } from "../config";
import type { Lane } from "../domain/delivery-lanes";
import { productionDeps } from "../wiring";

/**
 * Cloud Tasks retries a handler only when it throws, i.e. on infrastructure errors; the
 * receiver's own failures are recorded and rescheduled by `deliver` on the retry schedule.
 * Both lanes run the same handler (domain/delivery-lanes.ts): the fast lane's requests get
 * FAST_LANE_DEADLINE_MS, the slow lane's the full DELIVERY_TIMEOUT_MS.
 *
 * Sizing (functions/src/sizing.ts): the queue's dispatch budget, not instance count, is what
 * bounds the load on receivers. Each lane is its own task function: its own queue (dispatch
 * budget), deadline and sizing.
 */
function laneFunction(lane: Lane, maxConcurrentDispatches: typeof deliveryMaxConcurrent, timeoutSeconds: number) {
  return onTaskDispatched(
    {
      retryConfig: { maxAttempts: 10, minBackoffSeconds: 5, maxBackoffSeconds: 300 },
      rateLimits: { maxConcurrentDispatches, maxDispatchesPerSecond: deliveryMaxPerSecond },
      timeoutSeconds,
      ...(lane === "fast" ? SIZING.deliveryFast : SIZING.deliverySlow),
    },
    async (req: Request<DeliveryTask>) => {
      const deps = productionDeps();
      const task = deliveryTaskSchema.safeParse(req.data);
      if (!task.success) {
        deps.log.error("delivery.bad_task", { lane, problems: task.error.issues.map((i) => i.message).join("; ") });
        return;
      }
      await deliver(task.data, deps, { lane, retryCount: req.retryCount ?? 0 });
    },
  );
}

export const deliverWebhook = laneFunction("fast", deliveryMaxConcurrent, 60);
export const deliverWebhookSlow = laneFunction("slow", deliverySlowMaxConcurrent, 120);
