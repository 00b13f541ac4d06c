import type { LogDoc, ProcessDoc } from "./agent-docs";
import { clip, type DetectedEvent } from "./detected-event";

export const CRASHED = "crashed";

/** What a deployed agent says when it has nothing more precise. */
export const DEFAULT_CRASH_MESSAGE = "Process exited unexpectedly";

type ProcessEventType = "process.crashed" | "process.start_failed";

/**
 * A process event, from whichever channel reported it. Fields the agent did not send (an exit
 * code, a screenshot) are absent from the payload, not invented. The subject is what the
 * emission limits count by (deployed: machine and process name); the content, the agent's
 * message, tells two crashes apart (it names the PID) and pairs a log doc with its alert.
 */
export function processEvent(input: {
  type: ProcessEventType;
  machineId: string;
  machineName?: string | null | undefined;
  processName: string;
  errorMessage?: string | null | undefined;
  screenshotUrl?: string | null | undefined;
  subject?: string;
  extra?: Record<string, unknown>;
}): DetectedEvent {
  const errorMessage = clip(input.errorMessage || DEFAULT_CRASH_MESSAGE);
  return {
    type: input.type,
    machineId: input.machineId,
    machineName: input.machineName ?? undefined,
    fields: {
      processName: input.processName,
      errorMessage,
      ...input.extra,
      ...(input.screenshotUrl ? { screenshotUrl: input.screenshotUrl } : {}),
    },
    subject: input.subject ?? input.processName,
    content: errorMessage,
  };
}

/** Events implied by one write to `.../machines/{machineId}/processes/{processId}` (the documented path). */
export function detectProcessEvents(before: ProcessDoc | null, after: ProcessDoc | null, ids: { machineId: string; processId: string }): DetectedEvent[] {
  if (!after || after.status !== CRASHED || before?.status === CRASHED) return [];
  const exitCode = after.exitCode ?? null;
  return [
    processEvent({
      type: "process.crashed",
      machineId: ids.machineId,
      processName: after.name,
      errorMessage: after.errorMessage ?? (exitCode !== null ? `Process exited with code ${exitCode}` : null),
      // A process doc is one configured process: its id is what the limits count by.
      subject: ids.processId,
      extra: { exitCode, processId: ids.processId },
    }),
  ];
}

/** The log actions that are events; every other action (`process_start`, `deployment_*`, ...) is routine. */
export const LOG_ACTIONS: ReadonlyMap<string, ProcessEventType> = new Map([
  ["process_crash", "process.crashed"],
  ["process_start_failed", "process.start_failed"],
]);

/** Events implied by a created `sites/{siteId}/logs/{logId}` doc, as deployed agents write them. */
export function detectLogEvents(log: LogDoc | null): DetectedEvent[] {
  const type = log ? LOG_ACTIONS.get(log.action) : undefined;
  if (!log || !type || !log.processName) return [];
  return [
    processEvent({
      type,
      machineId: log.machineId,
      // Deployed agents write the hostname here; a documented name on the machine doc wins later.
      machineName: log.machineName && log.machineName !== log.machineId ? log.machineName : null,
      processName: log.processName,
      errorMessage: log.details,
      screenshotUrl: log.screenshotUrl,
    }),
  ];
}
