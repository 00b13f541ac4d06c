import type { DocumentReference, QueryDocumentSnapshot } from "firebase-admin/firestore";
import { FAILED_PRECONDITION, grpcCode, INVALID_ARGUMENT } from "../data/delivery-writes";
import type { PresenceStore } from "../data/presence-store";
import type { ReturnWatchStore } from "../data/return-watch-store";
import type { SweepStep } from "../domain/presence";
import { RETURN_WATCH_FIELD } from "../domain/return-watch";
import type { PresenceMode } from "../domain/presence-mode";
import { coveredFloor, floorToSave } from "../domain/sweep-floor";
import type { Log } from "../log";

const PAGE = 300;
/** Machines a pass reads at most, across its sites (20 pages): a fleet-wide outage is marked over several passes, each saving what it covered. */
const PASS_PAGES = 20;
const BATCH = 20;
/** Sites swept at once in a pass (each a query, then its machines' transactions). */
export const SWEEP_SITE_CONCURRENCY = 8;

export interface SweepResult {
  /** Sites the pass looked at. */
  sites: number;
  /** Sites whose query failed (the pass then throws, once it has saved and settled the rest). */
  failedSites: number;
  candidates: number;
  marked: number;
  deferred: number;
  remarked: number;
  failed: number;
  /** The pass used the earlier version's query across every site (the per-site index not built yet). */
  acrossSites: boolean;
  /** Sweep presence mode: machines found silent again with a mark they had beaten (back and gone between passes), to answer. */
  beaten: DocumentReference[];
}

type Counts = Pick<SweepResult, "candidates" | "marked" | "deferred" | "failed"> & { beaten: DocumentReference[] };
/** `watch`: the sweep presence mode (domain/presence-mode.ts): each machine is flagged before it is decided, and marks it has beaten are kept to answer. */
type PassOptions = { now: Date; staleAfterMs: number; log?: Log; pageSize?: number; watch?: ReturnWatchStore };
/** Machines the pass may still read; shared by its sites. */
type Budget = { machines: number };

/**
 * One pass: in each site, machines gone silent since the site's floor are marked stale in their
 * presence docs, and presence docs due now (held pages, announced reboots run out) are settled.
 * It emits nothing itself and never writes a machine doc: the trigger on the presence doc
 * reports the mark as `machine.offline`, so there is one emission path, and the machine doc
 * keeps what its agent wrote. Each step is a transaction that re-reads the heartbeat, so a
 * heartbeat racing the sweep wins. Sites are queried one by one (an index per site's machines,
 * so no index range holds the whole fleet's heartbeats), furthest behind first, within one
 * budget of machines a pass; until that index is built (the first deploy of this version), a
 * pass falls back to the earlier query across every site. A site that cannot be swept does not
 * stop the others: the pass saves and settles what it could, then throws.
 */
