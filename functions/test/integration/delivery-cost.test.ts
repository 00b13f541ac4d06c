import { Store } from "../../src/data/store";
import { ManagementStore } from "../../src/data/management-store";
import { paths } from "../../src/data/paths";
import { deliver, SNAPSHOT_MAX_AGE_MS, type DeliverDeps } from "../../src/delivery/deliver";
import { sendHttp } from "../../src/delivery/http-sender";
import { systemResolver } from "../../src/delivery/resolve-destination";
import { SecretCache } from "../../src/delivery/secret-cache";
import type { DeliveryTask } from "../../src/delivery/task-queue";
import { countingFirestore } from "../support/counting-firestore";
import { Receiver } from "../../../scripts/lib/receiver";
import { silentLog, startSuite, uniqueId } from "../support/emulator";
import { fanOutTasks } from "../support/fan-out-task";

// The delivery handler run in-process over the emulator's Firestore (every read and write
// counted) against a real local receiver: what a first attempt costs, and how long the fan-out's
// read of the webhook, carried in the task, is trusted.

let base: Store;
let receiver: Receiver;

beforeAll(async () => ({ store: base, receiver } = await startSuite()));
afterAll(() => receiver.stop());

async function setup() {
  const counting = countingFirestore(base.db);
  const store = new Store(counting.db);
  const manage = new ManagementStore(base.db);
  const siteId = uniqueId("cost");
  const path = `/cost/${siteId}`;
  await base.db.doc(paths.site(siteId)).set({ name: "Cost", owner: "o" });
  const { id: webhookId, secret } = await manage.createWebhook(siteId, {
    name: "Cost",
    url: receiver.url(path),
    events: ["process.crashed"],
    createdBy: "test",
  });
  receiver.register(path, secret, () => 200);
  const enqueued: DeliveryTask[] = [];
  const deps: DeliverDeps = {
    store,
    send: sendHttp,
    enqueue: async (task) => {
      enqueued.push(task);
      return "enqueued";
    },
    now: () => new Date(),
    config: {
      deliveryTimeoutMs: 1500,
      fastLaneDeadlineMs: 1000,
      staleAfterSeconds: 210,
      sweepPassesPerMinute: 6,
      presenceMode: "trigger",
      retrySchedule: [0, 60],
      slowLaneSiteShare: 5,
      allowLocalHttp: true,
    },
    log: silentLog,
    resolve: systemResolver,
    secrets: new SecretCache(),
  };
  /** A fan-out's task for a new event: the body carried, the webhook as read `ageMs` ago. */
  const task = fanOutTasks(base, siteId, webhookId);
  return { siteId, webhookId, path, counting, manage, deps, task, received: () => receiver.at(path) };
}

describe("delivery cost and the carried webhook read", () => {
  it("a successful first attempt costs at most 1 read and 1 write; 0 reads once the instance has the secret", async () => {
    const h = await setup();
    await deliver(await h.task(), h.deps); // the webhook's first delivery sets lastStatus
    h.counting.take();
    await deliver(await h.task(), h.deps);
    expect(h.counting.take()).toEqual({ reads: 0, writes: 1 });
    // A cold instance: nothing cached.
    await deliver(await h.task(), { ...h.deps, secrets: new SecretCache() });
    expect(h.counting.take()).toEqual({ reads: 1, writes: 1 });
    expect(h.received().every((d) => d.verified)).toBe(true);
  });

  it(`trusts the fan-out's read for ${SNAPSHOT_MAX_AGE_MS / 1000} s, no longer: a pause is honoured by any attempt dispatched later`, async () => {
    const h = await setup();
    const fresh = await h.task(1_000);
    const stale = await h.task(SNAPSHOT_MAX_AGE_MS + 1_000);
    await h.manage.setEnabled(h.siteId, h.webhookId, false, "paused");
    // Within the bound: the carried read (enabled) is used, as documented.
    expect(await deliver(fresh, h.deps)).toMatchObject({ outcome: "attempted", status: "succeeded" });
    // Past it: the webhook doc is read, and the pause holds.
    expect(await deliver(stale, h.deps)).toEqual({ outcome: "skipped", reason: "webhook_paused" });
    expect(h.received()).toHaveLength(1);
  });

  it("a rotation is honoured at once, cache notwithstanding: the attempt after it signs with the new secret", async () => {
    const h = await setup();
    await deliver(await h.task(), h.deps); // the old secret is now cached
    const next = await h.manage.rotateSecret(h.siteId, h.webhookId, 0);
    receiver.register(h.path, next as string, () => 200);
    // The fan-out after the rotation read the new secretVersion.
    await deliver(await h.task(), h.deps);
    const last = h.received()[h.received().length - 1];
    expect(last?.verified).toBe(true);
  });

  it("a second dispatch of the same first attempt records once and says so", async () => {
    const h = await setup();
    const t = await h.task();
    expect(await deliver(t, h.deps)).toMatchObject({ outcome: "attempted" });
    expect(await deliver(t, h.deps)).toEqual({ outcome: "duplicate" });
    const records = (await base.db.collection(paths.deliveries(h.siteId, h.webhookId)).get()).docs;
    expect(records).toHaveLength(1);
    expect(records[0]?.get("attempts")).toHaveLength(1);
  });
});
