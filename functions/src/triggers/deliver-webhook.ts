import { onTaskDispatched } from "firebase-functions/v2/tasks";
import { deliver } from "../delivery/deliver";
import { deliveryTaskSchema } from "../delivery/task-queue";
import { deliveryMaxConcurrent, deliveryMaxPerSecond } from "../config";
import { productionDeps } from "../wiring";

/**
 * Cloud Tasks retries this handler only when it throws, i.e. on infrastructure errors; the
 * receiver's own failures are recorded and rescheduled by `deliver` on the retry schedule.
 */
export const deliverWebhook = onTaskDispatched(
  {
    retryConfig: { maxAttempts: 10, minBackoffSeconds: 5, maxBackoffSeconds: 300 },
    rateLimits: { maxConcurrentDispatches: deliveryMaxConcurrent, maxDispatchesPerSecond: deliveryMaxPerSecond },
    timeoutSeconds: 120,
    memory: "256MiB",
  },
  async (req) => {
    const deps = productionDeps();
    const task = deliveryTaskSchema.safeParse(req.data);
    if (!task.success) {
      deps.log.error("delivery.bad_task", { problems: task.error.issues.map((i) => i.message).join("; ") });
      return;
    }
    await deliver(task.data, deps);
  },
);