export async function runSweep(presence: PresenceStore, opts: PassOptions): Promise<SweepResult> {
  const cutoff = new Date(opts.now.getTime() - opts.staleAfterMs);
  const [state, listing] = await Promise.all([presence.sweepState(), presence.siteIds()]);
  const floorOf = (siteId: string) => state.floors.get(siteId) ?? state.sharedFloor;
  const behind = (siteId: string) => floorOf(siteId)?.getTime() ?? Number.MIN_SAFE_INTEGER;
  const sites = [...listing.ids].sort((a, b) => behind(a) - behind(b));
  const budget: Budget = { machines: (opts.pageSize ?? PAGE) * PASS_PAGES };
  const counts: Counts = { candidates: 0, marked: 0, deferred: 0, failed: 0, beaten: [] };
  const floors = new Map<string, Date>();
  const failedSites: string[] = [];
  let indexMissing = false;
  await inPool(sites, SWEEP_SITE_CONCURRENCY, async (siteId) => {
    // Out of budget: left for the next pass, its floor where it was.
    if (budget.machines <= 0) return;
    const start = floorOf(siteId);
    try {
      const swept = await sweepRange((after, limit) => presence.findSilentMachines(siteId, start, cutoff, limit, after), start, cutoff, presence, opts, budget);
      addCounts(counts, swept.counts);
      if (swept.save !== null) floors.set(siteId, new Date(swept.save));
    } catch (err) {
      if (grpcCode(err) === FAILED_PRECONDITION) indexMissing = true;
      else siteFailed(failedSites, siteId, err, opts.log);
    }
  });
  const shared = indexMissing ? await acrossSites(presence, sites.map(floorOf), cutoff, opts, budget, counts, failedSites) : null;
  const forget = listing.fresh ? [...state.floors.keys()].filter((siteId) => !listing.ids.includes(siteId)) : [];
  // After the marks: a switch of mode never holds back the pass's pages.
  const presenceMode = await switchPresenceMode(state.presenceMode, opts);
  await presence.saveSweepState({ floors, sharedFloor: shared, forget, presenceMode }).catch((err: unknown) => {
    // Nothing is missed: the next pass reads from the floors as they were.
    opts.log?.warn("sweep.floors_not_saved", { error: String((err as Error)?.message ?? err).slice(0, 200) });
  });
  const remarked = await settleDue(presence, counts, opts);
  const result = { sites: sites.length, failedSites: failedSites.length, ...counts, remarked, acrossSites: indexMissing };
  opts.log?.info("sweep.done", { ...result, beaten: counts.beaten.length, cutoff: cutoff.toISOString() });
  if (failedSites.length > 0)
    // The result goes with the error: what the pass did in the other sites (the returns it found) is still to be answered.
    throw new SweepError(`sweep: ${failedSites.length} site(s) could not be swept (${failedSites.slice(0, 5).join(", ")}); the others were`, result);
  return result;
}

/** A pass that could not sweep every site, with what it did in the others. */
export class SweepError extends Error {
  constructor(
    message: string,
    readonly result: SweepResult,
  ) {
    super(message);
  }
}

/**
 * The pass across every site, while the per-site index builds: from the lowest floor of any
 * site, so every site's silent machines are in range. Returns the floor it covered (null: none,
 * or it failed, which is counted as a failed site).
 */
async function acrossSites(
  presence: PresenceStore,
  siteFloors: (Date | null)[],
  cutoff: Date,
  opts: PassOptions,
  budget: Budget,
  counts: Counts,
  failedSites: string[],
): Promise<Date | null> {
  opts.log?.warn("sweep.site_index_missing", { fallback: "the query across every site, this pass" });
  const start = siteFloors.some((f) => f === null) ? null : new Date(Math.min(...siteFloors.map((f) => f!.getTime())));
  try {
    const swept = await sweepRange(
      (after, limit) => presence.findSilentMachinesAcrossSites(start, cutoff, limit, after),
      start,
      cutoff,
      presence,
      opts,
      budget,
    );
    addCounts(counts, swept.counts);
    return swept.save === null ? null : new Date(swept.save);
  } catch (err) {
    siteFailed(failedSites, "(across sites)", err, opts.log);
    return null;
  }
}

function siteFailed(failedSites: string[], siteId: string, err: unknown, log?: Log): void {
  failedSites.push(siteId);
  log?.warn("sweep.site_failed", { siteId, error: String((err as Error)?.message ?? err).slice(0, 200) });
}

