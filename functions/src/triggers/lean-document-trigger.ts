import { onDocumentWritten, type DocumentOptions } from "firebase-functions/v2/firestore";
import { readDocumentEvent, type WireEvent } from "../domain/document-wire";
import { toAgentWrite, type AgentWrite } from "./agent-write";

/** A Firestore write event as it reaches the function, before firebase-functions decodes it. */
interface RawEvent {
  data?: unknown;
}

/**
 * `onDocumentWritten`, deployed and run exactly as it is (the same endpoint, trace context,
 * `onInit` and path params), for handlers that read a few top-level fields of a doc written
 * often: a protobuf event (as Eventarc delivers it) is read for `fields` alone
 * (domain/document-wire.ts), skipping the rest of both sides undecoded, and handed to
 * firebase-functions without its data, so that it decodes nothing; firebase-functions would
 * decode the whole message twice and snapshot every field. An event in another form, or one the
 * reader cannot read, goes through firebase-functions' own decoding.
 */
export function onDocumentWrittenLean(
  opts: DocumentOptions<string> & { document: string },
  fields: ReadonlySet<string>,
  handler: (write: AgentWrite) => Promise<unknown>,
) {
  const standard = onDocumentWritten(opts, async (event) => {
    const sides = (event as { leanSides?: WireEvent }).leanSides;
    const write = toAgentWrite(event);
    await handler(sides ? { ...write, before: sides.before, after: sides.after } : write);
  });
  const lean = (raw: RawEvent) => {
    const sides = raw.data instanceof Uint8Array ? readOrNull(raw.data, fields) : null;
    return standard((sides ? { ...raw, data: undefined, leanSides: sides } : raw) as never);
  };
  return Object.assign(lean, { __endpoint: standard.__endpoint, run: standard.run });
}

function readOrNull(data: Uint8Array, fields: ReadonlySet<string>): WireEvent | null {
  try {
    return readDocumentEvent(data, fields);
  } catch {
    return null;
  }
}
