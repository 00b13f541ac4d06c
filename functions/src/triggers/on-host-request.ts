import { onDocumentCreated } from "firebase-functions/v2/firestore";
import type { Firestore } from "firebase-admin/firestore";
import { z } from "zod";
import { SIZING } from "../sizing";
import { lastStatusOf } from "../domain/attempt-result";
import { needsAdoption } from "../domain/webhook-shape";
import { upkeepWebhook } from "../data/host-webhook-store";
import { paths } from "../data/paths";
import { sendTestEvent, type TestDeps } from "../delivery/test-send";
import { managementDeps } from "../wiring";
import { toAgentWrite, type AgentWrite } from "./agent-write";

/**
 * The host's test button, through the drop-in (integrations/owlette-host): `hostRequests/{id}`
 * names the webhook by its ids, or by its URL alone (the host's `testWebhook(url, secret)`), and
 * is answered on the same doc with `result: {status, error?}` as the host's own function
 * answered (0 for no HTTP answer). The secret never travels: the webhook is signed with its own.
 */
const requestSchema = z.object({
  kind: z.literal("test"),
  url: z.string().max(4096),
  siteId: z.string().min(1).max(128).nullish(),
  webhookId: z.string().min(1).max(128).nullish(),
  result: z.unknown().optional(),
});

export interface HostTestResult {
  status: number;
  error?: string;
}

const WEBHOOK_PATH = /^sites\/([^/]+)\/webhooks\/([^/]+)$/;

/** The webhook a request names: by ids, or the one webhook with that URL (a redacted credential URL names none). */
async function findWebhook(db: Firestore, req: z.infer<typeof requestSchema>): Promise<{ siteId: string; webhookId: string } | string> {
  if (req.siteId && req.webhookId) return { siteId: req.siteId, webhookId: req.webhookId };
  if (req.url.includes("…")) return "this URL is shown redacted (a Slack or Discord credential): pass {siteId, webhookId} as testWebhook's third argument";
  const snap = await db.collectionGroup("webhooks").where("url", "==", req.url).limit(2).get();
  const match = snap.size === 1 ? WEBHOOK_PATH.exec(snap.docs[0]?.ref.path ?? "") : null;
  if (!match) return snap.empty ? "no webhook has this URL" : "several webhooks have this URL: pass {siteId, webhookId} as testWebhook's third argument";
  return { siteId: match[1] as string, webhookId: match[2] as string };
}

export async function handleHostRequest(write: AgentWrite, deps: TestDeps): Promise<HostTestResult | null> {
  const parsed = requestSchema.safeParse(write.after);
  const requestId = write.params.requestId;
  if (!requestId) return null;
  const answer = async (result: HostTestResult) => {
    await deps.store.db.doc(paths.hostRequest(requestId)).update({ result, answeredAt: deps.now() });
    return result;
  };
  if (!parsed.success) return answer({ status: 0, error: `invalid request: ${parsed.error.issues.map((i) => i.path.join(".") || "request").join(", ")}` });
  if (parsed.data.result !== undefined) return null;
  const found = await findWebhook(deps.store.db, parsed.data);
  if (typeof found === "string") return answer({ status: 0, error: found });
  const doc = (await deps.store.db.doc(paths.webhook(found.siteId, found.webhookId)).get()).data();
  if (!doc) return answer({ status: 0, error: "no such webhook" });
  // The host's route passes the URL it read from this very doc: another one names another webhook.
  if (doc.url !== parsed.data.url) return answer({ status: 0, error: "the webhook's URL is not the one given" });
  if (needsAdoption(doc)) await upkeepWebhook(deps.store.db, found, null, deps.now());
  const sent = await sendTestEvent(found, await deps.store.sites.loadSite(found.siteId), deps);
  if (sent.kind !== "sent") return answer({ status: 0, error: sent.kind === "not_found" ? "no such webhook" : "the pagerduty webhook has no routing key" });
  const status = lastStatusOf(sent.result);
  return answer(typeof status === "number" ? { status } : { status: 0, error: status });
}

export const onHostRequest = onDocumentCreated({ document: "hostRequests/{requestId}", retry: false, ...SIZING.webhookDocs }, async (event) => {
  const { deps, manage } = managementDeps();
  const write = toAgentWrite(event);
  try {
    await handleHostRequest(write, { ...deps, manage });
  } catch (err) {
    // Answered all the same: the host's button waits for an answer, not for its timeout.
    deps.log.error("host_request.failed", { requestId: write.params.requestId, error: String((err as Error)?.message ?? err).slice(0, 200) });
    if (write.params.requestId) {
      await deps.store.db
        .doc(paths.hostRequest(write.params.requestId))
        .update({ result: { status: 0, error: "the pipeline could not send the test; try again" }, answeredAt: deps.now() })
        .catch(() => undefined);
    }
  }
});
