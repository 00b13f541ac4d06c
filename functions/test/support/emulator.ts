import { getApps, initializeApp } from "firebase-admin/app";
import { getFirestore, Timestamp } from "firebase-admin/firestore";
import { appOptions } from "../../src/app-options";
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

export const hoursAgo = (h: number) => Timestamp.fromMillis(Date.now() - h * 3_600_000);
