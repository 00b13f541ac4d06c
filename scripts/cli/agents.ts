import { getApps, initializeApp } from "firebase-admin/app";
import { FieldValue, getFirestore, Timestamp, type Firestore } from "firebase-admin/firestore";
import { appOptions } from "../../functions/src/app-options";
import { paths } from "../../functions/src/data/paths";
import { Store } from "../../functions/src/data/store";
import { SUBSCRIBABLE_EVENT_TYPES, type EventType } from "../../functions/src/domain/event-catalog";
import { CliError } from "./output";

/**
 * Agent-side writes, made the way Owlette agents make them, so the pipeline's triggers do the
 * rest: against the emulator (FIRESTORE_EMULATOR_HOST) or a real project (application default
 * credentials, `--project`).
 */
export function firestore(project?: string): Firestore {
  if (project) process.env.GCLOUD_PROJECT = project;
  if (!process.env.GCLOUD_PROJECT) throw new CliError("no project: pass --project or run against the emulator suite");
  if (getApps().length === 0) initializeApp(appOptions());
  return getFirestore();
}

export interface EmitTarget {
  siteId: string;
  machineId: string;
  processId: string;
  processName: string;
}

/** Makes the agent write that produces `type` (a catalog event) and says what it wrote. */
export async function emitEvent(db: Firestore, type: string, t: EmitTarget): Promise<string[]> {
  if (!(SUBSCRIBABLE_EVENT_TYPES as readonly string[]).includes(type)) {
    throw new CliError(`unknown event "${type}"; one of ${SUBSCRIBABLE_EVENT_TYPES.join(", ")}`);
  }
  const machine = db.doc(paths.machine(t.siteId, t.machineId));
  const steps: string[] = [];
  switch (type as EventType) {
    case "process.crashed": {
      const ref = db.doc(`${machine.path}/processes/${t.processId}`);
      await ref.set({ name: t.processName, status: "running", updatedAt: FieldValue.serverTimestamp() }, { merge: true });
      await ref.set({ status: "crashed", exitCode: -1, errorMessage: "crash emitted from the CLI", updatedAt: FieldValue.serverTimestamp() }, { merge: true });
      steps.push(`${ref.path}: status running -> crashed`);
      break;
    }
    case "connection_failure":
      await machine.set({ health: { status: "ok" } }, { merge: true });
      await machine.set(
        { health: { status: "connection_failure", error_code: "CLI_EMIT", error_message: "connection failure emitted from the CLI", last_error_at: FieldValue.serverTimestamp() } },
        { merge: true },
      );
      steps.push(`${machine.path}: health.status ok -> connection_failure`);
      break;
    case "machine.offline":
      await markOffline(db, machine.path, steps);
      break;
    case "machine.online": {
      const snap = await machine.get();
      if (snap.get("offlineReason") !== "heartbeat_stale") {
        steps.push("machine.online follows machine.offline: marking the machine stale first (that emits machine.offline too)");
        await markOffline(db, machine.path, steps);
        // Let the machine trigger see the mark before the agent comes back.
        await new Promise((r) => setTimeout(r, 1500));
      }
      await machine.set({ online: true, lastHeartbeat: FieldValue.serverTimestamp() }, { merge: true });
      steps.push(`${machine.path}: heartbeat (online again)`);
      break;
    }
    default:
      throw new CliError(`cannot emit ${type}`);
  }
  return steps;
}

async function markOffline(db: Firestore, path: string, steps: string[]) {
  const ref = db.doc(path);
  await ref.set({ online: true, lastHeartbeat: Timestamp.fromMillis(Date.now() - 3_600_000) }, { merge: true });
  // What the sweep does to a machine whose heartbeat is stale.
  const marked = await new Store(db).markStale(ref, new Date());
  if (!marked) throw new CliError(`could not mark ${path} stale`);
  steps.push(`${path}: heartbeat an hour old, marked stale as the sweep would`);
}

export interface SimulateOptions {
  siteId: string;
  machines: number;
  seconds: number;
  heartbeatSeconds: number;
  /** Chance per machine per heartbeat of a process crash / a connection failure. */
  crashChance: number;
  failureChance: number;
  random?: () => number;
  onTick?: (line: string) => void;
}

/**
 * Simulated Owlette agents: each machine heartbeats (merge write, server timestamp), and at
 * random one of its processes crashes or it reports a connection failure. Stops after
 * `seconds` (0: until stopped by a signal).
 */
export async function simulate(db: Firestore, o: SimulateOptions, signal?: AbortSignal) {
  const random = o.random ?? Math.random;
  const ids = Array.from({ length: o.machines }, (_, i) => `sim-${String(i + 1).padStart(4, "0")}`);
  const totals = { heartbeats: 0, crashes: 0, failures: 0 };
  const until = o.seconds > 0 ? Date.now() + o.seconds * 1000 : Infinity;
  for (let round = 1; Date.now() < until && !signal?.aborted; round++) {
    const started = Date.now();
    await Promise.all(
      ids.map(async (id) => {
        const machine = db.doc(paths.machine(o.siteId, id));
        await machine.set(
          { online: true, lastHeartbeat: FieldValue.serverTimestamp(), machineId: id, siteId: o.siteId, name: `Simulated ${id}`, agent_version: "sim", health: { status: "ok" } },
          { merge: true },
        );
        totals.heartbeats++;
        if (random() < o.crashChance) {
          const ref = db.doc(`${machine.path}/processes/app`);
          await ref.set({ name: "Simulated App", status: "running", updatedAt: FieldValue.serverTimestamp() });
          await ref.set({ name: "Simulated App", status: "crashed", exitCode: 1, updatedAt: FieldValue.serverTimestamp() });
          totals.crashes++;
        }
        if (random() < o.failureChance) {
          await machine.set({ health: { status: "connection_failure", error_code: "SIMULATED", error_message: "simulated outage" } }, { merge: true });
          totals.failures++;
        }
      }),
    );
    o.onTick?.(`round ${round}: ${ids.length} heartbeats; totals ${totals.heartbeats} heartbeats, ${totals.crashes} crashes, ${totals.failures} connection failures`);
    const wait = o.heartbeatSeconds * 1000 - (Date.now() - started);
    if (wait > 0 && Date.now() + wait < until) await new Promise((r) => setTimeout(r, wait));
    else if (Date.now() + wait >= until) break;
  }
  return totals;
}
