import type { Firestore } from "firebase-admin/firestore";
import { planUpkeep } from "../domain/host-adoption";
import { needsAdoption } from "../domain/webhook-shape";
import { upkeepWebhook } from "./host-webhook-store";
import { paths } from "./paths";

/** What adopting one host doc will do, for the dry run. */
export interface AdoptionPreview {
  format: string;
  scheme: string;
  enabled: boolean;
  events: string[];
  notes: string[];
}

export interface MigrationRow {
  siteId: string;
  webhookId: string;
  preview: AdoptionPreview;
}

const WEBHOOK_PATH = /^sites\/([^/]+)\/webhooks\/([^/]+)$/;
const PLACEHOLDER = "(new secret)";

function previewOf(doc: Record<string, unknown>, nowMs: number): AdoptionPreview | null {
  const plan = planUpkeep({ doc, before: null, written: null, secret: null, nowMs, generateSecret: () => PLACEHOLDER });
  if (!plan) return null;
  const view = { ...doc, ...plan.webhook };
  const notes = [...plan.findings];
  if (plan.newSecret) notes.push("no secret in the doc: a new one is made (shown once); receivers need it");
  return {
    format: String(view.format ?? "owlette"),
    scheme: String(view.signatureScheme ?? "owlette"),
    enabled: view.enabled === true,
    events: Array.isArray(view.events) ? view.events.map(String) : [],
    notes,
  };
}

/**
 * Webhook docs of one site (or every site) the Owlette host wrote and the pipeline has not
 * adopted yet: docs written before the pipeline was deployed (a doc written since is adopted by
 * its write's trigger within seconds, and any doc at its first event).
 */
export async function findLegacyWebhooks(db: Firestore, siteId?: string, now = new Date()): Promise<MigrationRow[]> {
  const snap = siteId ? await db.collection(paths.webhooks(siteId)).get() : await db.collectionGroup("webhooks").get();
  const rows: MigrationRow[] = [];
  for (const doc of snap.docs) {
    const match = WEBHOOK_PATH.exec(doc.ref.path);
    if (!match || !needsAdoption(doc.data())) continue;
    const preview = previewOf(doc.data(), now.getTime());
    if (preview) rows.push({ siteId: match[1] as string, webhookId: match[2] as string, preview });
  }
  return rows;
}

/**
 * Adopts one doc exactly as the write trigger does (data/host-webhook-store.ts), from the doc
 * as it is now. Returns the new secret when the doc held none, to be shown once.
 */
export async function applyMigration(
  db: Firestore,
  row: Pick<MigrationRow, "siteId" | "webhookId">,
  now = new Date(),
): Promise<{ applied: boolean; newSecret: string | null }> {
  const result = await upkeepWebhook(db, row, null, now);
  return { applied: result.plan !== null, newSecret: result.newSecret };
}
