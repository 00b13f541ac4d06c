import { onDocumentWritten } from "firebase-functions/v2/firestore";
import { machineDocSchema, parseAgentDoc } from "../domain/agent-docs";
import { detectMachineEvents, hasLeftoverStaleMark } from "../domain/detect-machine-events";
import { emitEvents, type EmitDeps } from "../pipeline/emit-events";
import { productionDeps } from "../wiring";
import { toAgentWrite, type AgentWrite } from "./agent-write";

/**
 * Heartbeats land here too: an idle heartbeat is parsed, found to change nothing, and costs no
 * Firestore read or write.
 */
export async function handleMachineWrite(write: AgentWrite, deps: EmitDeps) {
  const after = parseAgentDoc(machineDocSchema, write.after);
  if (!after.ok) {
    deps.log.warn("agent_doc.malformed", { path: write.path, problems: after.problems });
    return [];
  }
  const before = parseAgentDoc(machineDocSchema, write.before);
  const { siteId, machineId } = write.params;
  if (!siteId || !machineId) return [];
  const detected = detectMachineEvents(before.ok ? before.value : null, after.value, machineId);
  const emitted =
    detected.length > 0
      ? await emitEvents({ triggerEventId: write.eventId, occurredAt: write.occurredAt, siteId, detected }, deps)
      : [];
  if (hasLeftoverStaleMark(after.value)) await deps.store.clearStaleMark(siteId, machineId);
  return emitted;
}

export const onMachineWritten = onDocumentWritten(
  { document: "sites/{siteId}/machines/{machineId}", retry: true },
  async (event) => {
    await handleMachineWrite(toAgentWrite(event), productionDeps());
  },
);
