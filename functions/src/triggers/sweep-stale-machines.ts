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
      const results = await Promise.all(refs.slice(i, i + 20).map((ref) => store.markStale(ref, cutoff)));
      marked += results.filter(Boolean).length;
    }
    if (refs.length < PAGE) break;
  }
  opts.log?.info("sweep.done", { candidates, marked, cutoff: cutoff.toISOString() });
  return { candidates, marked };
}

export const sweepStaleMachines = onSchedule({ schedule: "every 1 minutes", retryCount: 0 }, async () => {
  const deps = productionDeps();
  await runSweep(deps.store, { now: deps.now(), staleAfterMs: deps.config.staleAfterSeconds * 1000, log: deps.log });
});
