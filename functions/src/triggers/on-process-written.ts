import { onDocumentWritten } from "firebase-functions/v2/firestore";
import { SIZING } from "../sizing";
import { processDocSchema } from "../domain/agent-docs";
import { detectProcessEvents } from "../domain/detect-process-events";
import { ingest, type IngestDeps } from "../pipeline/ingest";
import { ingestDeps } from "../wiring";
import { parseWrite, toAgentWrite, type AgentWrite } from "./agent-write";

/** The documented path for agents that keep one doc per process (deployed Owlette agents write logs instead). */
export async function handleProcessWrite(write: AgentWrite, deps: IngestDeps) {
  const docs = parseWrite(processDocSchema, write, deps.log);
  const { siteId, machineId, processId } = write.params;
  if (!docs || !siteId || !machineId || !processId) return [];
  const detected = detectProcessEvents(docs.before, docs.after, { machineId, processId });
  if (detected.length === 0) return [];
  return ingest({ siteId, channel: "doc", reportId: write.eventId, at: write.occurredAt }, detected, deps);
}

export const onProcessWritten = onDocumentWritten(
  { document: "sites/{siteId}/machines/{machineId}/processes/{processId}", retry: true, ...SIZING.agentDocs },
  async (event) => {
    await handleProcessWrite(toAgentWrite(event), ingestDeps());
  },
);
