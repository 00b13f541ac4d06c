import { getApps, initializeApp } from "firebase-admin/app";
import { FieldValue, getFirestore, Timestamp, type Firestore } from "firebase-admin/firestore";
import { appOptions, paths, PresenceStore, isSubscribableEventType, type EventType } from "../../functions/src/seam";
import { CliError } from "../cli/output";

/**
 * Agent-side writes, made the way Owlette agents make them, so the pipeline's triggers do the
 * rest: against the emulator (FIRESTORE_EMULATOR_HOST) or a real project (application default
 * credentials, `--project`).
 */
export function firestore(project?: string): Firestore {
  if (project) process.env.GCLOUD_PROJECT = project;
  if (!process.env.GCLOUD_PROJECT) {
    throw new CliError(
      "no project: start the emulator suite (npm start or npm run emulators), or pass --project <id> for a real project (application default credentials), or set GCLOUD_PROJECT",
    );
  }
  if (getApps().length === 0) initializeApp(appOptions());
  return getFirestore();
}

/** One heartbeat, as the agent writes it: a merge with the server's clock. */
export function heartbeat(db: Firestore, siteId: string, machineId: string, extra: Record<string, unknown> = {}) {
  return db
    .doc(paths.machine(siteId, machineId))
    .set({ online: true, lastHeartbeat: FieldValue.serverTimestamp(), machineId, siteId, ...extra }, { merge: true });
}

/** A configured process exits unexpectedly: the agent moves its doc from running to crashed. */
export async function crashProcess(
  db: Firestore,
  ids: { siteId: string; machineId: string; processId: string },
  process: { name: string; exitCode?: number; errorMessage?: string },
) {
  const ref = db.doc(`${paths.machine(ids.siteId, ids.machineId)}/processes/${ids.processId}`);
  await ref.set({ name: process.name, status: "running", updatedAt: FieldValue.serverTimestamp() }, { merge: true });
  await ref.set(
    {
      status: "crashed",
      exitCode: process.exitCode ?? -1,
      ...(process.errorMessage ? { errorMessage: process.errorMessage } : {}),
      updatedAt: FieldValue.serverTimestamp(),
    },
    { merge: true },
  );
  return ref.path;
}

/** The agent's health check fails: `health.status` goes from ok to connection_failure. */
export async function reportConnectionFailure(db: Firestore, siteId: string, machineId: string, error: { code: string; message: string }) {
  const ref = db.doc(paths.machine(siteId, machineId));
  await ref.set({ health: { status: "ok" } }, { merge: true });
  await ref.set(
    { health: { status: "connection_failure", error_code: error.code, error_message: error.message, last_error_at: FieldValue.serverTimestamp() } },
    { merge: true },
  );
  return ref.path;
}

export interface EmitTarget {
  siteId: string;
  machineId: string;
  processId: string;
  processName: string;
}

/**
 * The catalog events an agent write produces. Threshold and display events reach the pipeline
 * from the host's agents through the host, so there is no write of ours to make for them.
 */
const EMITTABLE = [
  "process.crashed",
  "process.start_failed",
  "machine.offline",
  "machine.online",
  "connection_failure",
] as const satisfies readonly EventType[];
type Emittable = (typeof EMITTABLE)[number];

