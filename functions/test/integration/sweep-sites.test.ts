import { Timestamp, type QueryDocumentSnapshot } from "firebase-admin/firestore";
import { paths } from "../../src/data/paths";
import { PresenceStore } from "../../src/data/presence-store";
import type { Store } from "../../src/data/store";
import { runSweep } from "../../src/pipeline/sweep-pass";
import type { Log } from "../../src/log";
import type { Receiver } from "../../../scripts/lib/receiver";
import { startSuite, uniqueId } from "../support/emulator";
import { presenceOf } from "../support/sweep";

// The sweep queries each site's machines on their own (one index range per site, so no range
// holds the whole fleet's heartbeats), keeps a floor per site, and, while that index is not
// built yet (the first deploy of this version), falls back to the earlier query across sites.

jest.setTimeout(60_000);

let store: Store;
let receiver: Receiver;
beforeAll(async () => ({ store, receiver } = await startSuite()));
afterAll(() => receiver.stop());
// Tests make silences by moving heartbeats back, which a server-stamped heartbeat never is: a
// floor an earlier test left (the fallback's shared one above all) would hide them.
beforeEach(() => store.db.doc(paths.sweepState()).delete());

const STALE_MS = 60_000;

async function silentMachine(siteId: string, machineId: string, secondsAgo: number, opts: { siteDoc?: boolean } = {}) {
  if (opts.siteDoc !== false) await store.db.doc(paths.site(siteId)).set({ name: siteId, owner: "o" }, { merge: true });
  await store.db
    .doc(paths.machine(siteId, machineId))
    .set({ online: true, name: machineId, lastHeartbeat: Timestamp.fromMillis(Date.now() - secondsAgo * 1000) });
}

/** What production answers a query whose index is not built yet (the emulator needs no index). */
const indexNotBuilt = (): Promise<QueryDocumentSnapshot[]> =>
  Promise.reject(Object.assign(new Error("9 FAILED_PRECONDITION: The query requires an index."), { code: 9 }));

function recordingLog(): { log: Log; messages: string[] } {
  const messages: string[] = [];
  const keep = (message: string) => void messages.push(message);
  return { log: { info: keep, warn: keep, error: keep }, messages };
}

it("marks the silent machines of every site, each site under its own floor", async () => {
  const [a, b] = [uniqueId("sweep-a"), uniqueId("sweep-b")];
  await Promise.all([silentMachine(a, "A-1", 300), silentMachine(b, "B-1", 600), silentMachine(b, "B-2", 5)]);
  const now = new Date();
  const result = await runSweep(new PresenceStore(store.db), { now, staleAfterMs: STALE_MS });
  expect(result.acrossSites).toBe(false);
  expect(result.sites).toBeGreaterThanOrEqual(2);
  expect(await presenceOf(store, a, "A-1")).toMatchObject({ staleSince: expect.any(Timestamp) });
  expect(await presenceOf(store, b, "B-1")).toMatchObject({ staleSince: expect.any(Timestamp) });
  expect(await presenceOf(store, b, "B-2")).toBeUndefined();
  const floors = (await store.db.doc(paths.sweepState()).get()).get("floors") as Record<string, Timestamp>;
  // Each site's floor is the pass's cutoff: everything older was looked at.
  expect(floors[a]?.toMillis()).toBe(now.getTime() - STALE_MS);
  expect(floors[b]?.toMillis()).toBe(now.getTime() - STALE_MS);
});

it("a machine that goes silent below another site's floor is still found: floors are per site", async () => {
  const [ahead, behind] = [uniqueId("sweep-ahead"), uniqueId("sweep-behind")];
  await silentMachine(ahead, "AHEAD", 10);
  const presence = new PresenceStore(store.db);
  await store.db.doc(paths.sweepState()).set({ floors: { [ahead]: Timestamp.fromMillis(Date.now()) } }, { merge: true });
  // Its heartbeat is older than the other site's floor, and its site has none yet.
  await silentMachine(behind, "BEHIND", 900);
  await runSweep(presence, { now: new Date(), staleAfterMs: STALE_MS });
  expect(await presenceOf(store, behind, "BEHIND")).toMatchObject({ staleSince: expect.any(Timestamp) });
});

it("sweeps the machines of a site whose site doc is gone, as the query across sites did", async () => {
  const orphan = uniqueId("sweep-orphan");
  await silentMachine(orphan, "ORPHAN-PC", 300, { siteDoc: false });
  expect((await store.db.doc(paths.site(orphan)).get()).exists).toBe(false);
  await runSweep(new PresenceStore(store.db), { now: new Date(), staleAfterMs: STALE_MS });
  expect(await presenceOf(store, orphan, "ORPHAN-PC")).toMatchObject({ staleSince: expect.any(Timestamp) });
});

