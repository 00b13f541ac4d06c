import type { ProcessDoc } from "./agent-docs";
import { clip, type DetectedEvent } from "./detected-event";

export const CRASHED = "crashed";

/** Events implied by one write to `.../machines/{machineId}/processes/{processId}`. */
export function detectProcessEvents(
  before: ProcessDoc | null,
  after: ProcessDoc | null,
  ids: { machineId: string; processId: string },
): DetectedEvent[] {
  if (!after || after.status !== CRASHED || before?.status === CRASHED) return [];
  const exitCode = after.exitCode ?? null;
  const errorMessage =
    after.errorMessage ??
    (exitCode !== null ? `Process exited with code ${exitCode}` : "Process exited unexpectedly");
  return [
    {
      type: "process.crashed",
      machineId: ids.machineId,
      fields: {
        processName: after.name,
        errorMessage: clip(errorMessage),
        exitCode,
        processId: ids.processId,
      },
    },
  ];
}
