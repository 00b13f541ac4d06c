import type { Change, DocumentSnapshot, FirestoreEvent } from "firebase-functions/v2/firestore";

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

export function toAgentWrite(
  event: FirestoreEvent<Change<DocumentSnapshot> | undefined, Record<string, string>>,
): AgentWrite {
  const occurredAt = new Date(event.time);
  return {
    eventId: event.id,
    occurredAt: Number.isNaN(occurredAt.getTime()) ? new Date() : occurredAt,
    path: event.document,
    params: event.params,
    before: event.data?.before.data(),
    after: event.data?.after.data(),
  };
}
