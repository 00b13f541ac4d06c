import { onDocumentCreated } from "firebase-functions/v2/firestore";
import { SIZING } from "../sizing";
import { logDocSchema } from "../domain/agent-docs";
import { detectLogEvents } from "../domain/detect-process-events";
import { ingest, type IngestDeps } from "../pipeline/ingest";
import { ingestDeps } from "../wiring";
import { parseWrite, toAgentWrite, type AgentWrite } from "./agent-write";

/**
 * Deployed agents report crashes as `sites/{siteId}/logs/{uuid}` docs (and by alert: the two
 * reports are one occurrence, see pipeline/ingest.ts). Routine actions cost a parse and nothing
 * else. Log docs are only ever created (the rules allow no update).
 */
export async function handleLogCreated(write: AgentWrite, deps: IngestDeps) {
  const docs = parseWrite(logDocSchema, write, deps.log);
  const { siteId } = write.params;
  if (!docs || !siteId) return [];
  const detected = detectLogEvents(docs.after);
  if (detected.length === 0) return [];
  const at = docs.after?.timestamp ? new Date(docs.after.timestamp.toMillis()) : write.occurredAt;
  // The doc's path identifies the report: a redelivered trigger carries the same one.
  return ingest({ siteId, channel: "log", reportId: write.path, at }, detected, deps);
}

export const onLogCreated = onDocumentCreated({ document: "sites/{siteId}/logs/{logId}", retry: true, ...SIZING.agentDocs }, async (event) => {
  await handleLogCreated(toAgentWrite(event), ingestDeps());
});
