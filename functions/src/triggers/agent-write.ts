import type { Change, DocumentSnapshot, FirestoreEvent } from "firebase-functions/v2/firestore";
import type { z } from "zod";
import { parseAgentDoc } from "../domain/agent-docs";
import type { Log } from "../log";

/** The parts of a Firestore write event the handlers use, so tests can build one by hand. */
export interface AgentWrite {
  /** The trigger's event id: the same on every redelivery of the same write. */
  eventId: string;
  occurredAt: Date;
  path: string;
  params: Record<string, string>;
  before: unknown;
  after: unknown;
}

/** A written doc's change (onDocumentWritten) or a created doc alone (onDocumentCreated). */
export function toAgentWrite(event: FirestoreEvent<Change<DocumentSnapshot> | DocumentSnapshot | undefined, Record<string, string>>): AgentWrite {
  const occurredAt = new Date(event.time);
  const data = event.data;
  const change = data && "after" in data ? data : undefined;
  return {
    eventId: event.id,
    occurredAt: Number.isNaN(occurredAt.getTime()) ? new Date() : occurredAt,
    path: event.document,
    params: event.params,
    before: change ? change.before.data() : undefined,
    after: change ? change.after.data() : (data as DocumentSnapshot | undefined)?.data(),
  };
}

/**
 * Both sides of a write, parsed. A malformed `after` is logged with its path and yields null:
 * throwing would make the (retrying) trigger redeliver the same bad write for days. A malformed
 * `before` is read as absent.
 */
export function parseWrite<T>(schema: z.ZodType<T>, write: AgentWrite, log: Log): { before: T | null; after: T | null } | null {
  const after = parseAgentDoc(schema, write.after);
  if (!after.ok) {
    log.warn("agent_doc.malformed", { path: write.path, problems: after.problems });
    return null;
  }
  const before = parseAgentDoc(schema, write.before);
  return { before: before.ok ? before.value : null, after: after.value };
}
