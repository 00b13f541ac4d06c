import type { DocumentData } from "firebase-admin/firestore";
import { attemptOutcome, isSuccess, shownAttempt, shownLastStatus, type AttemptResult } from "../domain/attempt-result";
import type { StoredDoc } from "../data/management-store";

/** Firestore Timestamps become RFC 3339 strings; anything else (missing, null) becomes null. */
function iso(value: unknown): string | null {
  const t = value as { toDate?: () => Date } | null | undefined;
  return typeof t?.toDate === "function" ? t.toDate().toISOString() : null;
}

const str = (v: unknown, fallback: string | null = null) => (typeof v === "string" ? v : fallback);

/** What callers see of a webhook. The doc holds no secret; this view adds none. */
export function webhookView(siteId: string, doc: StoredDoc) {
  const d = doc.data;
  return {
    id: doc.id,
    siteId,
    name: str(d.name, ""),
    description: str(d.description, ""),
    url: str(d.url, ""),
    events: Array.isArray(d.events) ? d.events : [],
    enabled: d.enabled === true,
    disabledReason: str(d.disabledReason),
    failCount: typeof d.failCount === "number" ? d.failCount : 0,
    lastStatus: shownLastStatus(d.lastStatus),
    lastDeliveryAt: iso(d.lastDeliveryAt),
    signatureScheme: str(d.signatureScheme, "owlette"),
    method: str(d.method, "POST"),
    format: str(d.format, "owlette"),
    headerNames: Array.isArray(d.headerNames) ? d.headerNames : [],
    createdAt: iso(d.createdAt),
    createdBy: str(d.createdBy),
    updatedAt: iso(d.updatedAt),
    /** `dashboard` / `api`: a doc the Owlette host created, adopted (domain/host-adoption.ts); null for the pipeline's own. */
    hostShape: str(d.hostShape),
    /** Another program wrote this webhook's health (the host's own sender, still running): when, what, how often. */
    foreignWrite: foreignWriteView(d.foreignWrite),
  };
}

function foreignWriteView(v: unknown): { at: string | null; fields: string[]; count: number } | null {
  if (typeof v !== "object" || v === null) return null;
  const f = v as { at?: unknown; fields?: unknown; count?: unknown };
  return {
    at: iso(f.at),
    fields: Array.isArray(f.fields) ? f.fields.filter((x): x is string => typeof x === "string") : [],
    count: typeof f.count === "number" ? f.count : 1,
  };
}
export type WebhookView = ReturnType<typeof webhookView>;

export function deliveryView(doc: StoredDoc) {
  const d = doc.data;
  const attempts: DocumentData[] = Array.isArray(d.attempts) ? d.attempts : [];
  return {
    id: doc.id,
    eventId: str(d.eventId),
    eventType: str(d.eventType),
    status: str(d.status),
    skippedReason: str(d.skippedReason),
    attemptCount: typeof d.attemptCount === "number" ? d.attemptCount : attempts.length,
    attempts: attempts.map((a) => ({
      attempt: a.attempt,
      at: iso(a.at),
      ...shownAttempt(a),
      ...(a.manual ? { manual: true } : {}),
    })),
    nextAttemptAt: iso(d.nextAttemptAt),
    createdAt: iso(d.createdAt),
    updatedAt: iso(d.updatedAt),
  };
}

/** The key itself is never stored; its hash is never shown. */
export function apiKeyView(doc: StoredDoc) {
  const d = doc.data;
  return {
    id: doc.id,
    siteId: str(d.siteId),
    name: str(d.name, ""),
    access: str(d.access),
    prefix: str(d.prefix),
    createdBy: str(d.uid),
    createdAt: iso(d.createdAt),
    lastUsedAt: iso(d.lastUsedAt),
    revokedAt: iso(d.revokedAt),
  };
}

/**
 * The outcome of a test, probe or manual retry as the caller sees it: the same words as the
 * delivery record (domain/attempt-result.ts), so no action tells more than another.
 */
export function attemptView(result: AttemptResult) {
  return { ok: isSuccess(result), ...attemptOutcome(result) };
}
