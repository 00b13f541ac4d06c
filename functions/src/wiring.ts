import { getFirestore } from "firebase-admin/firestore";
import { logger } from "firebase-functions";
import { getConfig, REGION } from "./config";
import { EmissionStore } from "./data/emission-store";
import { ManagementStore } from "./data/management-store";
import { PresenceStore } from "./data/presence-store";
import { ReturnWatchStore } from "./data/return-watch-store";
import { Store } from "./data/store";
import { createService, type Service } from "./api/service";
import type { DeliverDeps } from "./delivery/deliver";
import type { IngestDeps } from "./pipeline/ingest";
import { sendHttp } from "./delivery/http-sender";
import { systemResolver } from "./delivery/resolve-destination";
import { recoveryQueueEnqueue, taskQueueEnqueue } from "./delivery/task-queue";
import { RecoveryStore } from "./data/recovery-store";
import type { RecoverDeps } from "./pipeline/recover";
import { SecretCache, SlowMemory } from "./delivery/secret-cache";

/** Production dependencies, built once per instance on first use (not at cold-start import). */
let deps: DeliverDeps | undefined;
export function productionDeps(): DeliverDeps {
  deps ??= {
    store: new Store(getFirestore()),
    send: sendHttp,
    enqueue: taskQueueEnqueue(REGION),
    now: () => new Date(),
    config: getConfig(),
    log: logger,
    resolve: systemResolver,
    secrets: new SecretCache(),
    slow: new SlowMemory(),
  };
  return deps;
}

/** What a recover needs besides: its store and its task chain (pipeline/recover.ts). */
let recover: RecoverDeps | undefined;
export function recoverDeps(): RecoverDeps {
  recover ??= { ...productionDeps(), recoveries: new RecoveryStore(productionDeps().store.db), enqueueRecovery: recoveryQueueEnqueue(REGION) };
  return recover;
}

/** The management API's service and store, over the same production dependencies. */
let management: { service: Service; manage: ManagementStore; deps: DeliverDeps } | undefined;
export function managementDeps() {
  if (!management) {
    const deps = productionDeps();
    const manage = new ManagementStore(deps.store.db);
    const { recoveries, enqueueRecovery } = recoverDeps();
    management = { service: createService({ ...deps, manage, recoveries, enqueueRecovery }), manage, deps };
  }
  return management;
}

/** What the ingest path (triggers and the agent endpoint) needs: the pipeline's deps and the emission store. */
let ingest: IngestDeps | undefined;
export function ingestDeps(): IngestDeps {
  ingest ??= { ...productionDeps(), emissions: new EmissionStore(productionDeps().store.db) };
  return ingest;
}

/** What the sweep and the machine trigger need besides: the presence store and the stale threshold. */
let presence: PresenceDeps | undefined;
export interface PresenceDeps {
  presence: PresenceStore;
  /** The sweep presence mode's flag on machine docs (data/return-watch-store.ts). */
  watch: ReturnWatchStore;
  staleAfterMs: number;
}
export function presenceDeps(): PresenceDeps {
  const db = productionDeps().store.db;
  presence ??= { presence: new PresenceStore(db), watch: new ReturnWatchStore(db), staleAfterMs: productionDeps().config.staleAfterSeconds * 1000 };
  return presence;
}
