import {
  FieldValue,
  Timestamp,
  type DocumentReference,
  type DocumentSnapshot,
  type Firestore,
  type QueryDocumentSnapshot,
  type Transaction,
} from "firebase-admin/firestore";
import { dueStep, markOf, presenceDocSchema, sweepStep, type Mark, type SweepStep, type SweptMachine } from "../domain/presence";
import { AGENT_LIMITS, type TimestampLike } from "../domain/agent-docs";
import { LEGACY_MARK_FIELDS } from "../domain/legacy-mark";
import type { PresenceMode } from "../domain/presence-mode";
import { RETURN_WATCH_FIELD } from "../domain/return-watch";
import { FAILED_PRECONDITION, grpcCode, ignoreMissing } from "./delivery-writes";
import { isSiteMachine, paths } from "./paths";
import { parseOrNull } from "./parse";

/**
 * The sweep's state: presence docs (`sites/{s}/presence/{m}`, one per silent machine) and the
 * sweep floor. Machine docs are read here, not written (but to remove the fields an earlier version of the sweep wrote there): they are the agent's.
 */
/** How long an instance trusts its list of the sites: a new site's machines are swept at most this much later. */
export const SITE_LIST_MAX_AGE_MS = 10 * 60_000;

export interface SweepState {
  /** Per site: every machine of it whose heartbeat is older was looked at by a pass. */
  floors: Map<string, Date>;
  /** The floor of the earlier version's pass across every site: where a site without its own starts. */
  sharedFloor: Date | null;
  /** The presence mode of the pass that last saved the state (null: a version before modes). */
  presenceMode: string | null;
}

export class PresenceStore {
  /** The sites as this instance last listed them. */
  private listing: { ids: string[]; atMs: number } | null = null;

  constructor(readonly db: Firestore) {}

  /** The sweep's state (`pipelineState/sweep`): each site's floor, and the earlier version's floor across every site. */
  async sweepState(): Promise<SweepState> {
    const data = (await this.db.doc(paths.sweepState()).get()).data();
    const floors = new Map<string, Date>();
    for (const [siteId, at] of Object.entries((data?.floors ?? {}) as Record<string, unknown>)) if (at instanceof Timestamp) floors.set(siteId, at.toDate());
    const presenceMode = typeof data?.presenceMode === "string" ? data.presenceMode : null;
    return { floors, sharedFloor: data?.floor instanceof Timestamp ? data.floor.toDate() : null, presenceMode };
  }

  /**
   * Writes the floors that moved, merged into the others, and drops those of `forget` (sites no
   * longer listed): one write, none when nothing changed. `sharedFloor`: the floor of a pass
   * across every site (the fallback while the per-site index builds). `presenceMode`: the mode
   * this pass ran in, when it differs from the one saved.
   */
  async saveSweepState(update: { floors: Map<string, Date>; sharedFloor: Date | null; forget?: string[]; presenceMode?: PresenceMode }): Promise<void> {
    const floors: Record<string, Timestamp | FieldValue> = Object.fromEntries([...update.floors].map(([siteId, at]) => [siteId, Timestamp.fromDate(at)]));
    for (const siteId of update.forget ?? []) floors[siteId] = FieldValue.delete();
    if (Object.keys(floors).length === 0 && !update.sharedFloor && !update.presenceMode) return;
    await this.db.doc(paths.sweepState()).set(
      {
        ...(Object.keys(floors).length > 0 ? { floors } : {}),
        ...(update.sharedFloor ? { floor: Timestamp.fromDate(update.sharedFloor) } : {}),
        ...(update.presenceMode ? { presenceMode: update.presenceMode } : {}),
      },
      { merge: true },
    );
  }

  /**
   * The ids of every site, as this instance listed them at most SITE_LIST_MAX_AGE_MS ago (one
   * read per site when listed; `fresh`: listed now). Sites whose doc is gone but whose machines
   * remain are listed too, as the query across every site found them.
   */
  async siteIds(nowMs = Date.now()): Promise<{ ids: string[]; fresh: boolean }> {
    if (this.listing && nowMs - this.listing.atMs < SITE_LIST_MAX_AGE_MS) return { ids: this.listing.ids, fresh: false };
    const ids = (await this.db.collection("sites").listDocuments()).map((ref) => ref.id);
    this.listing = { ids, atMs: nowMs };
    return { ids, fresh: true };
  }

  /**
   * The site's machines the agent last reported online whose heartbeat is in [floor, cutoff),
   * oldest first, a page at a time: `after` is the previous page's last one. Each site's
   * machines are their own index range, so the fleet's heartbeats share none.
   */
  async findSilentMachines(siteId: string, floor: Date | null, cutoff: Date, limit: number, after?: QueryDocumentSnapshot): Promise<QueryDocumentSnapshot[]> {
    return silentIn(this.db.collection(paths.machines(siteId)), floor, cutoff, limit, after);
  }

