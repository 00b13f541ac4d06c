import { ManagementStore } from "../../src/data/management-store";
import { paths } from "../../src/data/paths";
import type { Store } from "../../src/data/store";
import { deliver, type DeliverDeps } from "../../src/delivery/deliver";
import { sendHttp } from "../../src/delivery/http-sender";
import { systemResolver } from "../../src/delivery/resolve-destination";
import { SecretCache } from "../../src/delivery/secret-cache";
import type { DeliveryTask } from "../../src/delivery/task-queue";
import type { Receiver } from "../../../scripts/lib/receiver";
import { silentLog, startSuite, uniqueId } from "../support/emulator";
import { fanOutTasks } from "../support/fan-out-task";

// The slow lane's per-site share, over the emulator's Firestore with real local receivers: the
// delivery handler runs in-process as the slow lane dispatches it, so which attempts are sent
// and which wait for their site's turn is seen exactly, whatever the emulator's queue does.

jest.setTimeout(60_000);

let store: Store;
let receiver: Receiver;
beforeAll(async () => ({ store, receiver } = await startSuite()));
afterAll(() => receiver.stop());

const SHARE = 5;
const TIMEOUT_MS = 1500;
const SLOW = { lane: "slow", retryCount: 0 } as const;

/** A site whose one webhook answers 200 after `delayMs`, and fan-out tasks for it. */
async function slowSite(delayMs: number) {
  const siteId = uniqueId("share");
  const path = `/share/${siteId}`;
  await store.db.doc(paths.site(siteId)).set({ name: "Share", owner: "o" });
  const manage = new ManagementStore(store.db);
  const { id: webhookId, secret } = await manage.createWebhook(siteId, {
    name: "Slow",
    url: receiver.url(path),
    events: ["process.crashed"],
    createdBy: "test",
  });
  receiver.register(path, secret, () => ({ status: 200, delayMs }));
  return { siteId, task: fanOutTasks(store, siteId, webhookId), received: () => receiver.at(path) };
}

/** The handler's dependencies; `at` pins its clock, so every attempt of a burst asks at the same instant. */
function depsWith(enqueued: { task: DeliveryTask; delaySeconds: number; lane: string | undefined }[], at?: Date): DeliverDeps {
  return {
    store,
    send: sendHttp,
    enqueue: async (task, delaySeconds, lane) => {
      enqueued.push({ task, delaySeconds, lane });
      return "enqueued";
    },
    now: () => at ?? new Date(),
    config: {
      deliveryTimeoutMs: TIMEOUT_MS,
      fastLaneDeadlineMs: 700,
      staleAfterSeconds: 210,
      sweepPassesPerMinute: 6,
      presenceMode: "trigger",
      retrySchedule: [0, 60],
      slowLaneSiteShare: SHARE,
      allowLocalHttp: true,
    },
    log: silentLog,
    resolve: systemResolver,
    secrets: new SecretCache(),
  };
}

describe("each site's share of the slow lane", () => {
  it("a site with a burst of slow deliveries sends its share at once and reserves the rest; another site's delivery goes out at once", async () => {
    const hog = await slowSite(300);
    const other = await slowSite(300);
    const enqueued: { task: DeliveryTask; delaySeconds: number; lane: string | undefined }[] = [];
    const tasks = await Promise.all(Array.from({ length: 16 }, () => hog.task()));
    const otherTask = await other.task();
    const at = new Date();
    const deps = depsWith(enqueued, at);

    // All 16 dispatched at once in the slow lane, as a full queue would, with the other site's beside them.
    const results = await Promise.all([...tasks.map((t) => deliver(t, deps, SLOW)), deliver(otherTask, deps, SLOW)]);
    const hogResults = results.slice(0, 16);
    expect(hogResults.filter((r) => r.outcome === "attempted")).toHaveLength(SHARE);
    expect(hogResults.filter((r) => r.outcome === "held")).toHaveLength(16 - SHARE);
    expect(hog.received()).toHaveLength(SHARE);
    // The other site is not behind the hog: its attempt was sent in this same dispatch.
    expect(results[16]).toMatchObject({ outcome: "attempted", status: "succeeded" });
    expect(other.received()).toHaveLength(1);

    // The held attempts wait in the slow lane for starts reserved one every deadline / share,
    // each under a task name of its own (hold + 1), with the start in the task.
    const held = enqueued.filter((e) => e.task.siteId === hog.siteId);
    expect(held).toHaveLength(16 - SHARE);
    expect(held.every((e) => e.lane === "slow" && e.task.hold === 1 && typeof e.task.slotAt === "number")).toBe(true);
    const interval = TIMEOUT_MS / SHARE;
    const slots = held.map((e) => (e.task.slotAt as number) - at.getTime()).sort((a, b) => a - b);
    expect(slots).toEqual(Array.from({ length: 16 - SHARE }, (_, i) => (i + 1) * interval));
    for (const e of held) expect(e.delaySeconds).toBe(Math.ceil(((e.task.slotAt as number) - at.getTime()) / 1000));

    // Dispatched at its reserved start, a held attempt is sent without reserving again.
    const first = held.find((e) => e.task.slotAt === at.getTime() + interval)!.task;
    const later = depsWith([], new Date(at.getTime() + interval));
    expect(await deliver(first, later, SLOW)).toMatchObject({ outcome: "attempted", status: "succeeded" });
    expect(hog.received()).toHaveLength(SHARE + 1);
    // The site's pacing doc: 16 reservations at the same instant, one interval each.
    expect((await store.db.doc(paths.slowLaneShare(hog.siteId)).get()).get("tatMs")).toBe(at.getTime() + 16 * interval);
  });

  it("the fast lane never waits for a share", async () => {
    const site = await slowSite(0);
    const deps = depsWith([]);
    const tasks = await Promise.all(Array.from({ length: 8 }, () => site.task()));
    const results = await Promise.all(tasks.map((t) => deliver(t, deps)));
    expect(results.every((r) => r.outcome === "attempted")).toBe(true);
    expect((await store.db.doc(paths.slowLaneShare(site.siteId)).get()).exists).toBe(false);
  });
});
