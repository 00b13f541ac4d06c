import { SIZING } from "../sizing";
import { machineDocSchema } from "../domain/agent-docs";
import { detectMachineEvents } from "../domain/detect-machine-events";
import { LEGACY_MARK_FIELDS, legacyFieldsSchema, legacyReturn } from "../domain/legacy-mark";
import { isBackFrom, mayBeReturning, onlineEvent } from "../domain/presence";
import { RETURN_WATCH_FIELD } from "../domain/return-watch";
import { ingest, type IngestDeps } from "../pipeline/ingest";
import { ingestDeps, presenceDeps, type PresenceDeps } from "../wiring";
import { parseWrite, type AgentWrite } from "./agent-write";
import { onDocumentWrittenLean } from "./lean-document-trigger";

/**
 * Heartbeats land here too: an on-time heartbeat is parsed, found to change nothing, and costs
 * no Firestore read or write. A heartbeat after a silence long enough for the sweep to have
 * marked the machine reads its presence doc once: if it is marked, machine.online goes out
 * (after its machine.offline) and the mark is cleared. It writes the machine doc only to remove the flag the sweep presence mode left on a machine it answers.
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
  // A flag the sweep presence mode left (a return it had not answered yet when the mode was
  // switched back) makes any heartbeat a possible return: its mark is read, answered, and the flag goes.
  const flagged = docs.after.online === true && isFlagged(write.after);
  const mayReturn = flagged || mayBeReturning(docs.before, docs.after, write.occurredAt.getTime(), deps.staleAfterMs);
  const mark = mayReturn ? await deps.presence.loadMark(siteId, machineId) : null;
  // A mark an earlier version wrote on the machine doc itself (domain/legacy-mark.ts) is answered the same way.
  const legacy = legacyReturn(write.before, write.after);
  const returned = legacy ?? (mark && isBackFrom(mark, docs.after.lastHeartbeat) ? mark : null);
  if (returned) detected.push(onlineEvent(returned, machineId, docs.after.name ?? undefined, docs.after.lastHeartbeat));
  const outcomes = detected.length > 0 ? await ingest({ siteId, channel: "doc", reportId: write.eventId, at: write.occurredAt }, detected, deps) : [];
  // Cleared only once machine.online is in: a redelivered write finds the mark and reports it again, deduped.
  if (legacy) await deps.presence.clearLegacyMark(siteId, machineId);
  else if (returned) await deps.presence.clearMark(siteId, machineId, returned.staleSince, mark?.version);
  if (flagged && (!mark || returned)) await deps.presence.clearReturnFlag(siteId, machineId);
  return outcomes;
}

function isFlagged(doc: unknown): boolean {
  return typeof doc === "object" && doc !== null && (doc as Record<string, unknown>)[RETURN_WATCH_FIELD] === true;
}

/** The machine doc's fields this trigger reads: a heartbeat's `metrics` (most of its bytes) are never decoded. */
export const MACHINE_FIELDS: ReadonlySet<string> = new Set([
  ...Object.keys(machineDocSchema.shape),
  RETURN_WATCH_FIELD,
  ...Object.keys(legacyFieldsSchema.shape),
  ...LEGACY_MARK_FIELDS,
]);

export const onMachineWritten = onDocumentWrittenLean(
  { document: "sites/{siteId}/machines/{machineId}", retry: true, ...SIZING.heartbeat },
  MACHINE_FIELDS,
  (write) => handleMachineWrite(write, { ...ingestDeps(), ...presenceDeps() }),
);
