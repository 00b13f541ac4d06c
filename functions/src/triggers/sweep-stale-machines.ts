import type { DocumentReference, QueryDocumentSnapshot } from "firebase-admin/firestore";
import { SIZING } from "../sizing";
import { onSchedule } from "firebase-functions/v2/scheduler";
import { onTaskDispatched, type Request } from "firebase-functions/v2/tasks";
import { REGION } from "../config";
import { enqueueFunctionTask } from "../delivery/task-queue";
import { laterPasses, passStillDue } from "../domain/sweep-passes";
import type { PresenceStore } from "../data/presence-store";
import type { SweepStep } from "../domain/presence";
import { coveredFloor, floorToSave } from "../domain/sweep-floor";
import type { Log } from "../log";
import { pickUpStrandedHostReports } from "../pipeline/host-reports";
import { ingestDeps, presenceDeps, productionDeps } from "../wiring";

/** The task function that runs a minute's later passes (exported as such from index.ts). */
export const SWEEP_PASS_FUNCTION = "sweepPass";

const PAGE = 300;
const MAX_PAGES = 20;
const BATCH = 20;

export interface SweepResult {
  candidates: number;
  marked: number;
  deferred: number;
  remarked: number;
  failed: number;
  floor: Date | null;
}

/**
 * One pass: machines gone silent since the floor are marked stale in their presence docs, and
 * presence docs due now (held pages, announced reboots run out) are settled. It emits nothing
 * itself and never writes a machine doc: the trigger on the presence doc reports the mark as
 * `machine.offline`, so there is one emission path, and the machine doc keeps what its agent
 * wrote. Each step is a transaction that re-reads the heartbeat, so a heartbeat racing the
 * sweep wins.
 */
export async function runSweep(presence: PresenceStore, opts: { now: Date; staleAfterMs: number; log?: Log; pageSize?: number }): Promise<SweepResult> {
  const pageSize = opts.pageSize ?? PAGE;
  const cutoff = new Date(opts.now.getTime() - opts.staleAfterMs);
  const start = await presence.sweepFloor();
  const counts = { candidates: 0, marked: 0, deferred: 0, remarked: 0, failed: 0 };
  const unsettledMs: number[] = [];
  let complete = false;
  let after: QueryDocumentSnapshot | undefined;
  for (let page = 0; page < MAX_PAGES && !complete; page++) {
    const docs = await presence.findSilentMachines(start, cutoff, pageSize, after);
    counts.candidates += docs.length;
    for (let i = 0; i < docs.length; i += BATCH) {
      const batch = docs.slice(i, i + BATCH);
      const steps = await settleEach(
        batch.map((d) => d.ref),
        (ref) => presence.sweepMachine(ref, opts.staleAfterMs, opts.now),
        opts.log,
      );
      steps.forEach((step, j) => {
        if (step === "mark") counts.marked++;
        if (step === "defer") counts.deferred++;
        if (step === "failed") counts.failed++;
        if (step === "failed" || step === "retry") unsettledMs.push(heartbeatMs(batch[j]!) ?? cutoff.getTime());
      });
    }
    complete = docs.length < pageSize;
    after = docs[docs.length - 1] ?? after;
  }
  const next = coveredFloor(start?.getTime() ?? null, {
    cutoffMs: cutoff.getTime(),
    complete,
    lastReadMs: after ? heartbeatMs(after) : null,
    unsettledMs,
  });
  const save = floorToSave(start?.getTime() ?? null, next, !complete);
  if (save !== null) await presence.saveSweepFloor(new Date(save));

  // Held pages and announced reboots whose time has come.
  const due = await presence.findDue(opts.now, PAGE);
  for (let i = 0; i < due.length; i += BATCH) {
    const steps = await settleEach(due.slice(i, i + BATCH), (ref) => presence.settleDue(ref, opts.staleAfterMs, opts.now), opts.log);
    counts.remarked += steps.filter((s) => s === "mark").length;
    counts.failed += steps.filter((s) => s === "failed").length;
  }
  const floor = next === null ? null : new Date(next);
  opts.log?.info("sweep.done", { ...counts, cutoff: cutoff.toISOString(), floor: floor?.toISOString() ?? null });
  return { ...counts, floor };
}

function heartbeatMs(doc: QueryDocumentSnapshot): number | null {
  const ts = doc.get("lastHeartbeat") as { toMillis?: () => number } | undefined;
  return typeof ts?.toMillis === "function" ? ts.toMillis() : null;
}

/**
 * One machine per call, each on its own: a step that fails is logged and counted, the machine
 * is read again by the next pass, and it never stops this pass for the machines behind it.
 */
async function settleEach(
  refs: DocumentReference[],
  step: (ref: DocumentReference) => Promise<SweepStep["kind"]>,
  log?: Log,
): Promise<(SweepStep["kind"] | "failed")[]> {
  const results = await Promise.allSettled(refs.map(step));
  return results.map((result, i) => {
    if (result.status === "fulfilled") return result.value;
    log?.warn("sweep.step_failed", { doc: refs[i]!.path, error: String((result.reason as Error)?.message ?? result.reason).slice(0, 200) });
    return "failed";
  });
}

/**
 * Cloud Scheduler fires at most once a minute; the sweep runs `SWEEP_PASSES_PER_MINUTE` passes
 * spread over that minute, so a dead machine is marked within threshold + 10 s (with 6 passes),
 * not threshold + 60 s. The scheduled run makes the first pass and enqueues the others as
 * delayed tasks (domain/sweep-passes.ts), so no instance is held between passes. Those that
 * cannot be enqueued (Cloud Tasks refusing, the role missing, the function not deployed yet),
 * the run makes itself, 10 s apart, as before. A task that cannot be dispatched (the invoker
 * role missing) is a pass missed: outages are then found by the next minute's first pass. A pass that finds nothing costs three reads (the
 * floor and two queries) and the floor's write.
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
  await onePass();
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
  await runSweep(presenceDeps().presence, { now: deps.now(), staleAfterMs: deps.config.staleAfterSeconds * 1000, log: deps.log });
}
