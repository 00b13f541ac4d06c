import { FieldValue, Timestamp, type DocumentReference, type Firestore, type QueryDocumentSnapshot } from "firebase-admin/firestore";
import { markOf, presenceDocSchema } from "../domain/presence";
import { RETURN_WATCH_FIELD } from "../domain/return-watch";
import { ignoreMissing } from "./delivery-writes";
import { parseOrNull } from "./parse";
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

  async unflag(machineRef: DocumentReference): Promise<void> {
    await machineRef.update({ [RETURN_WATCH_FIELD]: FieldValue.delete() }).catch(ignoreMissing);
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
   * Flags every marked machine (a switch from the trigger mode, whose marks carry no flag): reads
   * each presence doc once, writes each marked machine once. Returns how many were flagged.
   */
  async flagEveryMark(): Promise<number> {
    let flagged = 0;
    let after: QueryDocumentSnapshot | undefined;
    for (;;) {
      let query = this.db.collectionGroup("presence").orderBy("__name__").select("staleSince", "lastHeartbeat").limit(FLAG_PAGE);
      if (after) query = query.startAfter(after);
      const page = (await query.get()).docs;
      const marked = page.filter((d) => d.ref.parent.parent?.parent.id === "sites" && markOf(parseOrNull(presenceDocSchema, d.data())));
      await Promise.all(marked.map((d) => this.flag(this.db.doc(paths.machine(d.ref.parent.parent!.id, d.id)))));
      flagged += marked.length;
      if (page.length < FLAG_PAGE) return flagged;
      after = page[page.length - 1];
    }
  }
}