/** Makes the agent write that produces `type` (a catalog event) and says what it wrote. */
export async function emitEvent(db: Firestore, type: string, t: EmitTarget): Promise<string[]> {
  if (!(EMITTABLE as readonly string[]).includes(type)) {
    if (isSubscribableEventType(type)) throw new CliError(`${type} is reported by the host's agents through the host: no agent write here emits it`);
    throw new CliError(`unknown event "${type}"; one of ${EMITTABLE.join(", ")}`);
  }
  const machine = db.doc(paths.machine(t.siteId, t.machineId));
  const steps: string[] = [];
  switch (type as Emittable) {
    case "process.crashed": {
      const path = await crashProcess(db, t, { name: t.processName, errorMessage: "crash emitted from the CLI" });
      steps.push(`${path}: status running -> crashed`);
      break;
    }
    case "process.start_failed": {
      // What a deployed agent writes when a process cannot be started (its alert would be the same occurrence).
      const ref = db.collection(paths.logs(t.siteId)).doc();
      await ref.set({
        timestamp: FieldValue.serverTimestamp(),
        action: "process_start_failed",
        level: "error",
        machineId: t.machineId,
        machineName: t.machineId,
        processName: t.processName,
        details: `start failure emitted from the CLI at ${new Date().toISOString()}`,
      });
      steps.push(`${ref.path}: log action process_start_failed`);
      break;
    }
    case "connection_failure":
      await reportConnectionFailure(db, t.siteId, t.machineId, { code: "CLI_EMIT", message: "connection failure emitted from the CLI" });
      steps.push(`${machine.path}: health.status ok -> connection_failure`);
      break;
    case "machine.offline":
      await markOffline(db, t.siteId, t.machineId, steps);
      break;
    case "machine.online": {
      if (!(await isMarked(db, t.siteId, t.machineId))) {
        steps.push("machine.online follows machine.offline: marking the machine stale first (that emits machine.offline too)");
        await markOffline(db, t.siteId, t.machineId, steps);
        // Let the presence trigger report the mark before the agent comes back.
        await new Promise((r) => setTimeout(r, 1500));
      }
      await heartbeat(db, t.siteId, t.machineId);
      steps.push(`${machine.path}: heartbeat (online again)`);
      break;
    }
    default:
      throw new CliError(`cannot emit ${type}`);
  }
  return steps;
}

/** Whether the sweep holds a stale mark for the machine (its presence doc, which only the pipeline reads). */
async function isMarked(db: Firestore, siteId: string, machineId: string): Promise<boolean> {
  return (await db.doc(paths.presence(siteId, machineId)).get()).get("staleSince") instanceof Timestamp;
}

async function markOffline(db: Firestore, siteId: string, machineId: string, steps: string[]) {
  const ref = db.doc(paths.machine(siteId, machineId));
  if (await isMarked(db, siteId, machineId)) {
    steps.push("the machine was already marked stale: bringing it back first (that emits machine.online)");
    await heartbeat(db, siteId, machineId);
    for (let i = 0; i < 50 && (await isMarked(db, siteId, machineId)); i++) await new Promise((r) => setTimeout(r, 200));
  }
  await ref.set({ online: true, lastHeartbeat: Timestamp.fromMillis(Date.now() - 3_600_000) }, { merge: true });
  // What the sweep does to a machine whose heartbeat is stale: a mark in its presence doc.
  const step = await new PresenceStore(db).sweepMachine(ref, 60_000, new Date());
  if (step !== "mark") throw new CliError(`could not mark ${ref.path} stale (${step})`);
  steps.push(`${ref.path}: heartbeat an hour old, marked stale as the sweep would (sites/${siteId}/presence/${machineId})`);
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
        await heartbeat(db, o.siteId, id, { name: `Simulated ${id}`, agent_version: "sim", health: { status: "ok" } });
        totals.heartbeats++;
        if (random() < o.crashChance) {
          await crashProcess(db, { siteId: o.siteId, machineId: id, processId: "app" }, { name: "Simulated App", exitCode: 1 });
          totals.crashes++;
        }
        if (random() < o.failureChance) {
          await reportConnectionFailure(db, o.siteId, id, { code: "SIMULATED", message: "simulated outage" });
          totals.failures++;
        }
      }),
    );
    o.onTick?.(
      `round ${round}: ${ids.length} heartbeats; totals ${totals.heartbeats} heartbeats, ${totals.crashes} crashes, ${totals.failures} connection failures`,
    );
    const wait = o.heartbeatSeconds * 1000 - (Date.now() - started);
    if (wait > 0 && Date.now() + wait < until) await sleepUnless(wait, signal);
    else if (Date.now() + wait >= until) break;
  }
  return totals;
}

/** Waits, but returns at once when `signal` aborts (Ctrl-C in `simulate`). */
function sleepUnless(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener(
      "abort",
      () => {
        clearTimeout(timer);
        resolve();
      },
      { once: true },
    );
  });
}
