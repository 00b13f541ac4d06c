import { initializeApp } from "firebase-admin/app";
import { setGlobalOptions } from "firebase-functions/v2";
import { appOptions } from "./app-options";
import { REGION } from "./config";

initializeApp(appOptions());
// Sizes are per function (sizing.ts): each scales on its own instances.
setGlobalOptions({ region: REGION });

export { onMachineWritten } from "./triggers/on-machine-written";
export { onProcessWritten } from "./triggers/on-process-written";
export { onLogCreated } from "./triggers/on-log-created";
export { agentApi } from "./triggers/agent-api";
export { sweepStaleMachines, sweepPass } from "./triggers/sweep-stale-machines";
export { onPresenceWritten } from "./triggers/on-presence-written";
export { onWebhookWritten } from "./triggers/on-webhook-written";
export { onHostReport } from "./triggers/on-host-report";
export { onHostRequest } from "./triggers/on-host-request";
export { deliverWebhook, deliverWebhookSlow } from "./triggers/deliver-webhook";
export * from "./triggers/management-api";
