import type { DocumentReference, QueryDocumentSnapshot } from "firebase-admin/firestore";
import type { PresenceStore } from "../data/presence-store";
import type { SweepStep } from "../domain/presence";
import { coveredFloor, floorToSave } from "../domain/sweep-floor";
import type { Log } from "../log";

const PAGE = 300;
const MAX_PAGES = 20;
const BATCH = 20;
/** Sites swept at once in a pass (each a query, then its machines' transactions). */
export const SWEEP_SITE_CONCURRENCY = 8;

export interface SweepResult {
  /** Sites the pass looked at. */
  sites: number;
  candidates: number;
  marked: number;
  deferred: number;
  remarked: number;
  failed: number;
  /** The pass used the earlier version's query across every site (the per-site index not built yet). */
  acrossSites: boolean;
}

type Counts = Pick<SweepResult, "candidates" | "marked" | "deferred" | "failed">;

/**
 * One pass: in each site, machines gone silent since the site's floor are marked stale in their
 * presence docs, and presence docs due now (held pages, announced reboots run out) are settled.
 * It emits nothing itself and never writes a machine doc: the trigger on the presence doc
 * reports the mark as `machine.offline`, so there is one emission path, and the machine doc
 * keeps what its agent wrote. Each step is a transaction that re-reads the heartbeat, so a
 * heartbeat racing the sweep wins. Sites are queried one by one (an index per site's machines,
 * so no index range holds the whole fleet's heartbeats); until that index is built (the first
 * deploy of this version), a pass falls back to the earlier query across every site.
 */
export async function runSweep(presence: PresenceStore, opts: { now: Date; staleAfterMs: number; log?: Log; pageSize?: number }): Promise<SweepResult> {
  const cutoff = new Date(opts.now.getTime() - opts.staleAfterMs);
  const [state, sites] = await Promise.all([presence.sweepState(), presence.siteIds()]);
  const counts: Counts = { candidates: 0, marked: 0, deferred: 0, failed: 0 };
  const floors = new Map<string, Date>();
  let indexMissing = false;
  await inPool(sites, SWEEP_SITE_CONCURRENCY, async (siteId) => {
    const start = state.floors.get(siteId) ?? state.sharedFloor;
    try {
      const swept = await sweepRange(
        (after) => presence.findSilentMachines(siteId, start, cutoff, opts.pageSize ?? PAGE, after),
        start,
        cutoff,
        presence,
        opts,
      );
      addCounts(counts, swept.counts);
      if (swept.save !== null) floors.set(siteId, new Date(swept.save));
    } catch (err) {
      if (grpcCodeOf(err) === FAILED_PRECONDITION) indexMissing = true;
      else opts.log?.warn("sweep.site_failed", { siteId, error: String((err as Error)?.message ?? err).slice(0, 200) });
    }
  });
  let shared: Date | null = null;
  if (indexMissing) {
    opts.log?.warn("sweep.site_index_missing", { fallback: "the query across every site, this pass" });
    const swept = await sweepRange(
      (after) => presence.findSilentMachinesAcrossSites(state.sharedFloor, cutoff, opts.pageSize ?? PAGE, after),
      state.sharedFloor,
      cutoff,
      presence,
      opts,
    );
    addCounts(counts, swept.counts);
    if (swept.save !== null) shared = new Date(swept.save);
  }
  await presence.saveSweepState({ floors, sharedFloor: shared });
  const remarked = await settleDue(presence, counts, opts);
  const result = { sites: sites.length, ...counts, remarked, acrossSites: indexMissing };
  opts.log?.info("sweep.done", { ...result, cutoff: cutoff.toISOString() });
  return result;
}

/** What one range of machines gave: its counts and the floor to write (null: leave it). */
async function sweepRange(
  find: (after?: QueryDocumentSnapshot) => Promise<QueryDocumentSnapshot[]>,
  start: Date | null,
  cutoff: Date,
  presence: PresenceStore,
  opts: { now: Date; staleAfterMs: number; log?: Log; pageSize?: number },
): Promise<{ counts: Counts; save: number | null }> {
  const pageSize = opts.pageSize ?? PAGE;
  const counts: Counts = { candidates: 0, marked: 0, deferred: 0, failed: 0 };
  const unsettledMs: number[] = [];
  let complete = false;
  let after: QueryDocumentSnapshot | undefined;
  for (let page = 0; page < MAX_PAGES && !complete; page++) {
    const docs = await find(after);
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
  return { counts, save: floorToSave(start?.getTime() ?? null, next, !complete) };
}

/** Held pages and announced reboots whose time has come; how many were marked again. */
async function settleDue(presence: PresenceStore, counts: Counts, opts: { now: Date; staleAfterMs: number; log?: Log }): Promise<number> {
  const due = await presence.findDue(opts.now, PAGE);
  let remarked = 0;
  for (let i = 0; i < due.length; i += BATCH) {
    const steps = await settleEach(due.slice(i, i + BATCH), (ref) => presence.settleDue(ref, opts.staleAfterMs, opts.now), opts.log);
    remarked += steps.filter((s) => s === "mark").length;
    counts.failed += steps.filter((s) => s === "failed").length;
  }
  return remarked;
}

function addCounts(into: Counts, from: Counts): void {
  into.candidates += from.candidates;
  into.marked += from.marked;
  into.deferred += from.deferred;
  into.failed += from.failed;
}

/** Runs `work` over `items`, at most `size` at a time. */
async function inPool<T>(items: readonly T[], size: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await work(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(size, items.length) }, worker));
}

function grpcCodeOf(err: unknown): number | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === "number" ? code : undefined;
}

const FAILED_PRECONDITION = 9;

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
