/**
 * What the project's scripts use of the functions (the CLI, the demo, the bench and the test
 * harnesses it shares), exported on purpose: a script imports this module and nothing
 * else of functions/src, so the rooms behind it can move without breaking a script. Nothing here
 * is deployed (index.ts does not import it). A name added here is a name scripts depend on.
 * The triggers' handlers, which only the bench and its cost harnesses run, are in
 * seam-handlers.ts, so that the CLI does not load every trigger to start.
 */

// Settings and the project's vocabulary.
export { appOptions } from "./app-options";
export { REGION } from "./config";
export type { PresenceMode } from "./domain/presence-mode";
export { SIZING } from "./sizing";
export { SWEEP_SITE_CONCURRENCY } from "./pipeline/sweep-pass";
export type { Log } from "./log";
export { isSubscribableEventType, type EventType } from "./domain/event-catalog";
export { FORMATS } from "./domain/destination-formats";
export { HTTP_METHODS, SIGNATURE_SCHEMES } from "./domain/webhook-vocabulary";
export { DEFAULT_RETRY_SCHEDULE_SECONDS, parseRetrySchedule } from "./domain/retry-policy";

// Payloads, signatures and the receiver's side.
export { buildPayload, serializePayload } from "./domain/payload";
export { deliveryHeaders } from "./domain/request-headers";
export { generateSecret } from "./domain/signing";
export { MAX_BODY_BYTES, verify, type VerifyResult, type VerifyScheme } from "./receiver/verify";

// Firestore, as the functions read and write it.
export { paths } from "./data/paths";
export { Store } from "./data/store";
export { ManagementStore } from "./data/management-store";
export { PresenceStore } from "./data/presence-store";
export { ReturnWatchStore } from "./data/return-watch-store";
export { EmissionStore } from "./data/emission-store";
export { readLedger } from "./data/ledger-doc";
export { ledgerKey, MAX_LEDGER_KEYS } from "./domain/emission-ledger";
export { applyMigration, findLegacyWebhooks } from "./data/legacy-migration";

// Delivery.
export { deliver, SNAPSHOT_MAX_AGE_MS, type DeliverDeps } from "./delivery/deliver";
export { sendHttp } from "./delivery/http-sender";
export { systemResolver } from "./delivery/resolve-destination";
export { SecretCache } from "./delivery/secret-cache";
export { DELIVERY_FUNCTION, taskQueueEnqueue, type DeliveryTask } from "./delivery/task-queue";

// The management service and the agents' endpoint.
export { createService } from "./api/service";
export { ApiError } from "./api/errors";
export { generateApiKey } from "./api/api-keys";
export { handleAgentRequest, type AgentAlertDeps } from "./api/agent-alert";
export type { IngestDeps } from "./pipeline/ingest";
