import { FieldValue } from "firebase-admin/firestore";
import { paths } from "../../src/data/paths";
import type { ManagementStore } from "../../src/data/management-store";
import type { Store } from "../../src/data/store";
import type { Receiver, Responder } from "../../../scripts/lib/receiver";
import { isSettled, uniqueId, waitFor } from "./emulator";

type WebhookInput = Parameters<ManagementStore["createWebhook"]>[1];

/**
 * A new site with one webhook (made server-side) at its own path on the receiver, answering with
 * `responder`, and what the tests do with it: crash a process, read the delivery records and the
 * webhook doc, wait for records to settle.
 */
export async function hookOnReceiver(
  suite: { store: Store; manage: ManagementStore; receiver: Receiver },
  responder: Responder,
  opts: { label?: string; webhook?: Partial<WebhookInput> } = {},
) {
  const { store, manage, receiver } = suite;
  const label = opts.label ?? "Hooks";
  const siteId = uniqueId("site");
  const path = `/${label.toLowerCase()}/${siteId}`;
  await store.db.doc(paths.site(siteId)).set({ name: label, owner: "o" });
  const { id: webhookId, secret } = await manage.createWebhook(siteId, {
    name: label,
    url: receiver.url(path),
    events: ["process.crashed"],
    createdBy: "test",
    ...opts.webhook,
  });
  receiver.register(path, secret, responder);
  /** A configured process goes from running to crashed: one process.crashed. */
  const crash = async (processId: string) => {
    const ref = store.db.doc(`${paths.machine(siteId, "m1")}/processes/${processId}`);
    await ref.set({ name: "TD", status: "running" });
    await ref.set({ name: "TD", status: "crashed", exitCode: 1, updatedAt: FieldValue.serverTimestamp() });
  };
  const records = async () => (await store.db.collection(paths.deliveries(siteId, webhookId)).get()).docs.map((d) => d.data());
  const webhook = async () => (await store.db.doc(paths.webhook(siteId, webhookId)).get()).data();
  /** Waits for `count` delivery records, all settled (succeeded, failed or skipped). */
  const settled = (what: string, count = 1, timeoutMs?: number) =>
    waitFor(
      what,
      async () => {
        const all = await records();
        return all.length === count && all.every((r) => isSettled(r)) && all;
      },
      timeoutMs,
    );
  return { siteId, path, webhookId, secret, crash, records, webhook, settled, received: () => receiver.at(path) };
}