  /**
   * The same across every site (the `machines` collection group): what the earlier version
   * queried, used only while the per-site index is not built yet (its index is then still there).
   */
  async findSilentMachinesAcrossSites(floor: Date | null, cutoff: Date, limit: number, after?: QueryDocumentSnapshot): Promise<QueryDocumentSnapshot[]> {
    return silentIn(this.db.collectionGroup("machines"), floor, cutoff, limit, after);
  }

  /**
   * One machine the query found silent, decided inside a transaction over its machine doc and
   * its presence doc: a heartbeat that landed after the query wins, and so does an announced
   * reboot or shutdown (the machine is looked at again when it runs out). `answersReturns`: the
   * sweep presence mode (domain/presence.ts sweepStep).
   */
  async sweepMachine(machineRef: DocumentReference, thresholdMs: number, now: Date, answersReturns = false): Promise<SweepStep["kind"]> {
    if (!isSiteMachine(machineRef)) return "none";
    const presenceRef = presenceOf(machineRef);
    return this.db.runTransaction(async (tx) => {
      const [machine, presence] = await Promise.all([tx.get(machineRef), tx.get(presenceRef)]);
      const doc = parseOrNull(presenceDocSchema, presence.data());
      const swept = sweptMachine(machine);
      const step: SweepStep = swept ? sweepStep(swept, doc, now.getTime(), thresholdMs, answersReturns) : { kind: "none" };
      apply(tx, presenceRef, step, machine);
      return step.kind;
    });
  }

  /** Presence docs whose `dueAt` has come: held pages and deferred machines. */
  async findDue(now: Date, limit: number): Promise<DocumentReference[]> {
    const snap = await this.db.collectionGroup("presence").where("dueAt", "<=", Timestamp.fromDate(now)).limit(limit).select().get();
    return snap.docs.map((d) => d.ref);
  }

  /** One due presence doc, decided inside a transaction over it and its machine doc. */
  async settleDue(presenceRef: DocumentReference, thresholdMs: number, now: Date): Promise<SweepStep["kind"]> {
    const machineRef = this.db.doc(paths.machine(presenceRef.parent.parent!.id, presenceRef.id));
    return this.db.runTransaction(async (tx) => {
      const [presence, machine] = await Promise.all([tx.get(presenceRef), tx.get(machineRef)]);
      const doc = parseOrNull(presenceDocSchema, presence.data());
      const due = doc?.dueAt;
      if (!doc || !due || due.toMillis() > now.getTime()) return "none";
      const step = dueStep(sweptMachine(machine), doc, now.getTime(), thresholdMs);
      apply(tx, presenceRef, step, machine);
      return step.kind;
    });
  }

  /** The machine's mark, if the sweep has one, and the presence doc's version as read. */
  async loadMark(siteId: string, machineId: string): Promise<(Mark & { version: Timestamp | null }) | null> {
    const snap = await this.db.doc(paths.presence(siteId, machineId)).get();
    const mark = markOf(parseOrNull(presenceDocSchema, snap.data()));
    return mark && { ...mark, version: snap.updateTime ?? null };
  }

  /**
   * The machine is back: its mark goes, unless the sweep has marked it again meanwhile. With the
   * version its mark was read at, a delete conditioned on it (no read); if the doc changed since,
   * or without one, a transaction that checks the mark.
   */
  async clearMark(siteId: string, machineId: string, staleSince: TimestampLike, version?: Timestamp | null): Promise<void> {
    if (version) {
      try {
        await this.db.doc(paths.presence(siteId, machineId)).delete({ lastUpdateTime: version });
        return;
      } catch (err) {
        if (grpcCode(err) !== FAILED_PRECONDITION) throw err; // changed since
      }
    }
    await this.ifMark(siteId, machineId, staleSince, (tx, ref) => tx.delete(ref));
  }

  /**
   * The machine.offline of this mark was held back by the emission limit (a machine that went
   * offline once already this hour): if the machine is still silent when the limit's window
   * turns, the sweep marks it again and it is paged then: delayed, not lost (an outage over the
   * site's own bound is counted instead, never held: domain/emission-policy.ts).
   */
  async holdPage(siteId: string, machineId: string, staleSince: TimestampLike, until: Date): Promise<void> {
    await this.ifMark(siteId, machineId, staleSince, (tx, ref) => tx.update(ref, { dueAt: Timestamp.fromDate(until) }));
  }

