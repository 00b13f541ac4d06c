import { randomUUID } from "node:crypto";
import { Timestamp } from "firebase-admin/firestore";
import { REGION } from "../../src/config";
import { paths } from "../../src/data/paths";
import type { ManagementStore } from "../../src/data/management-store";
import { PresenceStore } from "../../src/data/presence-store";
import type { Store } from "../../src/data/store";
import { taskQueueEnqueue } from "../../src/delivery/task-queue";
import type { EventType } from "../../src/domain/event-catalog";
import { SITE_OFFLINE_KEY } from "../../src/domain/emission-policy";
import { FLAPPING, flapDocId, flappingEventId } from "../../src/domain/flapping";
import { ledgerKey } from "../../src/domain/emission-ledger";
import { readLedger } from "../../src/data/ledger-doc";
import { settleEpisode } from "../../src/pipeline/flapping";
import type { Receiver } from "../../../scripts/lib/receiver";
import { clearOfHourTurn, silentLog, sleep, startSuite, uniqueId, waitFor } from "../support/emulator";
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

/** The sweep's look at a site's due episodes, as if `minutes` had passed (other files' episodes are theirs to end). */
async function settleLater(siteId: string, minutes: number) {
  const later = new Date(Date.now() + minutes * 60_000);
  const deps = { store, enqueue: taskQueueEnqueue(REGION), log: silentLog, now: () => later, presence: new PresenceStore(store.db) };
  const due = await store.db.collection(`sites/${siteId}/flaps`).where("checkAt", "<=", Timestamp.fromDate(later)).get();
  return Promise.all(due.docs.map((d) => settleEpisode(d.ref, deps, later)));
}

it("a machine going offline and back 10 times gets one machine.flapping, its other outages held back, then one machine.stable once it is up and quiet", async () => {
  await clearOfHourTurn(60_000);
  const { siteId, received } = await site("flap", ["machine.offline", "machine.online"]);
  const machine = store.db.doc(paths.machine(siteId, "PC-1"));
  const marked = async () => (await presenceOf(store, siteId, "PC-1"))?.staleSince !== undefined;
  const goesDown = async (i: number) => {
    // The agent's last beat, 5 minutes ago: the sweep marks it.
    await machine.set({ online: true, lastHeartbeat: Timestamp.fromMillis(Date.now() - 300_000), name: "Stage left" });
    await sweepFromScratch(store, { staleAfterMs: 60_000 });
    await waitFor(`outage ${i} marked`, marked);
  };
  const comesBack = async (i: number) => {
    await machine.update({ lastHeartbeat: Timestamp.now() });
    await waitFor(`return ${i} answered`, async () => !(await marked()));
  };
  for (let i = 1; i <= 10; i++) {
    await goesDown(i);
    await comesBack(i);
  }
  // The first outage and its return (the return's delivery waits for the outage's), and the loop told once.
  await waitFor("machine.flapping and the first return", () => received("machine.flapping").length === 1 && received("machine.online").length === 1);
  await sleep(2000);
  const events = () => received().map((d) => d.payload?.event as string);
  // (In this test the flaps come seconds apart, so their deliveries may arrive in any order; the return's waits for its outage's.)
  expect([...events()].sort()).toEqual(["machine.flapping", "machine.offline", "machine.online"]);
  expect(events().indexOf("machine.online")).toBeGreaterThan(events().indexOf("machine.offline"));
  expect(received("machine.flapping")[0]?.payload?.data).toMatchObject({
    machineId: "PC-1",
    machineName: "Stage left",
    flaps: FLAPPING.machine.flaps,
    windowMinutes: 30,
    stableAfterMinutes: 30,
  });

  // Down again when its look comes, half an hour on: it stays flapping (its flapping event is the open page), the look noted.
  await goesDown(11);
  const episode = store.db.collection(`sites/${siteId}/flaps`);
  const quiet = FLAPPING.stableAfterMs / 60_000;
  expect(await settleLater(siteId, quiet + 1)).toEqual([false]);
  const noted = (await episode.get()).docs[0]?.get("lastUnquietAt") as Timestamp | undefined;
  expect(noted?.toMillis()).toBeGreaterThan(Date.now() + quiet * 60_000);
  // Back: stable only once the looks have found it up for 30 minutes.
  await comesBack(11);
  expect(await settleLater(siteId, quiet + 10)).toEqual([false]);
  expect(received("machine.stable")).toHaveLength(0);
  expect(await settleLater(siteId, 2 * quiet + 2)).toEqual([true]);
  await waitFor("machine.stable", () => received("machine.stable").length === 1);
  // Outages 2 to 11, held back and counted.
  expect(received("machine.stable")[0]?.payload?.data).toMatchObject({ machineId: "PC-1", suppressed: 10 });
  expect(events()).toHaveLength(4);
  expect(events()[3]).toBe("machine.stable");
  // The episode is gone, and with it the hold on the machine's outages.
  expect((await episode.get()).size).toBe(0);
  expect((await store.db.doc(paths.emissionLedger(siteId)).get()).get("flapping")).toEqual({});
});

