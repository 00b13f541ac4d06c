import { FieldValue, Timestamp, type Firestore } from "firebase-admin/firestore";
import { keepsUrlSecret, redactUrl } from "../domain/destination-formats";
import { planMigration, type MigrationPlan } from "../domain/legacy-webhooks";
import { generateSecret } from "../domain/signing";
import { paths } from "./paths";

export interface MigrationRow {
  siteId: string;
  webhookId: string;
  plan: MigrationPlan;
}

const WEBHOOK_PATH = /^sites\/([^/]+)\/webhooks\/([^/]+)$/;

/** Webhook docs of one site (or every site) that an earlier Owlette wrote, with what the migration would do. */
export async function findLegacyWebhooks(db: Firestore, siteId?: string): Promise<MigrationRow[]> {
  const snap = siteId ? await db.collection(paths.webhooks(siteId)).get() : await db.collectionGroup("webhooks").get();
  const rows: MigrationRow[] = [];
  for (const doc of snap.docs) {
    const match = WEBHOOK_PATH.exec(doc.ref.path);
    const plan = match ? planMigration(doc.data()) : null;
    if (match && plan) rows.push({ siteId: match[1] as string, webhookId: match[2] as string, plan });
  }
  return rows;
}

/**
 * Applies one plan in a transaction that re-reads the doc (planned again, so a doc changed
 * since the dry run is migrated as it is now). The secret moves into the server-only doc (an
 * existing one of this pipeline is kept); the webhook doc loses every legacy field. Returns the
 * new secret when the doc held none, to be shown once.
 */
export async function applyMigration(
  db: Firestore,
  row: Pick<MigrationRow, "siteId" | "webhookId">,
  now = new Date(),
): Promise<{ applied: boolean; newSecret: string | null }> {
  const ref = db.doc(paths.webhook(row.siteId, row.webhookId));
  const secretRef = db.doc(paths.webhookSecret(row.siteId, row.webhookId));
  return db.runTransaction(async (tx) => {
    const [snap, secretSnap] = await tx.getAll(ref, secretRef);
    const plan = snap?.exists ? planMigration(snap.data() ?? {}) : null;
    if (!plan) return { applied: false, newSecret: null };
    if (plan.action === "delete") {
      tx.delete(ref);
      if (secretSnap?.exists) tx.delete(secretRef);
      return { applied: true, newSecret: null };
    }
    const at = Timestamp.fromDate(now);
    const newSecret = plan.secret ? null : generateSecret();
    const credentialUrl = keepsUrlSecret(plan.format, plan.url);
    if (!secretSnap?.exists) {
      tx.create(secretRef, {
        current: plan.secret ?? newSecret,
        previous: [],
        headers: {},
        createdAt: at,
        ...(credentialUrl ? { url: plan.url } : {}),
      });
    } else {
      // A secret doc of this pipeline already there (a half-done earlier run): its secret stays,
      // the real URL follows the doc.
      tx.set(secretRef, { url: credentialUrl ? plan.url : FieldValue.delete() }, { merge: true });
    }
    const { lastDeliveryAtMs, ...fields } = plan.fields;
    tx.update(ref, {
      ...fields,
      lastDeliveryAt: lastDeliveryAtMs === null ? null : Timestamp.fromMillis(lastDeliveryAtMs),
      url: credentialUrl ? redactUrl(plan.url) : plan.url,
      updatedAt: at,
      migratedAt: at,
      // The secret doc was written: instances' cached copies of it are stale.
      secretVersion: FieldValue.increment(1),
      failStreak: [],
      ...Object.fromEntries(plan.removes.map((f) => [f, FieldValue.delete()])),
    });
    return { applied: true, newSecret: secretSnap?.exists ? null : newSecret };
  });
}
