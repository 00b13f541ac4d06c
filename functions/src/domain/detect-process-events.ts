import type { LogDoc, ProcessDoc } from "./agent-docs";
import { clip, type DetectedEvent } from "./detected-event";
import { safeScreenshotUrl } from "./screenshot-url";

export const CRASHED = "crashed";

/** What a deployed agent says when it has nothing more precise. */
export const DEFAULT_CRASH_MESSAGE = "Process exited unexpectedly";

type ProcessEventType = "process.crashed" | "process.start_failed";

/**
 * A process event, from whichever channel reported it. Fields the agent did not send (an exit
 * code, a screenshot) are absent from the payload, not invented; a screenshot link that is not
 * a public https URL is left out too. The subject is what the emission limits count by
 * (deployed: machine and process name); the content, the agent's message, tells two crashes
 * apart (it names the PID) and pairs a log doc with its alert.
 *
 * It takes no machine name: a report's own name is the agent's word and can name another
 * machine (a log doc's `machineName` is free text), so the payload names the machine by its
 * machine doc when it is built (pipeline/emit-events.ts).
 */
export function processEvent(input: {
  type: ProcessEventType;
  machineId: string;
  processName: string;
  errorMessage?: string | null | undefined;
  screenshotUrl?: unknown;
  subject?: string;
  extra?: Record<string, unknown>;
}): DetectedEvent {
  const errorMessage = clip(input.errorMessage || DEFAULT_CRASH_MESSAGE);
  const screenshotUrl = safeScreenshotUrl(input.screenshotUrl);
  return {
    type: input.type,
    machineId: input.machineId,
    fields: {
      processName: input.processName,
      errorMessage,
      ...input.extra,
      ...(screenshotUrl ? { screenshotUrl } : {}),
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
      // The rules hold machineId to the agent's own; its machineName is not read (see processEvent).
      machineId: log.machineId,
      processName: log.processName,
      errorMessage: log.details,
      screenshotUrl: log.screenshotUrl,
    }),
  ];
}
