import type { MachineDoc } from "./agent-docs";
import { clip, type DetectedEvent } from "./detected-event";

export const CONNECTION_FAILURE = "connection_failure";

/**
 * Events implied by one write to `sites/{siteId}/machines/{machineId}` by itself: a connection
 * failure the agent reports in `health`. Whether the machine went offline or came back is the
 * sweep's to say (domain/presence.ts): the agent's own `online: false` on a clean stop is no outage.
 */
export function detectMachineEvents(before: MachineDoc | null, after: MachineDoc | null, machineId: string): DetectedEvent[] {
  if (!after) return [];
  const machineName = after.name ?? undefined;
  const events: DetectedEvent[] = [];
  const failingNow = after.health?.status === CONNECTION_FAILURE;
  const failingBefore = before?.health?.status === CONNECTION_FAILURE;
  if (failingNow && !failingBefore) {
    events.push(
      connectionFailure({
        machineId,
        machineName,
        errorCode: after.health?.error_code ?? null,
        errorMessage: after.health?.error_message ?? null,
      }),
    );
  }
  return events;
}

/** connection_failure, from the machine doc's health or from the agent's alert: the same occurrence either way. */
export function connectionFailure(input: {
  machineId: string;
  machineName?: string | undefined;
  errorCode: string | number | null;
  errorMessage: string | null;
}): DetectedEvent {
  const errorMessage = clip(input.errorMessage || "Connection failure");
  return {
    type: "connection_failure",
    machineId: input.machineId,
    machineName: input.machineName,
    fields: { errorCode: input.errorCode, errorMessage },
    subject: "connection",
    content: `${input.errorCode ?? ""}|${errorMessage}`,
  };
}
