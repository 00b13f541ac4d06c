import { getApps, initializeApp } from "firebase-admin/app";
import { getFirestore, Timestamp } from "firebase-admin/firestore";
import { appOptions } from "../../src/app-options";
import { paths } from "../../src/data/paths";
import { ManagementStore } from "../../src/data/management-store";
import { Store } from "../../src/data/store";
import type { Log } from "../../src/log";
import { Receiver } from "../../../scripts/lib/receiver";

/** Integration tests run under `scripts/emulators.mjs exec`, which sets these. */
export function emulatorStore(): Store {
  for (const name of ["FIRESTORE_EMULATOR_HOST", "CLOUD_TASKS_EMULATOR_HOST", "GCLOUD_PROJECT"]) {
    if (!process.env[name]) {
      throw new Error(`${name} is not set: run integration tests through \`npm run test:emulator\``);
    }
  }
  if (getApps().length === 0) initializeApp(appOptions());
  return new Store(getFirestore());
}

/** A Store on the emulator and a started local receiver, for a test file's beforeAll. */
export async function startSuite(): Promise<{ store: Store; manage: ManagementStore; receiver: Receiver }> {
  const store = emulatorStore();
  return { store, manage: new ManagementStore(store.db), receiver: await new Receiver().start() };
}

export const silentLog: Log = { info: () => {}, warn: () => {}, error: () => {} };

export function uniqueId(prefix: string): string {
  return `${prefix}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * The emission limits count per clock hour (1 outage page of a machine, 3 crashes of a process,
 * a site's bound): a test whose exact counts assume its reports fall in one hour waits out the
 * hour's last `marginMs` first (at most once an hour of testing, since it then starts a fresh one).
 */
export async function clearOfHourTurn(marginMs = 45_000): Promise<void> {
  const toTurn = 3_600_000 - (Date.now() % 3_600_000);
  if (toTurn < marginMs) await sleep(toTurn + 1000);
}

/** Polls until `check` returns a value other than undefined/false, or fails with `what`. */
export async function waitFor<T>(what: string, check: () => Promise<T | undefined | false> | T | undefined | false, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined && value !== false) return value;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${String(last)}` : ""}`);
    }
    await sleep(200);
  }
}

/**
 * A delivery is settled when no attempt is left to make and every attempt's outcome has reached
 * the webhook. The final status lands on the delivery doc a moment before its outcome is applied
 * to the webhook's failCount / lastStatus (two steps, see Store.recordAttempt): a test that reads
 * the webhook after a delivery waits for both, and times out if an outcome is left unapplied.
 */
export function isSettled(record: FirebaseFirestore.DocumentData | undefined, status?: string): boolean {
  if (!record || record.healthPending !== undefined) return false;
  return status === undefined ? record.status !== "pending" : record.status === status;
}

export const hoursAgo = (h: number) => Timestamp.fromMillis(Date.now() - h * 3_600_000);

/**
 * A delivery whose first attempt failed (500) and whose second is scheduled, with its stored
 * event: the state a retry, a delete or a crashed handler finds. `fields` override any of it.
 */
export async function seedPendingDelivery(
  store: Store,
  ids: { siteId: string; webhookId: string; eventId: string; deliveryId: string },
  fields: Record<string, unknown> = {},
): Promise<void> {
  await store.events.saveEvent(ids.siteId, { id: ids.eventId, type: "process.crashed", body: JSON.stringify({ id: ids.eventId }), occurredAt: new Date() });
  await store.db.doc(paths.delivery(ids.siteId, ids.webhookId, ids.deliveryId)).set({
    id: ids.deliveryId,
    eventId: ids.eventId,
    eventType: "process.crashed",
    status: "pending",
    attempts: [{ attempt: 1, at: Timestamp.now(), status: 500, error: null, durationMs: 3, responseSnippet: "not ok" }],
    attemptCount: 1,
    nextAttempt: 2,
    createdAt: Timestamp.now(),
    ...fields,
  });
}
