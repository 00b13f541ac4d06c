import { onTaskDispatched, type Request } from "firebase-functions/v2/tasks";
import { SIZING } from "../sizing";
import { recoveryTaskSchema, runRecoveryStep, StepTaken } from "../pipeline/recover";
import { recoverDeps } from "../wiring";

/**
 * A step that crashed outright (its instance lost) holds its lease for RECOVERY.leaseMs: the
 * backoff (60, 120, 240, 300, 300 s) lets the third retry find it free.
 */
const MAX_ATTEMPTS = 6;

/**
 * A recovery's steps (pipeline/recover.ts), one task each. A step that throws (Firestore or
 * Cloud Tasks unavailable, or its step held by another dispatch) is dispatched again; it
 * re-sends nothing delivered meanwhile, as each re-send first reads its delivery. A step whose
 * last dispatch fails stops its recovery (`abandoned`): recover again.
 */
export const recoverDeliveries = onTaskDispatched(
  {
    retryConfig: { maxAttempts: MAX_ATTEMPTS, minBackoffSeconds: 60, maxBackoffSeconds: 300 },
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
    try {
      await runRecoveryStep(task.data, deps);
    } catch (err) {
      // Its last dispatch: the recovery is marked stopped rather than left running with no chain
      // (unless another dispatch of the step holds it: that one goes on).
      if ((req.retryCount ?? 0) < MAX_ATTEMPTS - 1 || err instanceof StepTaken) throw err;
      deps.log.error("recovery.abandoned", { ...task.data, error: String((err as Error)?.message ?? err).slice(0, 200) });
      await deps.recoveries.abandon(task.data, task.data.step, Date.now());
    }
  },
);
