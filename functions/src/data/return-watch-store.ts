import { FieldValue, Timestamp, type DocumentReference, type Firestore, type QueryDocumentSnapshot } from "firebase-admin/firestore";
import { RETURN_WATCH_FIELD } from "../domain/return-watch";
import type { Log } from "../log";
import { FAILED_PRECONDITION, grpcCode, ignoreMissing } from "./delivery-writes";
import { isSiteMachine, paths } from "./paths";

/** Marked machines flagged a page at a time when the flags are put back (a switch to the sweep mode). */
const FLAG_PAGE = 300;

/**
 * The sweep presence mode's flag on the machine doc (domain/return-watch.ts): set before the
 * sweep decides on a silent machine, removed once its return is answered. The only field this
 * store writes there; every other field is the agent's.
 */
export class ReturnWatchStore {
  constructor(readonly db: Firestore) {}

  /** Flags a machine the sweep is about to decide on; a machine doc deleted meanwhile needs none. */
  async flag(machineRef: DocumentReference): Promise<void> {
    await machineRef.update({ [RETURN_WATCH_FIELD]: true }).catch(ignoreMissing);
  }

  /**
   * Removes the flag, unless the machine doc changed since `readAt` (its update time as read):
   * a pass that has flagged it again meanwhile for a new silence keeps its flag. A flag left so
   * on a machine that is back is found, and removed, by the next pass.
   */
  async unflag(machineRef: DocumentReference, readAt?: Timestamp): Promise<"unflagged" | "changed"> {
    try {
      await machineRef.update({ [RETURN_WATCH_FIELD]: FieldValue.delete() }, ...(readAt ? [{ lastUpdateTime: readAt }] : []));
      return "unflagged";
    } catch (err) {
      if (grpcCode(err) === FAILED_PRECONDITION) return "changed";
      ignoreMissing(err);
      return "unflagged";
    }
  }

  /**
   * Flagged machines whose heartbeat is newer than `cutoff` (the sweep's: a machine is marked
   * only once its heartbeat is older, so a marked machine still silent never matches): the
   * returns to answer, across every site. One read when there are none. The index holds flagged
   * machines only, so the fleet's heartbeats share no range in it.
   */
  async findReturned(cutoff: Date, limit: number): Promise<QueryDocumentSnapshot[]> {
    const snap = await this.db
      .collectionGroup("machines")
      .where(RETURN_WATCH_FIELD, "==", true)
      .where("lastHeartbeat", ">", Timestamp.fromDate(cutoff))
      .orderBy("lastHeartbeat")
      .limit(limit)
      .select("online", "lastHeartbeat", "name")
      .get();
    return snap.docs.filter((d) => isSiteMachine(d.ref));
  }

  /**
   * Flags every machine with a presence doc, marked or deferred (a switch from the trigger mode,
   * whose marks carry no flag; a deferred machine is marked by a later pass without being
   * decided again). Reads each presence doc once and writes each machine once; a flag that
   * cannot be written is counted, and the switch is tried again by the next pass.
   */
  async flagEveryMark(log?: Log): Promise<{ flagged: number; failed: number }> {
    const counts = { flagged: 0, failed: 0 };
    let after: QueryDocumentSnapshot | undefined;
    for (;;) {
      let query = this.db.collectionGroup("presence").orderBy("__name__").select("staleSince", "dueAt").limit(FLAG_PAGE);
      if (after) query = query.startAfter(after);
      const page = (await query.get()).docs;
      const watched = page.filter((d) => d.ref.parent.parent?.parent.id === "sites" && (d.get("staleSince") || d.get("dueAt")));
      const results = await Promise.allSettled(watched.map((d) => this.flag(this.db.doc(paths.machine(d.ref.parent.parent!.id, d.id)))));
      results.forEach((r, i) => {
        if (r.status === "fulfilled") return void counts.flagged++;
        counts.failed++;
        log?.warn("sweep.flag_failed", { doc: watched[i]!.ref.path, error: String((r.reason as Error)?.message ?? r.reason).slice(0, 200) });
      });
      if (page.length < FLAG_PAGE) return counts;
      after = page[page.length - 1];
    }
  }
}
