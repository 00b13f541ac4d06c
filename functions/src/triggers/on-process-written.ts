import { onDocumentWritten } from "firebase-functions/v2/firestore";
import { processDocSchema } from "../domain/agent-docs";
import { detectProcessEvents } from "../domain/detect-process-events";
import { emitEvents, type EmitDeps } from "../pipeline/emit-events";
import { productionDeps } from "../wiring";
import { parseWrite, toAgentWrite, type AgentWrite } from "./agent-write";

export async function handleProcessWrite(write: AgentWrite, deps: EmitDeps) {
  const docs = parseWrite(processDocSchema, write, deps.log);
  const { siteId, machineId, processId } = write.params;
  if (!docs || !siteId || !machineId || !processId) return [];
  const detected = detectProcessEvents(docs.before, docs.after, { machineId, processId });
  if (detected.length === 0) return [];
  return emitEvents({ triggerEventId: write.eventId, occurredAt: write.occurredAt, siteId, detected }, deps);
}

export const onProcessWritten = onDocumentWritten(
  { document: "sites/{siteId}/machines/{machineId}/processes/{processId}", retry: true },
  async (event) => {
    await handleProcessWrite(toAgentWrite(event), productionDeps());
  },
);
