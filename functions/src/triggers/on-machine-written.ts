import { onDocumentWritten } from "firebase-functions/v2/firestore";
import { SIZING } from "../sizing";
import { machineDocSchema } from "../domain/agent-docs";
import { detectMachineEvents, hasLeftoverStaleMark } from "../domain/detect-machine-events";
import { heldPageDue } from "../domain/emission-policy";
import { ingest, type IngestDeps } from "../pipeline/ingest";
import { ingestDeps } from "../wiring";
import { parseWrite, toAgentWrite, type AgentWrite } from "./agent-write";

/**
 * Heartbeats land here too: an idle heartbeat is parsed, found to change nothing, and costs no
 * Firestore read or write.
 */
export async function handleMachineWrite(write: AgentWrite, deps: IngestDeps) {
  const docs = parseWrite(machineDocSchema, write, deps.log);
  const { siteId, machineId } = write.params;
  if (!docs || !siteId || !machineId) return [];
  const detected = detectMachineEvents(docs.before, docs.after, machineId);
  const outcomes = detected.length > 0 ? await ingest({ siteId, channel: "doc", reportId: write.eventId, at: write.occurredAt }, detected, deps) : [];
  if (hasLeftoverStaleMark(docs.after)) await deps.store.clearStaleMark(siteId, machineId);
  // An outage paged already this hour: this one's page waits for the window to turn.
  const held = outcomes.find((o) => o.type === "machine.offline" && o.outcome === "suppressed");
  if (held) await deps.store.holdOfflinePage(siteId, machineId, heldPageDue(write.occurredAt));
  return outcomes;
}

export const onMachineWritten = onDocumentWritten({ document: "sites/{siteId}/machines/{machineId}", retry: true, ...SIZING.heartbeat }, async (event) => {
  await handleMachineWrite(toAgentWrite(event), ingestDeps());
});
