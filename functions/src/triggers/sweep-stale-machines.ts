import type { DocumentReference, QueryDocumentSnapshot } from "firebase-admin/firestore";
import { SIZING } from "../sizing";
import { onSchedule } from "firebase-functions/v2/scheduler";
import type { Store } from "../data/store";
import type { Log } from "../log";
import { productionDeps } from "../wiring";

const PAGE = 300;
const MAX_PAGES = 20;

/**
 * Marks machines whose heartbeat is older than `staleAfterMs` as offline, and marks again those
 * still silent whose page the emission limit held back until now. It emits nothing itself: the machine trigger sees the mark and emits `machine.offline`, so there is one
 * emission path. Each mark is a transaction that re-checks the heartbeat, so a heartbeat racing
 * the sweep wins.
 */
export async function runSweep(
  store: Store,
  opts: { now: Date; staleAfterMs: number; log?: Log; pageSize?: number },
): Promise<{ candidates: number; marked: number; remarked: number; failed: number }> {
  const cutoff = new Date(opts.now.getTime() - opts.staleAfterMs);
  let candidates = 0;
  let marked = 0;
  let failed = 0;
  let after: QueryDocumentSnapshot | undefined;
  for (let page = 0; page < MAX_PAGES; page++) {
    const docs = await store.findStaleMachines(cutoff, opts.pageSize ?? PAGE, after);
    candidates += docs.length;
    for (let i = 0; i < docs.length; i += 20) {
      const results = await settleEach(
        docs.slice(i, i + 20).map((doc) => doc.ref),
        (ref) => store.markStale(ref, cutoff, opts.now),
        opts.log,
      );
      marked += results.marked;
      failed += results.failed;
    }
    if (docs.length < (opts.pageSize ?? PAGE)) break;
    after = docs[docs.length - 1];
  }
  // Pages the emission limit held back, now due: machines still silent are marked again.
  const held = await store.findHeldPages(opts.now, PAGE);
  let remarked = 0;
  for (let i = 0; i < held.length; i += 20) {
    const results = await settleEach(held.slice(i, i + 20), (ref) => store.markHeldAgain(ref, opts.now), opts.log);
    remarked += results.marked;
    failed += results.failed;
  }
  opts.log?.info("sweep.done", { candidates, marked, remarked, failed, cutoff: cutoff.toISOString() });
  return { candidates, marked, remarked, failed };
}

/**
 * One machine per call, each on its own: a doc that cannot be marked (an agent padded it to the
 * size limit, say) is logged and passed over, and never stops the pass for the machines of any
 * other site behind it.
 */
async function settleEach(
  refs: DocumentReference[],
  mark: (ref: DocumentReference) => Promise<boolean>,
  log?: Log,
): Promise<{ marked: number; failed: number }> {
  const results = await Promise.allSettled(refs.map(mark));
  let marked = 0;
  let failed = 0;
  results.forEach((result, i) => {
    if (result.status === "fulfilled") marked += result.value ? 1 : 0;
    else {
      failed++;
      log?.warn("sweep.mark_failed", { machine: refs[i]!.path, error: String((result.reason as Error)?.message ?? result.reason).slice(0, 200) });
    }
  });
  return { marked, failed };
}

/**
 * Cloud Scheduler fires at most once a minute; the sweep runs `SWEEP_PASSES_PER_MINUTE` passes
 * spread over that minute, so a dead machine is marked within threshold + 10 s (with 6 passes),
 * not threshold + 60 s. A pass that finds nothing stale costs one read.
 */
export const sweepStaleMachines = onSchedule({ schedule: "every 1 minutes", retryCount: 0, timeoutSeconds: 90, ...SIZING.sweep }, async () => {
  const deps = productionDeps();
  const { staleAfterSeconds, sweepPassesPerMinute } = deps.config;
  const gapMs = 60_000 / sweepPassesPerMinute;
  const started = Date.now();
  for (let pass = 0; pass < sweepPassesPerMinute; pass++) {
    const wait = started + pass * gapMs - Date.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    await runSweep(deps.store, { now: deps.now(), staleAfterMs: staleAfterSeconds * 1000, log: deps.log });
  }
});
