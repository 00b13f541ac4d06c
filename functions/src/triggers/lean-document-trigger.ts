import { onDocumentWritten, type DocumentOptions } from "firebase-functions/v2/firestore";
import { readDocumentEvent } from "../domain/document-wire";
import { toAgentWrite, type AgentWrite } from "./agent-write";

/** A Firestore write event as it reaches the function, before firebase-functions decodes it. */
interface RawEvent {
  id: string;
  time: string;
  document: string;
  datacontenttype?: string;
  data?: unknown;
}

/**
 * `onDocumentWritten`, deployed and configured exactly as it (the same endpoint), for handlers
 * that read a few top-level fields of a doc written often: a protobuf event (as Eventarc delivers
 * it) is read for `fields` alone (domain/document-wire.ts), skipping the rest of both sides
 * undecoded, where firebase-functions would decode the whole message twice and snapshot every
 * field. An event in any other form goes through firebase-functions as usual.
 */
export function onDocumentWrittenLean(
  opts: DocumentOptions<string> & { document: string },
  fields: ReadonlySet<string>,
  handler: (write: AgentWrite) => Promise<unknown>,
) {
  const standard = onDocumentWritten(opts, async (event) => {
    await handler(toAgentWrite(event));
  });
  const pattern = opts.document.split("/");
  const lean = async (raw: RawEvent) => {
    const bytes = raw.data instanceof Uint8Array ? raw.data : null;
    if (!bytes) return standard(raw as never);
    const { before, after } = readDocumentEvent(bytes, fields);
    await handler(leanWrite(raw, pattern, before, after));
  };
  return Object.assign(lean, { __endpoint: standard.__endpoint, run: standard.run });
}

/** The write as `toAgentWrite` gives it, from the raw event and the fields read. */
export function leanWrite(raw: RawEvent, pattern: string[], before: unknown, after: unknown): AgentWrite {
  const occurredAt = new Date(raw.time);
  const segments = raw.document.split("/");
  const params = Object.fromEntries(pattern.flatMap((p, i) => (p.startsWith("{") && p.endsWith("}") && segments[i] ? [[p.slice(1, -1), segments[i]]] : [])));
  return {
    eventId: raw.id,
    occurredAt: Number.isNaN(occurredAt.getTime()) ? new Date() : occurredAt,
    path: raw.document,
    params,
    before,
    after,
  };
}
