import { SIZING } from "../sizing";
import { onSchedule } from "firebase-functions/v2/scheduler";
import { onTaskDispatched, type Request } from "firebase-functions/v2/tasks";
import { REGION } from "../config";
import { enqueueFunctionTask } from "../delivery/task-queue";
import { laterPasses, passStillDue } from "../domain/sweep-passes";
import { presencePass } from "../pipeline/presence-pass";
import { pickUpStrandedHostReports } from "../pipeline/host-reports";
import { ingestDeps, presenceDeps, productionDeps } from "../wiring";

/** The task function that runs a minute's later passes (exported as such from index.ts). */
export const SWEEP_PASS_FUNCTION = "sweepPass";

/**
 * Cloud Scheduler fires at most once a minute; the sweep runs `SWEEP_PASSES_PER_MINUTE` passes
 * spread over that minute, so a dead machine is marked within threshold + 10 s (with 6 passes),
 * not threshold + 60 s. The scheduled run makes the first pass and enqueues the others as
 * delayed tasks (domain/sweep-passes.ts), so no instance is held between passes. Those that
 * cannot be enqueued (Cloud Tasks refusing, the role missing, the function not deployed yet),
 * the run makes itself, 10 s apart, as before. A task that cannot be dispatched (the invoker
 * role missing) is a pass missed: outages are then found by the next minute's first pass. A pass that finds nothing costs two
 * reads (the sweep's state, the due query) and one per site (its query; the site list is read
 * every 10 minutes), and the state's write.
 */
export const sweepStaleMachines = onSchedule({ schedule: "every 1 minutes", retryCount: 0, timeoutSeconds: 90, ...SIZING.sweep }, async () => {
  const deps = productionDeps();
  const { sweepPassesPerMinute } = deps.config;
  const firedAt = Date.now();
  // Events the host handed over that no trigger handled: delivered late rather than lost; beside
  // the passes, never ahead of them (outage detection does not wait on it).
  const pickup = pickUpStrandedHostReports(ingestDeps(), deps.now()).catch((err: unknown) => {
    deps.log.warn("host_report.pickup_failed", { error: String(err) });
    return 0;
  });
  const later = laterPasses(firedAt, sweepPassesPerMinute);
  // Enqueued beside the first pass: a slow Cloud Tasks does not hold it back.
  const enqueuing = Promise.allSettled(later.map((p) => enqueueFunctionTask(REGION, SWEEP_PASS_FUNCTION, { dueAtMs: p.dueAtMs }, p)));
  // A first pass that fails (a site it could not sweep) does not end the minute: its error is
  // thrown once the rest of the run has been made.
  const firstPass = await onePass().then(
    () => null,
    (err: unknown) => err,
  );
  const queued = await enqueuing;
  const unqueued = later.filter((_, i) => queued[i]!.status === "rejected");
  if (unqueued.length > 0) {
    const error = queued.find((q): q is PromiseRejectedResult => q.status === "rejected")?.reason;
    deps.log.warn("sweep.passes_not_enqueued", { passes: unqueued.length, error: String(error).slice(0, 200), fallback: "in this run" });
  }
  for (const pass of unqueued) {
    const wait = pass.dueAtMs - Date.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    // One pass failing (Firestore unavailable a moment) does not end the minute's others.
    await onePass().catch((err: unknown) => deps.log.warn("sweep.pass_failed", { error: String(err).slice(0, 200) }));
  }
  await pickup;
  if (firstPass) throw firstPass;
});

/** One of a minute's later passes, dispatched by Cloud Tasks one at a time. */
export const sweepPass = onTaskDispatched(
  // A dispatch that fails (an instance restarting) is tried once more; one overtaken by the next minute's passes is skipped.
  { retryConfig: { maxAttempts: 2, minBackoffSeconds: 1 }, rateLimits: { maxConcurrentDispatches: 1 }, timeoutSeconds: 60, ...SIZING.sweep },
  async (req: Request<{ dueAtMs?: unknown }>) => {
    const dueAtMs = typeof req.data?.dueAtMs === "number" ? req.data.dueAtMs : 0;
    if (!passStillDue(dueAtMs, Date.now())) {
      productionDeps().log.warn("sweep.pass_late", { dueAt: new Date(dueAtMs).toISOString() });
      return;
    }
    await onePass();
  },
);

async function onePass(): Promise<void> {
  const deps = productionDeps();
  await presencePass({ ...ingestDeps(), ...presenceDeps(), presenceMode: deps.config.presenceMode }, deps.now());
}
