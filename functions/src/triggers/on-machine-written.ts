import { SIZING } from "../sizing";
import { machineDocSchema } from "../domain/agent-docs";
import { detectMachineEvents } from "../domain/detect-machine-events";
import { LEGACY_MARK_FIELDS, legacyFieldsSchema, legacyReturn } from "../domain/legacy-mark";
import { isBackFrom, mayBeReturning, onlineEvent } from "../domain/presence";
import { ingest, type IngestDeps } from "../pipeline/ingest";
import { ingestDeps, presenceDeps, type PresenceDeps } from "../wiring";
import { parseWrite, type AgentWrite } from "./agent-write";
import { onDocumentWrittenLean } from "./lean-document-trigger";

/**
 * Heartbeats land here too: an on-time heartbeat is parsed, found to change nothing, and costs
 * no Firestore read or write. A heartbeat after a silence long enough for the sweep to have
 * marked the machine reads its presence doc once: if it is marked, machine.online goes out
 * (after its machine.offline) and the mark is cleared. This trigger never writes the machine doc.
 */
export async function handleMachineWrite(write: AgentWrite, deps: IngestDeps & Pick<PresenceDeps, "presence" | "staleAfterMs">) {
  const docs = parseWrite(machineDocSchema, write, deps.log);
  const { siteId, machineId } = write.params;
  if (!docs || !siteId || !machineId) return [];
  if (!docs.after) {
    if (write.after === undefined) await deps.presence.forget(siteId, machineId);
    return [];
  }
  const detected = detectMachineEvents(docs.before, docs.after, machineId);
  const mark = mayBeReturning(docs.before, docs.after, write.occurredAt.getTime(), deps.staleAfterMs) ? await deps.presence.loadMark(siteId, machineId) : null;
  // A mark an earlier version wrote on the machine doc itself (domain/legacy-mark.ts) is answered the same way.
  const legacy = legacyReturn(write.before, write.after);
  const returned = legacy ?? (mark && isBackFrom(mark, docs.after.lastHeartbeat) ? mark : null);
  if (returned) detected.push(onlineEvent(returned, machineId, docs.after.name ?? undefined, docs.after.lastHeartbeat));
  const outcomes = detected.length > 0 ? await ingest({ siteId, channel: "doc", reportId: write.eventId, at: write.occurredAt }, detected, deps) : [];
  // Cleared only once machine.online is in: a redelivered write finds the mark and reports it again, deduped.
  if (legacy) await deps.presence.clearLegacyMark(siteId, machineId);
  else if (returned) await deps.presence.clearMark(siteId, machineId, returned.staleSince, mark?.version);
  return outcomes;
}

/** The machine doc's fields this trigger reads: a heartbeat's `metrics` (most of its bytes) are never decoded. */
export const MACHINE_FIELDS: ReadonlySet<string> = new Set([
  ...Object.keys(machineDocSchema.shape),
  ...Object.keys(legacyFieldsSchema.shape),
  ...LEGACY_MARK_FIELDS,
]);

export const onMachineWritten = onDocumentWrittenLean(
  { document: "sites/{siteId}/machines/{machineId}", retry: true, ...SIZING.heartbeat },
  MACHINE_FIELDS,
  (write) => handleMachineWrite(write, { ...ingestDeps(), ...presenceDeps() }),
);
