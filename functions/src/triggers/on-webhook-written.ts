import { onDocumentWritten } from "firebase-functions/v2/firestore";
import type { DocumentData, Firestore } from "firebase-admin/firestore";
import { SIZING } from "../sizing";
import { upkeepNeeded } from "../domain/host-adoption";
import { disableNotice, failingNotice } from "../domain/webhook-notices";
import { announceDisable, announceFailing } from "../pipeline/webhook-notices";
import type { EmitDeps } from "../pipeline/emit-events";
import { upkeepWebhook } from "../data/host-webhook-store";
import { paths } from "../data/paths";
import type { Log } from "../log";
import { productionDeps } from "../wiring";
import { toAgentWrite, type AgentWrite } from "./agent-write";

const asDoc = (v: unknown): DocumentData | null => (typeof v === "object" && v !== null ? (v as DocumentData) : null);

/**
 * Every write of a webhook doc: a doc the host wrote is adopted within seconds (its secret out of
 * the client-readable doc, its receivers' conventions kept), later host writes (edits, pause,
 * rotation, soft delete) are taken up, another sender's health writes are undone and reported,
 * and the host's names of the health fields are kept equal to the pipeline's. The pipeline's own
 * routine writes cost this trigger no read (`upkeepNeeded` looks at the written doc only).
 */
export async function handleWebhookWrite(write: AgentWrite, deps: { db: Firestore; log: Log; now: () => Date; emit?: EmitDeps }) {
  const before = asDoc(write.before);
  const after = asDoc(write.after);
  const { siteId, webhookId } = write.params;
  if (!siteId || !webhookId) return null;
  // A webhook the pipeline switched off for its failures: the site's other webhooks are told.
  const notice = disableNotice(webhookId, before, after);
  if (notice && deps.emit) {
    const told = await announceDisable(siteId, notice, { id: write.eventId, at: write.occurredAt }, deps.emit);
    deps.log.info("webhook.disable_announced", { siteId, webhookId, reason: notice.reason, webhooks: told });
  }
  // Halfway there: the site is told while the webhook still works, before it is switched off.
  const failing = failingNotice(webhookId, before, after);
  if (failing && deps.emit) {
    // Its id follows from the streak, not the write: a streak crossing the mark again (trimmed, then grown) is told once.
    const told = await announceFailing(siteId, failing, { id: `${webhookId}|${failing.streak}`, at: write.occurredAt }, deps.emit);
    deps.log.info("webhook.failing_announced", { siteId, webhookId, failCount: failing.failCount, webhooks: told });
  }
  if (!after) {
    // Deleted outside the management API (the host's hard delete, its tombstone's expiry): the
    // server-only doc goes too, with its secrets and any credential URL.
    if (before) await deps.db.doc(paths.webhookSecret(siteId, webhookId)).delete();
    return null;
  }
  if (!upkeepNeeded(before, after)) return null;
  const result = await upkeepWebhook(deps.db, { siteId, webhookId }, { before, after }, deps.now());
  const findings = result.plan?.findings ?? [];
  if (findings.includes("foreign_write")) {
    // Another program (the host's own sender, until it is cut over) wrote this doc's health.
    deps.log.warn("webhook.foreign_write", { siteId, webhookId, fields: (result.plan?.webhook.foreignWrite as { fields?: unknown } | undefined)?.fields });
  } else if (findings.length > 0) deps.log.info("webhook.upkeep", { siteId, webhookId, findings });
  return result;
}

export const onWebhookWritten = onDocumentWritten({ document: "sites/{siteId}/webhooks/{webhookId}", retry: true, ...SIZING.webhookDocs }, async (event) => {
  const deps = productionDeps();
  await handleWebhookWrite(toAgentWrite(event), { db: deps.store.db, log: deps.log, now: deps.now, emit: deps });
});
