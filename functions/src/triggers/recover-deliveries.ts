import { onTaskDispatched, type Request } from "firebase-functions/v2/tasks";
import { SIZING } from "../sizing";
import { recoveryTaskSchema, runRecoveryStep } from "../pipeline/recover";
import { recoverDeps } from "../wiring";

/**
 * A recovery's steps (pipeline/recover.ts), one task each. A step that throws (Firestore or
 * Cloud Tasks unavailable) is dispatched again; it re-sends nothing delivered meanwhile, as each
 * re-send first reads its delivery.
 */
export const recoverDeliveries = onTaskDispatched(
  {
    retryConfig: { maxAttempts: 5, minBackoffSeconds: 10, maxBackoffSeconds: 300 },
    rateLimits: { maxConcurrentDispatches: 20 },
    timeoutSeconds: 300,
    ...SIZING.recovery,
  },
  async (req: Request<unknown>) => {
    const deps = recoverDeps();
    const task = recoveryTaskSchema.safeParse(req.data);
    if (!task.success) {
      deps.log.error("recovery.bad_task", { problems: task.error.issues.map((i) => i.message).join("; ") });
      return;
    }
    await runRecoveryStep(task.data, deps);
  },
);
