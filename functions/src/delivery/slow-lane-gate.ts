import { LaneShareStore } from "../data/lane-share-store";
import type { Store } from "../data/store";
import type { PipelineConfig } from "../config";
import type { Lane } from "../domain/delivery-lanes";
import type { DeliveryTask, Enqueue } from "./task-queue";

interface GateDeps {
  store: Store;
  enqueue: Enqueue;
  now: () => Date;
  config: Pick<PipelineConfig, "deliveryTimeoutMs" | "slowLaneSiteShare">;
  /** The sites' slow-lane pacing; over the store's Firestore when absent. */
  shares?: LaneShareStore;
}

/**
 * A slow-lane attempt takes its site's turn (domain/slow-lane-share.ts) before it sends: due
 * now, it goes on (null); due later, it is enqueued again for that start, under a name of its
 * own (`hold` + 1) and with the start in the task, and this dispatch ends at once, holding no
 * slot while it waits. An attempt dispatched with its reserved start does not reserve again.
 */
export async function waitForSiteTurn(task: DeliveryTask, lane: Lane, deps: GateDeps): Promise<number | null> {
  if (lane !== "slow" || task.slotAt !== undefined) return null;
  const shares = deps.shares ?? new LaneShareStore(deps.store.db);
  const now = deps.now();
  let startMs: number;
  try {
    startMs = await shares.reserveSlowStart(task.siteId, now, { share: deps.config.slowLaneSiteShare, timeoutMs: deps.config.deliveryTimeoutMs });
  } catch {
    // The site's burst contends for its pacing doc and this transaction gave up: ask again in a
    // moment from a task of its own, rather than fail the dispatch (whose retries are few).
    await deps.enqueue({ ...task, hold: (task.hold ?? 0) + 1 }, CONTENDED_RETRY_SECONDS, "slow");
    return CONTENDED_RETRY_SECONDS;
  }
  if (startMs <= now.getTime()) return null;
  const seconds = Math.ceil((startMs - now.getTime()) / 1000);
  await deps.enqueue({ ...task, hold: (task.hold ?? 0) + 1, slotAt: startMs }, seconds, "slow");
  return seconds;
}

/** How soon an attempt whose reservation lost to contention asks again. */
const CONTENDED_RETRY_SECONDS = 2;