  /**
   * The one write this store makes to a machine doc: removing the mark an earlier version of the
   * sweep kept there (domain/legacy-mark.ts), once the machine is back. Fields the agent writes
   * are left alone; a machine doc deleted meanwhile needs nothing.
   */
  async clearLegacyMark(siteId: string, machineId: string): Promise<void> {
    const removal = Object.fromEntries(LEGACY_MARK_FIELDS.map((f) => [f, FieldValue.delete()]));
    await this.db
      .doc(paths.machine(siteId, machineId))
      .update(removal)
      .catch((err: { code?: number }) => {
        if (err.code !== 5) throw err; // NOT_FOUND
      });
  }

  /**
   * The sweep presence mode's flag (data/return-watch-store.ts), removed by the machine trigger
   * when the trigger mode answers a return the sweep mode had not (a switch back).
   */
  async clearReturnFlag(siteId: string, machineId: string): Promise<void> {
    await this.db
      .doc(paths.machine(siteId, machineId))
      .update({ [RETURN_WATCH_FIELD]: FieldValue.delete() })
      .catch(ignoreMissing);
  }

  /**
   * A deleted machine leaves no presence doc behind; unless the machine is there again by the
   * time this runs (a late redelivery of the delete's trigger after the machine came back and
   * was marked anew): that mark is the new machine's.
   */
  async forget(siteId: string, machineId: string): Promise<void> {
    const machineRef = this.db.doc(paths.machine(siteId, machineId));
    const presenceRef = this.db.doc(paths.presence(siteId, machineId));
    await this.db.runTransaction(async (tx) => {
      if ((await tx.get(machineRef)).exists) return;
      tx.delete(presenceRef);
    });
  }

  private async ifMark(siteId: string, machineId: string, staleSince: TimestampLike, write: (tx: Transaction, ref: DocumentReference) => void) {
    const ref = this.db.doc(paths.presence(siteId, machineId));
    await this.db.runTransaction(async (tx) => {
      const mark = markOf(parseOrNull(presenceDocSchema, (await tx.get(ref)).data()));
      if (mark?.staleSince.toMillis() === staleSince.toMillis()) write(tx, ref);
    });
  }
}

function silentIn(
  machines: FirebaseFirestore.Query,
  floor: Date | null,
  cutoff: Date,
  limit: number,
  after?: QueryDocumentSnapshot,
): Promise<QueryDocumentSnapshot[]> {
  let query = machines.where("online", "==", true);
  if (floor) query = query.where("lastHeartbeat", ">=", Timestamp.fromDate(floor));
  // The sweep presence mode's flag too: a machine flagged already is not written again.
  query = query.where("lastHeartbeat", "<", Timestamp.fromDate(cutoff)).orderBy("lastHeartbeat").select("lastHeartbeat", RETURN_WATCH_FIELD);
  if (after) query = query.startAfter(after);
  return query
    .limit(limit)
    .get()
    .then((snap) => snap.docs);
}

function presenceOf(machineRef: DocumentReference): DocumentReference {
  return machineRef.firestore.doc(paths.presence(machineRef.parent.parent!.id, machineRef.id));
}

function sweptMachine(snap: DocumentSnapshot): SweptMachine | null {
  if (!snap.exists) return null;
  const heartbeat = snap.get("lastHeartbeat");
  const num = (v: unknown) => (typeof v === "number" && Number.isFinite(v) ? v : null);
  return {
    online: snap.get("online") === true,
    lastHeartbeatMs: heartbeat instanceof Timestamp ? heartbeat.toMillis() : null,
    rebooting: snap.get("rebooting") === true,
    rebootScheduledAt: num(snap.get("rebootScheduledAt")),
    shuttingDown: snap.get("shuttingDown") === true,
    shutdownScheduledAt: num(snap.get("shutdownScheduledAt")),
  };
}

/** The machine's display name as its agent wrote it, for the machine.offline and machine.online payloads. */
export function nameOf(machine: DocumentSnapshot): string | null {
  const name = machine.get("name");
  return typeof name === "string" && name ? name.slice(0, AGENT_LIMITS.name) : null;
}

function apply(tx: Transaction, ref: DocumentReference, step: SweepStep, machine: DocumentSnapshot): void {
  const heartbeat = machine.get("lastHeartbeat");
  switch (step.kind) {
    case "mark":
      tx.set(ref, {
        lastHeartbeat: heartbeat,
        staleSince: FieldValue.serverTimestamp(),
        name: nameOf(machine),
      });
      return;
    case "defer":
      tx.set(ref, { lastHeartbeat: heartbeat, name: nameOf(machine), dueAt: Timestamp.fromMillis(step.untilMs) });
      return;
    case "unhold":
      tx.update(ref, { dueAt: FieldValue.delete() });
      return;
    case "drop":
      tx.delete(ref);
      return;
    case "none":
    case "retry":
      return;
  }
}
