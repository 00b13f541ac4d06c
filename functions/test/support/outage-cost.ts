import { Timestamp, type Firestore } from "firebase-admin/firestore";
import { EmissionStore, paths, PresenceStore, Store, type Log } from "../../src/seam";
import { handleMachineWrite, handlePresenceWrite } from "../../src/seam-handlers";
import { countingFirestore, type OpCounts } from "./counting-firestore";
import { inProcessQueue } from "./in-process-queue";
import { presenceSite } from "./presence-site";
import type { Receiver } from "../../../scripts/lib/receiver";

const STALE_MS = 60_000;
const silent: Log = { info: () => undefined, warn: () => undefined, error: () => undefined };

/**
 * Outages of machines of one site, start to end, with the pipeline's handlers run in-process
 * over a counting Firestore (run it on a project whose triggers do not fire, so these are the only
 * handlers): the sweep's mark, the presence trigger's machine.offline, its deliveries, the
 * machine's next heartbeat through the machine trigger (machine.online, the mark cleared), its
 * deliveries (each waiting for its question's). What one outage costs, read by read.
 */
export async function outageHarness(db: Firestore, receiver: Receiver, siteId: string, webhooks: number) {
  const counting = countingFirestore(db);
  const store = new Store(counting.db);
  const presence = new PresenceStore(counting.db);
  const hookPaths = await presenceSite(db, receiver, siteId, { name: "Outage cost", prefix: "outage-cost", webhooks: webhooks });
  const { enqueue, deliverAll } = inProcessQueue(store, { staleAfterSeconds: STALE_MS / 1000, log: silent });
  const deps = { store, emissions: new EmissionStore(counting.db), enqueue, log: silent, now: () => new Date(), presence, staleAfterMs: STALE_MS };
  let n = 0;
  const write = (path: string, params: Record<string, string>, before: unknown, after: unknown) => ({
    eventId: `outage-${siteId}-${++n}`,
    occurredAt: new Date(),
    path,
    params,
    before,
    after,
  });
  /** One outage of a machine, start to end; what it cost (the sweep query's read of the machine not included: 1). */
  const outage = async (machineId: string): Promise<{ cost: OpCounts; offline: unknown; online: unknown }> => {
    const ref = db.doc(paths.machine(siteId, machineId));
    const silentDoc = { online: true, name: machineId, lastHeartbeat: Timestamp.fromMillis(Date.now() - 10 * STALE_MS) };
    await ref.set(silentDoc);
    counting.take();
    const step = await presence.sweepMachine(counting.db.doc(ref.path), STALE_MS, new Date());
    if (step !== "mark") throw new Error(`the sweep did not mark ${machineId}: ${step}`);
    const mark = (await db.doc(paths.presence(siteId, machineId)).get()).data();
    const params = { siteId, machineId };
    const offline = await handlePresenceWrite(write(paths.presence(siteId, machineId), params, undefined, mark), deps);
    await deliverAll();
    const back = { ...silentDoc, lastHeartbeat: Timestamp.now() };
    await db.doc(ref.path).set(back);
    const online = await handleMachineWrite(write(ref.path, params, silentDoc, back), deps);
    await deliverAll();
    return { cost: counting.take(), offline, online };
  };
  return { outage, received: () => hookPaths.flatMap((p) => receiver.at(p)) };
}
