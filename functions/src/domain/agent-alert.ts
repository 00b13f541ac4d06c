import { z } from "zod";
import { AGENT_LIMITS } from "./agent-docs";
import { connectionFailure } from "./detect-machine-events";
import type { DetectedEvent } from "./detected-event";
import { LOG_ACTIONS, processEvent } from "./detect-process-events";

/**
 * `POST {api_base}/agent/alert`, as deployed agents send it:
 * - connection failures: `{siteId, machineId, errorCode, errorMessage, agentVersion}`, no eventType
 *   (the only signal of a lost Firestore connection: the agent cannot write Firestore then);
 * - process events: `{siteId, machineId, eventType: "process_crash" | "process_start_failed",
 *   data: {process_name, error_message}, agentVersion}`; older agents put `processName`,
 *   `errorMessage` at the top level;
 * - other alerts (`display_*`, `exe_missing`, `reboot_pending` as an errorCode): accepted, no event.
 */
const text = (max: number) => z.string().max(max);
const code = z.union([text(AGENT_LIMITS.errorCode), z.number().finite()]);

export const agentAlertSchema = z.object({
  siteId: z.string().min(1).max(AGENT_LIMITS.id),
  machineId: z.string().min(1).max(AGENT_LIMITS.id),
  eventType: text(AGENT_LIMITS.status).nullish(),
  agentVersion: text(AGENT_LIMITS.name).nullish(),
  errorCode: code.nullish(),
  errorMessage: text(AGENT_LIMITS.errorMessage).nullish(),
  processName: text(AGENT_LIMITS.name).nullish(),
  data: z
    .object({
      process_name: text(AGENT_LIMITS.name).nullish(),
      processName: text(AGENT_LIMITS.name).nullish(),
      error_message: text(AGENT_LIMITS.errorMessage).nullish(),
      errorMessage: text(AGENT_LIMITS.errorMessage).nullish(),
      errorCode: code.nullish(),
      error_code: code.nullish(),
    })
    .passthrough()
    .nullish(),
});
export type AgentAlert = z.infer<typeof agentAlertSchema>;

export const CONNECTION_FAILURE_ALERT = "connection_failure";

/** errorCodes the agent sends on the connection-failure shape that are not connection failures. */
const NOT_CONNECTION_FAILURES = new Set(["reboot_pending"]);

export type AlertReading = { kind: "event"; event: DetectedEvent } | { kind: "ignored"; reason: string } | { kind: "invalid"; path: string; reason: string };

/** What an alert means, or which field makes it unusable (answered with a 400 naming it). */
export function readAgentAlert(alert: AgentAlert): AlertReading {
  const data = alert.data ?? {};
  const eventType = alert.eventType || CONNECTION_FAILURE_ALERT;
  if (eventType === CONNECTION_FAILURE_ALERT) {
    const errorCode = alert.errorCode ?? data.errorCode ?? data.error_code ?? null;
    if (errorCode === null || errorCode === "") {
      return { kind: "invalid", path: "errorCode", reason: "required for a connection failure (an alert without eventType)" };
    }
    if (NOT_CONNECTION_FAILURES.has(String(errorCode))) return { kind: "ignored", reason: `errorCode ${errorCode} is not a connection failure` };
    return {
      kind: "event",
      event: connectionFailure({
        machineId: alert.machineId,
        errorCode,
        errorMessage: alert.errorMessage ?? data.errorMessage ?? data.error_message ?? null,
      }),
    };
  }
  const type = LOG_ACTIONS.get(eventType);
  if (!type) return { kind: "ignored", reason: `eventType ${eventType} has no webhook event` };
  const processName = alert.processName || data.process_name || data.processName;
  if (!processName) return { kind: "invalid", path: "data.process_name", reason: `required for ${eventType}` };
  return {
    kind: "event",
    event: processEvent({
      type,
      machineId: alert.machineId,
      processName,
      errorMessage: alert.errorMessage ?? data.error_message ?? data.errorMessage,
    }),
  };
}