it("a process failing to start in a loop with one message, as deployed agents log it, gets one process.flapping, then one process.stable however many passes look", async () => {
  await clearOfHourTurn(30_000);
  const { siteId, received } = await site("loop", ["process.start_failed"]);
  // The same words every time: one claim doc, replaced, carrying the earlier ones.
  const failure = () =>
    store.db.doc(`sites/${siteId}/logs/${randomUUID()}`).set({
      timestamp: Timestamp.now(),
      action: "process_start_failed",
      level: "error",
      machineId: "PC-2",
      machineName: "PC-2",
      processName: "Notch",
      details: "[WinError 2] The system cannot find the file specified",
    });
  const heldBack = async () => {
    const held = ((await store.db.doc(paths.emissionLedger(siteId)).get()).get("held") ?? {}) as Record<string, { n: number }>;
    return Object.values(held).reduce((n, h) => n + h.n, 0);
  };
  // One at a time, each decided before the next: the limit's first 3 go out, the others are held back.
  for (let i = 1; i <= 7; i++) {
    await failure();
    await waitFor(`failure ${i} decided`, async () => (i <= 3 ? received("process.start_failed").length >= i : (await heldBack()) >= i - 3));
  }
  await waitFor("process.flapping", () => received("process.flapping").length === 1);
  await sleep(2000);
  expect(received().map((d) => d.payload?.event)).toEqual(["process.start_failed", "process.start_failed", "process.start_failed", "process.flapping"]);
  expect(received("process.flapping")[0]?.payload?.data).toMatchObject({
    machineId: "PC-2",
    processName: "Notch",
    flaps: FLAPPING.process.flaps,
    windowMinutes: 15,
  });

  // Two passes looking at once: one stable event, the episode and its hold gone.
  const quiet = FLAPPING.stableAfterMs / 60_000;
  await Promise.all([settleLater(siteId, quiet + 1), settleLater(siteId, quiet + 1)]);
  await waitFor("process.stable", () => received("process.stable").length === 1);
  await sleep(1000);
  expect(received("process.stable")).toHaveLength(1);
  expect(received("process.stable")[0]?.payload?.data).toMatchObject({ processName: "Notch", suppressed: 4 });
  expect(received().at(-1)?.payload?.event).toBe("process.stable");
  expect((await store.db.collection(`sites/${siteId}/flaps`).get()).size).toBe(0);
  expect((await store.db.doc(paths.emissionLedger(siteId)).get()).get("flapping")).toEqual({});
});

it("a machine's flapping event is one of its site's outage pages: over the site's bound, its episode holds its outages back untold, counted for the site's next page", async () => {
  const siteId = uniqueId("bound");
  await store.db.doc(paths.site(siteId)).set({ name: "Venue", owner: "o", offlinePerHour: 1 });
  const episode = (machineId: string) => {
    const nowMs = Date.now();
    const docId = flapDocId("machine", machineId, "presence");
    return {
      docId,
      kind: "machine" as const,
      machineId,
      subject: "presence",
      subjectKey: `presence|${machineId}`,
      processName: null,
      processId: null,
      sinceMs: nowMs,
      flaps: 3,
      eventId: flappingEventId(docId, nowMs),
      nowMs,
      siteOfflineLimit: 1,
    };
  };
  expect(await store.flaps.start(siteId, episode("PC-1"))).toBe("started");
  expect(await store.flaps.start(siteId, episode("PC-1"))).toBe("open");
  // The hour's one page is spent: the next machine's episode is silent, its page counted for the site.
  expect(await store.flaps.start(siteId, episode("PC-2"))).toBe("silent");
  const ledger = readLedger((await store.db.doc(paths.emissionLedger(siteId)).get()).data());
  expect(ledger?.pending[ledgerKey(SITE_OFFLINE_KEY)]?.n).toBe(1);
  expect(Object.keys(ledger?.flapping ?? {}).sort()).toEqual([ledgerKey("presence|PC-1"), ledgerKey("presence|PC-2")].sort());
  const silent = await store.db.doc(paths.flap(siteId, flapDocId("machine", "PC-2", "presence"))).get();
  expect(silent.data()).toMatchObject({ silent: true, announced: true });
});
