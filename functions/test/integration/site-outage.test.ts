import { Timestamp } from "firebase-admin/firestore";
import { paths } from "../../src/data/paths";
import type { ManagementStore } from "../../src/data/management-store";
import { RECENT_READ_MAX_AGE_MS } from "../../src/data/site-store";
import type { Store } from "../../src/data/store";
import type { Receiver } from "../../../scripts/lib/receiver";
import { clearOfHourTurn, sleep, startSuite, uniqueId, waitFor } from "../support/emulator";
import { sweepFromScratch } from "../support/sweep";

// A site whose network drops: its machine.offline pages are bounded per hour (`offlinePerHour`),
// the rest counted and said on the site's next page, never held to page machine after machine.

jest.setTimeout(120_000);

let store: Store;
let manage: ManagementStore;
let receiver: Receiver;
beforeAll(async () => ({ store, manage, receiver } = await startSuite()));
// Exact per-hour counts: none of these tests spans an hour's turn.
beforeEach(() => clearOfHourTurn(), 60_000);
afterAll(() => receiver.stop());

it("a site gone dark pages up to its bound, counts the rest, and says how many on its next page", async () => {
  const siteId = uniqueId("dark");
  const path = `/dark/${siteId}`;
  await store.db.doc(paths.site(siteId)).set({ name: "Venue", owner: "o", offlinePerHour: 3 });
  const { secret } = await manage.createWebhook(siteId, {
    name: "Ops",
    url: receiver.url(path),
    events: ["machine.offline", "machine.online"],
    createdBy: "t",
  });
  receiver.register(path, secret);
  const silentFor = (machineId: string, seconds: number) =>
    store.db.doc(paths.machine(siteId, machineId)).set({ online: true, lastHeartbeat: Timestamp.fromMillis(Date.now() - seconds * 1000), name: machineId });
  const machines = ["PC-1", "PC-2", "PC-3", "PC-4", "PC-5", "PC-6"];
  await Promise.all(machines.map((m) => silentFor(m, 300)));
  await sweepFromScratch(store, { staleAfterMs: 60_000 });
  const offline = () => receiver.at(path).filter((d) => d.payload?.event === "machine.offline");
  await waitFor("three pages", () => offline().length >= 3);
  await sleep(3000);
  expect(offline()).toHaveLength(3);
  // The three others are counted, not held for the next hour.
  const held = await store.db.collection(`sites/${siteId}/presence`).where("dueAt", "!=", null).get();
  expect(held.size).toBe(0);

  // The bound raised, one more machine goes dark: its page says how many were counted before it.
  await store.db.doc(paths.site(siteId)).update({ offlinePerHour: 10 });
  // Each instance trusts its read of the site's settings this long: the new bound applies after it.
  await sleep(RECENT_READ_MAX_AGE_MS);
  await silentFor("PC-7", 300);
  await sweepFromScratch(store, { staleAfterMs: 60_000 });
  await waitFor("the next page", () => offline().length === 4);
  expect(offline()[3]?.payload?.data).toMatchObject({ machineId: "PC-7" });
  // Each counted outage is said once, on a page that went out after it was counted (a refusal
  // racing the first three pages may be said on one of them rather than on PC-7's).
  const said = offline().map((d) => (d.payload?.data?.siteSuppressed as number | undefined) ?? 0);
  expect(said.reduce((a, b) => a + b, 0)).toBe(3);

  // Back online: machine.online only for the machines whose machine.offline went out.
  const paged = offline().map((d) => d.payload?.data?.machineId as string);
  await Promise.all([...machines, "PC-7"].map((m) => store.db.doc(paths.machine(siteId, m)).update({ lastHeartbeat: Timestamp.now() })));
  const online = () => receiver.at(path).filter((d) => d.payload?.event === "machine.online");
  await waitFor("the returns", () => online().length >= paged.length);
  await sleep(3000);
  expect(
    online()
      .map((d) => d.payload?.data?.machineId)
      .sort(),
  ).toEqual([...paged].sort());
});