it("falls back to the query across sites while the per-site index is building, and says so", async () => {
  const site = uniqueId("sweep-building");
  await silentMachine(site, "NEW-INDEX-PC", 300);
  class Building extends PresenceStore {
    override findSilentMachines = indexNotBuilt;
  }
  const { log, messages } = recordingLog();
  await store.db.doc(paths.sweepState()).set({ floor: Timestamp.fromMillis(Date.now() - 3_600_000) }, { merge: true });
  const result = await runSweep(new Building(store.db), { now: new Date(), staleAfterMs: STALE_MS, log });
  expect(result.acrossSites).toBe(true);
  expect(result.marked).toBeGreaterThanOrEqual(1);
  expect(messages).toContain("sweep.site_index_missing");
  expect(await presenceOf(store, site, "NEW-INDEX-PC")).toMatchObject({ staleSince: expect.any(Timestamp) });
  // The fallback keeps the shared floor, where a site without a floor of its own starts.
  const shared = (await store.db.doc(paths.sweepState()).get()).get("floor") as Timestamp;
  expect(shared.toMillis()).toBeGreaterThan(Date.now() - 3_600_000);
});

it("a site whose query fails for another reason does not stop the others: the pass saves and settles them, then throws", async () => {
  const [broken, fine] = [uniqueId("sweep-broken"), uniqueId("sweep-fine")];
  await Promise.all([silentMachine(broken, "BROKEN-PC", 300), silentMachine(fine, "FINE-PC", 300)]);
  class OneSiteDown extends PresenceStore {
    override findSilentMachines(siteId: string, ...rest: [Date | null, Date, number, QueryDocumentSnapshot?]): Promise<QueryDocumentSnapshot[]> {
      if (siteId === broken) return Promise.reject(Object.assign(new Error("14 UNAVAILABLE"), { code: 14 }));
      return super.findSilentMachines(siteId, ...rest);
    }
  }
  const { log, messages } = recordingLog();
  await expect(runSweep(new OneSiteDown(store.db), { now: new Date(), staleAfterMs: STALE_MS, log })).rejects.toThrow(
    /1 site\(s\) could not be swept \(sweep-broken/,
  );
  expect(messages).toEqual(expect.arrayContaining(["sweep.site_failed", "sweep.done"]));
  expect(await presenceOf(store, fine, "FINE-PC")).toMatchObject({ staleSince: expect.any(Timestamp) });
  expect(await presenceOf(store, broken, "BROKEN-PC")).toBeUndefined();
  // Its floor did not move: the next pass reads it from where it was; the others' did.
  const floors = (await store.db.doc(paths.sweepState()).get()).get("floors") as Record<string, Timestamp>;
  expect(floors[broken]).toBeUndefined();
  expect(floors[fine]).toBeDefined();
});

it("a fallback that fails too (the old index deleted) fails the pass only after the rest is saved", async () => {
  const site = uniqueId("sweep-no-index");
  await silentMachine(site, "NO-INDEX-PC", 300);
  class NoIndex extends PresenceStore {
    override findSilentMachines = indexNotBuilt;
    override findSilentMachinesAcrossSites = indexNotBuilt;
  }
  const { log, messages } = recordingLog();
  await expect(runSweep(new NoIndex(store.db), { now: new Date(), staleAfterMs: STALE_MS, log })).rejects.toThrow(/\(across sites\)/);
  expect(messages).toEqual(expect.arrayContaining(["sweep.site_index_missing", "sweep.site_failed", "sweep.done"]));
});

it("reads at most its budget of machines a pass, sites furthest behind first; the next pass goes on from where it stopped", async () => {
  const site = uniqueId("sweep-budget");
  // Budget: 20 pages of 2 = 40 machines a pass.
  await Promise.all(Array.from({ length: 50 }, (_, i) => silentMachine(site, `DARK-${String(i).padStart(2, "0")}`, 600 - i)));
  const presence = new PresenceStore(store.db);
  // Every other site of the suite is up to date: this one, without a floor, is furthest behind.
  const { ids } = await presence.siteIds();
  const now = new Date();
  await store.db.doc(paths.sweepState()).set({ floors: Object.fromEntries(ids.filter((id) => id !== site).map((id) => [id, Timestamp.fromDate(now)])) });
  const first = await runSweep(presence, { now, staleAfterMs: STALE_MS, pageSize: 2 });
  expect(first.candidates).toBe(40);
  const marked = async () => (await store.db.collection(`sites/${site}/presence`).get()).size;
  expect(await marked()).toBe(40);
  // The floor moved to the last machine read, not to the cutoff.
  const floor = ((await store.db.doc(paths.sweepState()).get()).get("floors") as Record<string, Timestamp>)[site];
  expect(floor!.toMillis()).toBeLessThan(now.getTime() - STALE_MS);
  const second = await runSweep(presence, { now, staleAfterMs: STALE_MS, pageSize: 2 });
  expect(second.candidates).toBeLessThanOrEqual(11);
  expect(await marked()).toBe(50);
});

it("forgets the floors of sites no longer listed, when it has just listed them", async () => {
  const gone = uniqueId("sweep-gone");
  await store.db.doc(paths.sweepState()).set({ floors: { [gone]: Timestamp.now() } });
  await runSweep(new PresenceStore(store.db), { now: new Date(), staleAfterMs: STALE_MS });
  const floors = (await store.db.doc(paths.sweepState()).get()).get("floors") as Record<string, Timestamp>;
  expect(Object.keys(floors)).not.toContain(gone);
  expect(Object.keys(floors).length).toBeGreaterThan(0);
});
