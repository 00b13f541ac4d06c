import { Timestamp } from "firebase-admin/firestore";
import type { SecretSet } from "../domain/secret-rotation";
import type { SecretDoc } from "./webhook-docs";

/** Reading stored docs defensively: a doc that does not parse is absent, never a crash. */

export function toSecretSet(doc: SecretDoc): SecretSet {
  return { current: doc.current, previous: doc.previous.map((p) => ({ secret: p.secret, expiresAtMs: p.expiresAt.toMillis() })) };
}

export function fromSecretSet(set: SecretSet) {
  return { current: set.current, previous: set.previous.map((p) => ({ secret: p.secret, expiresAt: Timestamp.fromMillis(p.expiresAtMs) })) };
}

export function parseOrNull<T>(schema: { safeParse(v: unknown): { success: true; data: T } | { success: false } }, data: unknown): T | null {
  if (data === undefined) return null;
  const r = schema.safeParse(data);
  return r.success ? r.data : null;
}
