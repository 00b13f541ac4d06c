import type { StoredDoc } from "../data/management-store";
import { invalid } from "./errors";
import { DOC_ID } from "./inputs";

/** Firestore Timestamps run from year 1 to year 9999. */
const TIMESTAMP_MIN_MS = -62_135_596_800_000;
const TIMESTAMP_MAX_MS = 253_402_300_799_999;

/** Cursors are opaque to callers: base64url of the last item's `createdAt` and id. */
export function encodeCursor(doc: StoredDoc): string {
  const createdAt = doc.data.createdAt as { toMillis?: () => number } | undefined;
  return Buffer.from(JSON.stringify([createdAt?.toMillis?.() ?? 0, doc.id])).toString("base64url");
}

export function decodeCursor(cursor: string): { createdAtMs: number; id: string } {
  try {
    const [createdAtMs, id] = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8")) as unknown[];
    // Within Firestore's Timestamp range, and an id Firestore accepts: a forged cursor is a 400, not a 500.
    const inRange = typeof createdAtMs === "number" && Number.isInteger(createdAtMs) && createdAtMs >= TIMESTAMP_MIN_MS && createdAtMs <= TIMESTAMP_MAX_MS;
    if (inRange && typeof id === "string" && DOC_ID.test(id) && id.length <= 256) return { createdAtMs, id };
  } catch {
    // fall through to the refusal below
  }
  throw invalid([{ path: "cursor", reason: "not a cursor returned by this API" }]);
}
