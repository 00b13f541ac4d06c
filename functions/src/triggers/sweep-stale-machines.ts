import { onSchedule } from "firebase-functions/v2/scheduler";
import type { Store } from "../data/store";
import type { Log } from "../log";
import { productionDeps } from "../wiring";

const PAGE = 300;
const MAX_PAGES = 20;

/**
 * Marks machines whose heartbeat is older than `staleAfterMs` as offline. It emits nothing
 * itself: the machine trigger sees the mark and emits `machine.offline`, so there is one
 * emission path. Each mark is a transaction that re-checks the heartbeat, so a heartbeat racing
 * the sweep wins.
 */
export async function runSweep(
  store: Store,
  opts: { now: Date; staleAfterMs: number; log?: Log },
): Promise<{ candidates: number; marked: number }> {
  const cutoff = new Date(opts.now.getTime() - opts.staleAfterMs);
  let candidates = 0;
  let marked = 0;
  for (let page = 0; page < MAX_PAGES; page++) {
    const refs = await store.findStaleMachines(cutoff, PAGE);
    candidates += refs.length;
    for (let i = 0; i < refs.length; i += 20) {
      const results = await Promise.all(refs.slice(i, i + 20).map((ref) => store.markStale(ref, cutoff, opts.now)));
      marked += results.filter(Boolean).length;
    }
    if (refs.length < PAGE) break;
  }
  opts.log?.info("sweep.done", { candidates, marked, cutoff: cutoff.toISOString() });
  return { candidates, marked };
}

/**
 * Cloud Scheduler fires at most once a minute; the sweep runs `SWEEP_PASSES_PER_MINUTE` passes
 * spread over that minute, so a dead machine is marked within threshold + 10 s (with 6 passes),
 * not threshold + 60 s. A pass that finds nothing stale costs one read.
 */
export const sweepStaleMachines = onSchedule({ schedule: "every 1 minutes", retryCount: 0, timeoutSeconds: 90 }, async () => {
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
