import { FieldValue, Timestamp, type DocumentData, type Firestore } from "firebase-admin/firestore";
import { planUpkeep, REMOVE, type Patch, type SecretState, type UpkeepPlan } from "../domain/host-adoption";
import { generateSecret } from "../domain/signing";
import { paths } from "./paths";
import { parseOrNull, toSecretSet } from "./parse";
import { secretDocSchema } from "./webhook-docs";

export interface UpkeepResult {
  plan: UpkeepPlan | null;
  /** The webhook doc as the transaction left it (null: the doc is gone). */
  doc: DocumentData | null;
  /** A secret made because the host's doc held none (shown once by the CLI). */
  newSecret: string | null;
}

/** The plan's fields as Firestore writes them: removals as deletes, times as Timestamps. */
function toFirestore(patch: Patch): DocumentData {
  const out: DocumentData = {};
  for (const [k, v] of Object.entries(patch)) out[k] = v === REMOVE ? FieldValue.delete() : v instanceof Date ? Timestamp.fromDate(v) : v;
  return out;
}

function applied(doc: DocumentData, patch: Patch): DocumentData {
  const out: DocumentData = { ...doc };
  for (const [k, v] of Object.entries(patch)) {
    if (v === REMOVE) delete out[k];
    else out[k] = v instanceof Date ? Timestamp.fromDate(v) : v;
  }
  return out;
}

/**
 * One webhook doc brought in line with the pipeline (domain/host-adoption.ts), in a transaction
 * over the doc and its server-only secret doc: what the plan says is computed from both as they
 * are now, so a trigger redelivered late, the fan-out meeting a doc not yet adopted, and
 * `cli webhooks migrate` all agree. `write` is the write that triggered it, when there was one.
 */
export async function upkeepWebhook(
  db: Firestore,
  ids: { siteId: string; webhookId: string },
  write: { before: DocumentData | null; after: DocumentData | null } | null,
  now = new Date(),
): Promise<UpkeepResult> {
  const ref = db.doc(paths.webhook(ids.siteId, ids.webhookId));
  const secretRef = db.doc(paths.webhookSecret(ids.siteId, ids.webhookId));
  return db.runTransaction(async (tx) => {
    const [snap, secretSnap] = await tx.getAll(ref, secretRef);
    const doc = snap?.data();
    if (!doc) return { plan: null, doc: null, newSecret: null };
    const stored = parseOrNull(secretDocSchema, secretSnap?.data());
    const secret: SecretState | null = stored ? { ...toSecretSet(stored), url: stored.url } : null;
    const plan = planUpkeep({ doc, before: write?.before ?? null, written: write?.after ?? null, secret, nowMs: now.getTime(), generateSecret });
    if (!plan) return { plan: null, doc, newSecret: null };
    if (plan.secret) {
      const at = Timestamp.fromDate(now);
      const fields = {
        current: plan.secret.current,
        previous: plan.secret.previous.map((p) => ({ secret: p.secret, expiresAt: Timestamp.fromMillis(p.expiresAtMs) })),
        ...(plan.findings.includes("rotated") ? { rotatedAt: at } : {}),
      };
      const url = plan.secret.url;
      if (secretSnap?.exists) tx.update(secretRef, { ...fields, url: url ?? FieldValue.delete() });
      else tx.create(secretRef, { ...fields, ...(url ? { url } : {}), headers: {}, createdAt: at });
    }
    if (Object.keys(plan.webhook).length > 0) tx.update(ref, toFirestore(plan.webhook));
    return { plan, doc: applied(doc, plan.webhook), newSecret: plan.newSecret && plan.secret ? plan.secret.current : null };
  });
}
