import type { DocumentReference } from "firebase-admin/firestore";
import { paths } from "../../src/data/paths";
import { PresenceStore } from "../../src/data/presence-store";
import type { Store } from "../../src/data/store";
import type { SweepStep } from "../../src/domain/presence";
import { runSweep, type SweepResult } from "../../src/pipeline/sweep-pass";

/**
 * One sweep pass over every machine of the suite, whatever its heartbeat: the floor is dropped
 * first. Tests make a silence by moving a heartbeat back (hours, or to the year 2000), which a
 * deployed agent never does (its heartbeat is a server timestamp), so a floor left by an earlier
 * test's pass would hide it.
 */
export async function sweepFromScratch(store: Store, opts: Omit<Parameters<typeof runSweep>[1], "now"> & { now?: Date }): Promise<SweepResult> {
  await store.db.doc(paths.sweepState()).delete();
  return runSweep(new PresenceStore(store.db), { now: new Date(), ...opts });
}

/** What the sweep does to one machine its query found, at the given threshold (the machine trigger then sees the mark). */
export function sweepOne(store: Store, machine: DocumentReference, thresholdMs = 60_000): Promise<SweepStep["kind"]> {
  return new PresenceStore(store.db).sweepMachine(machine, thresholdMs, new Date());
}

/** The sweep's record of a machine, as the presence doc holds it (undefined when there is none). */
export async function presenceOf(store: Store, siteId: string, machineId: string): Promise<FirebaseFirestore.DocumentData | undefined> {
  return (await store.db.doc(paths.presence(siteId, machineId)).get()).data();
}
