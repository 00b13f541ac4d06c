import { getFirestore } from "firebase-admin/firestore";
import { logger } from "firebase-functions";
import { getConfig, REGION } from "./config";
import { Store } from "./data/store";
import type { DeliverDeps } from "./delivery/deliver";
import { sendHttp } from "./delivery/http-sender";
import { systemResolver } from "./delivery/resolve-destination";
import { taskQueueEnqueue } from "./delivery/task-queue";

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
  };
  return deps;
}
