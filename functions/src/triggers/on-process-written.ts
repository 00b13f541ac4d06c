import { onDocumentWritten } from "firebase-functions/v2/firestore";
import { parseAgentDoc, processDocSchema } from "../domain/agent-docs";
import { detectProcessEvents } from "../domain/detect-process-events";
import { emitEvents, type EmitDeps } from "../pipeline/emit-events";
import { productionDeps } from "../wiring";
import { toAgentWrite, type AgentWrite } from "./agent-write";

/**
 * Malformed agent docs are logged with their path and dropped: throwing would make the
 * (retrying) trigger redeliver the same bad write for days.
 */
export async function handleProcessWrite(write: AgentWrite, deps: EmitDeps) {
  const after = parseAgentDoc(processDocSchema, write.after);
  if (!after.ok) {
    deps.log.warn("agent_doc.malformed", { path: write.path, problems: after.problems });
    return [];
  }
  const before = parseAgentDoc(processDocSchema, write.before);
  const { siteId, machineId, processId } = write.params;
  if (!siteId || !machineId || !processId) return [];
  const detected = detectProcessEvents(before.ok ? before.value : null, after.value, { machineId, processId });
  if (detected.length === 0) return [];
  return emitEvents({ triggerEventId: write.eventId, occurredAt: write.occurredAt, siteId, detected }, deps);
}

export const onProcessWritten = onDocumentWritten(
  { document: "sites/{siteId}/machines/{machineId}/processes/{processId}", retry: true },
  async (event) => {
    await handleProcessWrite(toAgentWrite(event), productionDeps());
  },
);
