import { onDocumentWritten } from "firebase-functions/v2/firestore";
import { machineDocSchema } from "../domain/agent-docs";
import { detectMachineEvents, hasLeftoverStaleMark } from "../domain/detect-machine-events";
import { emitEvents, type EmitDeps } from "../pipeline/emit-events";
import { productionDeps } from "../wiring";
import { parseWrite, toAgentWrite, type AgentWrite } from "./agent-write";

/**
 * Heartbeats land here too: an idle heartbeat is parsed, found to change nothing, and costs no
 * Firestore read or write.
 */
export async function handleMachineWrite(write: AgentWrite, deps: EmitDeps) {
  const docs = parseWrite(machineDocSchema, write, deps.log);
  const { siteId, machineId } = write.params;
  if (!docs || !siteId || !machineId) return [];
  const detected = detectMachineEvents(docs.before, docs.after, machineId);
  const emitted =
    detected.length > 0
      ? await emitEvents({ triggerEventId: write.eventId, occurredAt: write.occurredAt, siteId, detected }, deps)
      : [];
  if (hasLeftoverStaleMark(docs.after)) await deps.store.clearStaleMark(siteId, machineId);
  return emitted;
}

export const onMachineWritten = onDocumentWritten(
  { document: "sites/{siteId}/machines/{machineId}", retry: true },
  async (event) => {
    await handleMachineWrite(toAgentWrite(event), productionDeps());
  },
);
