import { initializeApp } from "firebase-admin/app";
import { setGlobalOptions } from "firebase-functions/v2";
import { appOptions } from "./app-options";
import { REGION } from "./config";
import { loadPresenceMode } from "./presence-mode-env";
import { onMachineWritten as machineWritten } from "./triggers/on-machine-written";
import { onMachineDeleted as machineDeleted } from "./triggers/on-machine-deleted";

initializeApp(appOptions());
// Sizes are per function (sizing.ts): each scales on its own instances.
setGlobalOptions({ region: REGION });

// Which functions exist depends on the presence mode (domain/presence-mode.ts), read from the
// functions' dotenv files when they load, on deploy as in the emulator: in the sweep mode no
// function runs per heartbeat, and only a machine doc's delete runs one.
const presenceMode = loadPresenceMode();
export const onMachineWritten = presenceMode === "trigger" ? machineWritten : undefined;
export const onMachineDeleted = presenceMode === "sweep" ? machineDeleted : undefined;
export { onProcessWritten } from "./triggers/on-process-written";
export { onLogCreated } from "./triggers/on-log-created";
export { agentApi } from "./triggers/agent-api";
export { sweepStaleMachines, sweepPass } from "./triggers/sweep-stale-machines";
export { onPresenceWritten } from "./triggers/on-presence-written";
export { onWebhookWritten } from "./triggers/on-webhook-written";
export { onHostReport } from "./triggers/on-host-report";
export { onHostRequest } from "./triggers/on-host-request";
export { deliverWebhook, deliverWebhookSlow } from "./triggers/deliver-webhook";
export { recoverDeliveries } from "./triggers/recover-deliveries";
export * from "./triggers/management-api";
