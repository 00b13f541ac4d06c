import { REGION } from "../../src/config";
import { paths } from "../../src/data/paths";
import { taskQueueEnqueue } from "../../src/delivery/task-queue";
import type { ManagementStore } from "../../src/data/management-store";
import type { Store } from "../../src/data/store";
import { Receiver, type Responder } from "../../../scripts/lib/receiver";
import { isSettled, sleep, uniqueId, waitFor, startSuite } from "../support/emulator";
import { hookOnReceiver } from "../support/hooks";
import { verify } from "../../src/receiver/verify";
// Receiver-side checks, through the verification kit with the scheme forced.
const verifySha256 = (header: string | undefined, body: string, secret: string) =>
  verify(body, header === undefined ? {} : { "x-owlette-signature": header }, secret, { scheme: "sha256" }).ok;

jest.setTimeout(90_000);

let store: Store;
let manage: ManagementStore;
let receiver: Receiver;

beforeAll(async () => ({ store, manage, receiver } = await startSuite()));
afterAll(() => receiver.stop());

const setup = (responder: Responder, webhook: Partial<Parameters<ManagementStore["createWebhook"]>[1]> = {}) =>
  hookOnReceiver({ store, manage, receiver }, responder, { label: "Engine", webhook });

describe("delivery engine", () => {
  it("disables the webhook at once on 410 Gone", async () => {
    const hook = await setup(() => 410);
    await hook.crash("p1");
    const data = await waitFor("the webhook to be disabled", async () => {
      const w = await hook.webhook();
      return w?.enabled === false && w;
    });
    expect(data).toMatchObject({ enabled: false, disabledReason: "gone", lastStatus: 410, failCount: 1 });
    const [record] = await hook.records();
    expect(record).toMatchObject({ status: "failed", nextAttempt: null });
    expect(record?.attempts).toHaveLength(1);
    await sleep(1500);
    expect(hook.received()).toHaveLength(1);
  });

  it("does not follow a redirect to a loopback address", async () => {
    const target = `/target/${uniqueId("t")}`;
    const hook = await setup((_d, n) => (n === 1 ? { status: 302, headers: { Location: receiver.url(target) } } : 200));
    await hook.crash("p1");
    const record = await waitFor("the retried delivery", async () => {
      const [r] = await hook.records();
      return r?.status === "succeeded" && r;
    });
    expect(record.attempts.map((a: { status: number }) => a.status)).toEqual([302, 200]);
    expect(receiver.at(target)).toHaveLength(0);
    expect(hook.received()).toHaveLength(2);
  });

  it("cuts off a hanging receiver at the timeout and records it as `unreachable`; the fast lane moves it to the slow lane first", async () => {
    const hook = await setup((_d, n) => (n <= 2 ? "hang" : 200));
    await hook.crash("p1");
    const record = await waitFor("the delivery after a timeout", async () => {
      const [r] = await hook.records();
      return isSettled(r, "succeeded") && r;
    });
    const [first, second] = record.attempts as { at: FirebaseFirestore.Timestamp; status: number | null; error: string | null; durationMs: number | null }[];
    // Recorded as the probe would say it: unreachable, without detail or time.
    expect(first).toMatchObject({ status: null, error: "unreachable", durationMs: null, responseSnippet: null });
    expect(second).toMatchObject({ status: 200, error: null });
    // The slow lane's request (the receiver's second) ran to the full timeout before it was recorded.
    const slowLaneSent = hook.received()[1]?.receivedAt as number;
    expect((first?.at.toMillis() ?? 0) - slowLaneSent).toBeGreaterThanOrEqual(1400);
    expect((first?.at.toMillis() ?? 0) - slowLaneSent).toBeLessThan(5000);
    expect(await hook.webhook()).toMatchObject({ failCount: 0, lastStatus: 200 });
    // Attempt 1 went out twice: cut at the fast lane's deadline (not recorded), then sent again
    // at once in the slow lane, where it ran to the full timeout. The webhook is marked slow.
    expect(hook.received().map((d) => d.headers["x-owlette-attempt"])).toEqual(["1", "1", "2"]);
    expect(hook.received().map((d) => d.headers["x-owlette-delivery"])).toEqual(Array(3).fill(record.id));
    expect(((await hook.webhook())?.slowUntil as FirebaseFirestore.Timestamp).toMillis()).toBeGreaterThan(Date.now());
  });

  it("a receiver too slow for the fast lane is moved once, then gets its deliveries in the slow lane directly", async () => {
    // Answers 200 after 1 s: past the fast lane's deadline (0.7 s here), within the timeout (1.5 s).
    const hook = await setup(() => ({ status: 200, delayMs: 1000 }));
    await hook.crash("p1");
    await waitFor("the first delivery", async () => (await hook.records()).some((r) => isSettled(r, "succeeded")));
    expect(((await hook.webhook())?.slowUntil as FirebaseFirestore.Timestamp).toMillis()).toBeGreaterThan(Date.now());
    await hook.crash("p2");
    const records = await waitFor("both deliveries", async () => {
      const rs = await hook.records();
      return rs.length === 2 && rs.every((r) => isSettled(r, "succeeded")) && rs;
    });
    for (const r of records) expect(r.attempts).toHaveLength(1);
    // The first event went out twice (cut at 0.7 s, then sent again in the slow lane); the second once.
    const perDelivery = new Map<string, number>();
    for (const d of hook.received())
      perDelivery.set(String(d.headers["x-owlette-delivery"]), (perDelivery.get(String(d.headers["x-owlette-delivery"])) ?? 0) + 1);
    expect([...perDelivery.values()].sort()).toEqual([1, 2]);
    expect(await hook.webhook()).toMatchObject({ failCount: 0, lastStatus: 200, enabled: true });
  });

  it("sends the chosen method, scheme and custom headers, and keeps header values out of the webhook doc", async () => {
    const hook = await setup(() => 204, {
      method: "PUT",
      signatureScheme: "sha256",
      headers: { Authorization: "Bearer receiver-token" },
    });
    await hook.crash("p1");
    const [delivery] = await waitFor("the delivery", () => hook.received().length >= 1 && hook.received());
    expect(delivery?.method).toBe("PUT");
    expect(delivery?.headers.authorization).toBe("Bearer receiver-token");
    expect(verifySha256(delivery?.headers["x-owlette-signature"] as string, delivery?.body ?? "", hook.secret)).toBe(true);
    const doc = await hook.webhook();
    expect(doc?.headerNames).toEqual(["Authorization"]);
    expect(JSON.stringify(doc)).not.toContain("receiver-token");
    expect(JSON.stringify(doc)).not.toContain(hook.secret);
  });

  it("signs with both secrets during a rotation overlap", async () => {
    const hook = await setup(() => 200);
    const newSecret = (await manage.rotateSecret(hook.siteId, hook.webhookId, 3600)) as string;
    receiver.register(hook.path, newSecret);
    await hook.crash("p1");
    const [delivery] = await waitFor("the delivery", () => hook.received().length >= 1 && hook.received());
    expect(delivery?.verified).toBe(true);
    const { verifyOwletteSignature } = await import("../../src/domain/signing");
    expect(verifyOwletteSignature(hook.secret, delivery?.body ?? "", delivery?.headers["x-owlette-signature-previous"] as string)).toBe(true);
  });

  it.each([
    ["deleted", "webhook_deleted"],
    ["disabled", "webhook_disabled"],
  ])("records a pending attempt of a %s webhook as skipped and sends nothing", async (change, reason) => {
    const hook = await setup(() => 200);
    const ref = store.db.doc(paths.webhook(hook.siteId, hook.webhookId));
    if (change === "deleted") await ref.delete();
    else await ref.update({ enabled: false, disabledReason: "manual" });
    // A retry that was queued before the change now comes due.
    const eventId = `evt_${uniqueId("e").replace(/-/g, "")}`;
    await store.events.saveEvent(hook.siteId, { id: eventId, type: "process.crashed", body: "{}", occurredAt: new Date() });
    const deliveryId = `dlv_${uniqueId("d").replace(/-/g, "")}`;
    await taskQueueEnqueue(REGION)({ siteId: hook.siteId, webhookId: hook.webhookId, eventId, deliveryId, attempt: 2 }, 0);
    const record = await waitFor("the skipped record", async () => {
      const snap = await store.db.doc(paths.delivery(hook.siteId, hook.webhookId, deliveryId)).get();
      return snap.get("status") === "skipped" && snap.data();
    });
    expect(record).toMatchObject({ status: "skipped", skippedReason: reason, eventType: "process.crashed" });
    expect(hook.received()).toHaveLength(0);
  });
});
