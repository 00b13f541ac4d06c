import { FieldValue, Timestamp, type Firestore } from "firebase-admin/firestore";
import { EmissionStore, paths, PresenceStore, ReturnWatchStore, Store, type Log } from "../../src/seam";
import { handleMachineWrite, handlePresenceWrite, presencePass } from "../../src/seam-handlers";
import { countingFirestore } from "./counting-firestore";
import { inProcessQueue } from "./in-process-queue";
import { presenceSite } from "./presence-site";
import type { Receiver } from "../../../scripts/lib/receiver";

const silent: Log = { info: () => undefined, warn: () => undefined, error: () => undefined };

/**
 * The sweep presence mode end to end, in-process over a counting Firestore, on a project whose
 * triggers do not fire (no function runs on machine docs there, as in the mode): each pass is
 * the deployed pass (marks, then returns), the trigger on presence docs is run for each new mark
 * as Firestore would run it, and the deliveries go to local receivers.
 */
export async function sweepModeHarness(db: Firestore, receiver: Receiver, siteId: string, opts: { staleMs: number; webhooks?: number }) {
  const counting = countingFirestore(db);
  const store = new Store(counting.db);
  const presence = new PresenceStore(counting.db);
  const hookPaths = await presenceSite(db, receiver, siteId, { name: "Sweep mode", prefix: "sweep-mode", webhooks: opts.webhooks ?? 1 });
  const { enqueue, deliverAll } = inProcessQueue(store, { staleAfterSeconds: opts.staleMs / 1000, log: silent });
  const deps = {
    store,
    emissions: new EmissionStore(counting.db),
    enqueue,
    log: silent,
    now: () => new Date(),
    presence,
    watch: new ReturnWatchStore(counting.db),
    staleAfterMs: opts.staleMs,
  };
  /** Each mark's instant already reported by the in-process presence trigger. */
  const reported = new Map<string, number>();
  let n = 0;
  /** One pass in the given mode, the presence trigger run for each new mark, and every delivery made. */
  const pass = async (presenceMode: "sweep" | "trigger" = "sweep", now = new Date()) => {
    const result = await presencePass({ ...deps, presenceMode }, now);
    const marks = await db.collection(`sites/${siteId}/presence`).get();
    for (const doc of marks.docs) {
      const since = doc.get("staleSince") as Timestamp | undefined;
      if (!since || reported.get(doc.id) === since.toMillis()) continue;
      reported.set(doc.id, since.toMillis());
      const write = {
        eventId: `sweep-mode-${siteId}-${++n}`,
        occurredAt: new Date(),
        path: doc.ref.path,
        params: { siteId, machineId: doc.id },
        before: undefined,
        after: doc.data(),
      };
      await handlePresenceWrite(write, deps);
    }
    await deliverAll();
    return result;
  };
  /**
   * A machine of the site as its agent leaves it: online, its heartbeat `secondsAgo` old. A
   * heartbeat moved back past the threshold (which a server-stamped one never is) may fall
   * below the site's floor: the floor goes, so the next pass looks at every silent machine.
   */
  const machineAt = async (machineId: string, secondsAgo: number) => {
    if (secondsAgo * 1000 > opts.staleMs) await db.doc(paths.sweepState()).set({ floors: { [siteId]: FieldValue.delete() } }, { merge: true });
    await db
      .doc(paths.machine(siteId, machineId))
      .set({ online: true, name: machineId, lastHeartbeat: Timestamp.fromMillis(Date.now() - secondsAgo * 1000) }, { merge: true });
  };
  /** The presence mode's events each webhook received, as `machineId event`. */
  const received = () => hookPaths.map((p) => receiver.at(p).map((d) => `${String(d.payload?.data?.machineId)} ${String(d.payload?.event)}`));
  /** The trigger mode's machine trigger, run in-process on one write of a machine doc (a switch back from the sweep mode). */
  const machineWrite = async (machineId: string, before: unknown, after: unknown) => {
    const path = paths.machine(siteId, machineId);
    const outcomes = await handleMachineWrite(
      { eventId: `sweep-mode-${siteId}-${++n}`, occurredAt: new Date(), path, params: { siteId, machineId }, before, after },
      deps,
    );
    await deliverAll();
    return outcomes;
  };
  return { pass, machineAt, machineWrite, received, take: () => counting.take() };
}