/** What one range of machines gave, within the pass's budget: its counts and the floor to write (null: leave it). */
async function sweepRange(
  find: (after: QueryDocumentSnapshot | undefined, limit: number) => Promise<QueryDocumentSnapshot[]>,
  start: Date | null,
  cutoff: Date,
  presence: PresenceStore,
  opts: PassOptions,
  budget: Budget,
): Promise<{ counts: Counts; save: number | null }> {
  const counts: Counts = { candidates: 0, marked: 0, deferred: 0, failed: 0, beaten: [] };
  const unsettledMs: number[] = [];
  let complete = false;
  let after: QueryDocumentSnapshot | undefined;
  while (!complete && budget.machines > 0) {
    const limit = Math.min(opts.pageSize ?? PAGE, budget.machines);
    const docs = await find(after, limit);
    budget.machines -= docs.length;
    counts.candidates += docs.length;
    for (let i = 0; i < docs.length; i += BATCH) {
      const batch = docs.slice(i, i + BATCH);
      const steps = await settleEach(batch, (machine) => decide(presence, machine, opts), opts.log);
      steps.forEach((step, j) => {
        if (step === "mark") counts.marked++;
        if (step === "defer") counts.deferred++;
        if (step === "failed") counts.failed++;
        if (step === "failed" || step === "retry") unsettledMs.push(heartbeatMs(batch[j]!) ?? cutoff.getTime());
        if (step === "retry" && opts.watch) counts.beaten.push(batch[j]!.ref);
      });
    }
    complete = docs.length < limit;
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
  into.beaten.push(...from.beaten);
}

/**
 * One silent machine decided. In the sweep presence mode it is flagged first (unless the query
 * saw it flagged), so the pass that finds it back needs no read of the marks: a flag on a
 * machine not marked in the end is removed when it beats. A doc too large to take the flag
 * (INVALID_ARGUMENT: an agent padded it to the size limit) is marked without it, its return
 * answered when it next goes silent; any other failure fails the step, and the next pass tries
 * again (the floor is held below it).
 */
async function decide(presence: PresenceStore, machine: QueryDocumentSnapshot, opts: PassOptions): Promise<SweepStep["kind"]> {
  if (opts.watch && machine.get(RETURN_WATCH_FIELD) !== true)
    await opts.watch.flag(machine.ref).catch((err: unknown) => {
      if (grpcCode(err) !== INVALID_ARGUMENT) throw err;
      opts.log?.warn("sweep.flag_too_large", { doc: machine.ref.path, error: String((err as Error)?.message ?? err).slice(0, 200) });
    });
  return presence.sweepMachine(machine.ref, opts.staleAfterMs, opts.now, !!opts.watch);
}

/**
 * The presence mode this pass saves when it differs from the one the state was last saved in.
 * Switching to the sweep mode flags every machine marked or deferred before (the trigger mode's
 * marks carry no flag), so their returns are found too.
 */
async function switchPresenceMode(saved: string | null, opts: PassOptions): Promise<PresenceMode | undefined> {
  if (opts.watch && saved !== "sweep") {
    // Not saved until every flag is in: the next pass tries the switch again (each flag is idempotent).
    const flags = await opts.watch.flagEveryMark(opts.log).catch((err: unknown) => {
      opts.log?.warn("sweep.presence_mode_failed", { error: String((err as Error)?.message ?? err).slice(0, 200) });
      return null;
    });
    if (!flags || flags.failed > 0) return undefined;
    opts.log?.info("sweep.presence_mode", { mode: "sweep", was: saved ?? "trigger", flagged: flags.flagged });
    return "sweep";
  }
  if (!opts.watch && saved === "sweep") {
    opts.log?.info("sweep.presence_mode", { mode: "trigger", was: saved });
    return "trigger";
  }
  return undefined;
}

/** Runs `work` over `items`, at most `size` at a time. */
async function inPool<T>(items: readonly T[], size: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await work(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(size, items.length) }, worker));
}

function heartbeatMs(doc: QueryDocumentSnapshot): number | null {
  const ts = doc.get("lastHeartbeat") as { toMillis?: () => number } | undefined;
  return typeof ts?.toMillis === "function" ? ts.toMillis() : null;
}

/**
 * One machine per call, each on its own: a step that fails is logged and counted, the machine
 * is read again by the next pass, and it never stops this pass for the machines behind it.
 */
async function settleEach<T extends DocumentReference | QueryDocumentSnapshot>(
  items: T[],
  step: (item: T) => Promise<SweepStep["kind"]>,
  log?: Log,
): Promise<(SweepStep["kind"] | "failed")[]> {
  const results = await Promise.allSettled(items.map(step));
  return results.map((result, i) => {
    if (result.status === "fulfilled") return result.value;
    const item = items[i]!;
    log?.warn("sweep.step_failed", {
      doc: "ref" in item ? item.ref.path : item.path,
      error: String((result.reason as Error)?.message ?? result.reason).slice(0, 200),
    });
    return "failed";
  });
}
