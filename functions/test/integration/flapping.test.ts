import { randomUUID } from "node:crypto";
import { Timestamp } from "firebase-admin/firestore";
import { REGION } from "../../src/config";
import { paths } from "../../src/data/paths";
import type { ManagementStore } from "../../src/data/management-store";
import { PresenceStore } from "../../src/data/presence-store";
import type { Store } from "../../src/data/store";
import { taskQueueEnqueue } from "../../src/delivery/task-queue";
import type { EventType } from "../../src/domain/event-catalog";
import { FLAPPING } from "../../src/domain/flapping";
import { settleFlaps } from "../../src/pipeline/flapping";
import type { Receiver } from "../../../scripts/lib/receiver";
import { silentLog, sleep, startSuite, uniqueId, waitFor } from "../support/emulator";
import { presenceOf, sweepFromScratch } from "../support/sweep";

// Flapping, through the deployed triggers: a machine that goes offline and comes back again and
// again, a process that crashes in a loop. One flapping event, its per-flap events held back, and
// one stable event when it has been quiet, to webhooks subscribed to the outages or crashes alone.

jest.setTimeout(120_000);

let store: Store;
let manage: ManagementStore;
let receiver: Receiver;
beforeAll(async () => ({ store, manage, receiver } = await startSuite()));
afterAll(() => receiver.stop());

async function site(prefix: string, events: EventType[]) {
  const siteId = uniqueId(prefix);
  const path = `/${prefix}/${siteId}`;
  await store.db.doc(paths.site(siteId)).set({ name: "Venue", owner: "o" });
  const { secret } = await manage.createWebhook(siteId, { name: "Ops", url: receiver.url(path), events, createdBy: "t" });
  receiver.register(path, secret);
  const received = (type?: string) => receiver.at(path).filter((d) => type === undefined || d.payload?.event === type);
  return { siteId, received };
}

/** The sweep's look at due episodes, as if `minutes` had passed. */
function settleLater(minutes: number) {
  const later = new Date(Date.now() + minutes * 60_000);
  const deps = { store, enqueue: taskQueueEnqueue(REGION), log: silentLog, now: () => later, presence: new PresenceStore(store.db) };
  return settleFlaps(deps, later);
}

it("a machine going offline and back 10 times gets one machine.flapping, its other outages held back, then one machine.stable", async () => {
  const { siteId, received } = await site("flap", ["machine.offline", "machine.online"]);
  const machine = store.db.doc(paths.machine(siteId, "PC-1"));
  for (let i = 1; i <= 10; i++) {
    // The agent's last beat, 5 minutes ago: the sweep marks it; then it beats again.
    await machine.set({ online: true, lastHeartbeat: Timestamp.fromMillis(Date.now() - 300_000), name: "Stage left" });
    await sweepFromScratch(store, { staleAfterMs: 60_000 });
    await waitFor(`outage ${i} marked`, async () => (await presenceOf(store, siteId, "PC-1"))?.staleSince !== undefined);
    await machine.update({ lastHeartbeat: Timestamp.now() });
    await waitFor(`return ${i} answered`, async () => (await presenceOf(store, siteId, "PC-1"))?.staleSince === undefined);
  }
  await waitFor("machine.flapping", () => received("machine.flapping").length === 1);
  await sleep(2000);
  expect(received().map((d) => d.payload?.event)).toEqual(["machine.offline", "machine.online", "machine.flapping"]);
  expect(received("machine.flapping")[0]?.payload?.data).toMatchObject({
    machineId: "PC-1",
    machineName: "Stage left",
    flaps: FLAPPING.machine.flaps,
    windowMinutes: 30,
    stableAfterMinutes: 20,
  });

  // Not quiet long enough yet: the episode stays.
  await settleLater(FLAPPING.stableAfterMs / 60_000 - 5);
  expect(received("machine.stable")).toHaveLength(0);
  // Twenty minutes later, up all along: machine.stable, after machine.flapping, saying the 9 outages held back.
  await settleLater(FLAPPING.stableAfterMs / 60_000 + 1);
  await waitFor("machine.stable", () => received("machine.stable").length === 1);
  expect(received("machine.stable")[0]?.payload?.data).toMatchObject({ machineId: "PC-1", suppressed: 9 });
  expect(received().map((d) => d.payload?.event)).toEqual(["machine.offline", "machine.online", "machine.flapping", "machine.stable"]);
  // The episode is gone, and with it the hold on the machine's outages.
  expect((await store.db.collection(`sites/${siteId}/flaps`).get()).size).toBe(0);
  expect((await store.db.doc(paths.emissionLedger(siteId)).get()).get("flapping")).toEqual({});
  await settleLater(FLAPPING.stableAfterMs / 60_000 + 2);
  await sleep(1000);
  expect(received("machine.stable")).toHaveLength(1);
});

it("a process crashing in a loop, as deployed agents log it, gets one process.flapping after its first crashes, then one process.stable", async () => {
  const { siteId, received } = await site("loop", ["process.crashed"]);
  const crash = (pid: number) =>
    store.db.doc(`sites/${siteId}/logs/${randomUUID()}`).set({
      timestamp: Timestamp.now(),
      action: "process_crash",
      level: "error",
      machineId: "PC-2",
      machineName: "PC-2",
      processName: "TouchDesigner",
      details: `Process stopped unexpectedly (PID ${pid} no longer running)`,
    });
  // One at a time, each decided before the next: the first 3 go out, the others are refused (their claims say so).
  const refused = async () => (await store.db.collection(paths.occurrences(siteId)).where("decision", "==", "suppressed").get()).size;
  for (let i = 1; i <= 7; i++) {
    await crash(1000 + i);
    await waitFor(`crash ${i} decided`, async () => (i <= 3 ? received("process.crashed").length >= i : (await refused()) >= i - 3));
  }
  await waitFor("process.flapping", () => received("process.flapping").length === 1);
  await sleep(2000);
  // The limit's 3 crashes an hour, then the loop told once, not crash by crash.
  expect(received().map((d) => d.payload?.event)).toEqual(["process.crashed", "process.crashed", "process.crashed", "process.flapping"]);
  expect(received("process.flapping")[0]?.payload?.data).toMatchObject({ machineId: "PC-2", processName: "TouchDesigner", windowMinutes: 15 });
  expect(received("process.flapping")[0]?.payload?.data?.flaps).toBeGreaterThanOrEqual(FLAPPING.process.flaps);

  await settleLater(FLAPPING.stableAfterMs / 60_000 + 1);
  await waitFor("process.stable", () => received("process.stable").length === 1);
  expect(received("process.stable")[0]?.payload?.data).toMatchObject({ processName: "TouchDesigner", suppressed: 4 });
  expect(received().at(-1)?.payload?.event).toBe("process.stable");
});
