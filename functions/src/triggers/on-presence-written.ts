import { onDocumentWritten } from "firebase-functions/v2/firestore";
import { SIZING } from "../sizing";
import { heldPageDue } from "../domain/emission-policy";
import { isNewMark, isRenewedMark, offlineEvent, presenceDocSchema } from "../domain/presence";
import { ingest, type IngestDeps } from "../pipeline/ingest";
import { ingestDeps, presenceDeps, type PresenceDeps } from "../wiring";
import { parseWrite, toAgentWrite, type AgentWrite } from "./agent-write";

/**
 * The sweep's marks become machine.offline here: a new mark instant (a first mark, or one
 * renewed for a held page) is one outage report. One the emission limit holds back (a machine
 * that went offline once already this hour) is held on the presence doc until the window turns.
 */
export async function handlePresenceWrite(write: AgentWrite, deps: IngestDeps & Pick<PresenceDeps, "presence">) {
  const docs = parseWrite(presenceDocSchema, write, deps.log);
  const { siteId, machineId } = write.params;
  const mark = docs && isNewMark(docs.before, docs.after);
  if (!mark || !siteId || !machineId) return [];
  const event = offlineEvent(mark, machineId, isRenewedMark(docs.before, mark));
  const outcomes = await ingest({ siteId, channel: "sweep", reportId: write.eventId, at: write.occurredAt }, [event], deps);
  // On the decision, not this report's outcome: a redelivery (the hold's write failed the first
  // time) sees `duplicate`, and must still hold the page, or the outage would never be paged.
  if (outcomes.some((o) => o.decision === "suppressed")) await deps.presence.holdPage(siteId, machineId, mark.staleSince, heldPageDue(write.occurredAt));
  return outcomes;
}

export const onPresenceWritten = onDocumentWritten({ document: "sites/{siteId}/presence/{machineId}", retry: true, ...SIZING.presence }, async (event) => {
  await handlePresenceWrite(toAgentWrite(event), { ...ingestDeps(), ...presenceDeps() });
});
