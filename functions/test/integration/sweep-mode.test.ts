import { getApps, initializeApp } from "firebase-admin/app";
import { FieldValue, getFirestore, Timestamp, type Firestore } from "firebase-admin/firestore";
import { paths } from "../../src/data/paths";
import type { Receiver } from "../../../scripts/lib/receiver";
import { startSuite, uniqueId } from "../support/emulator";
import { sweepModeHarness } from "../support/sweep-mode";

// The sweep presence mode (PRESENCE_MODE=sweep): no function runs on a machine doc's write, so
// the sweep finds both the silences and the returns. Run on a project of its own on the same
// emulator, where no trigger fires, as in the mode; the trigger on presence docs is run
// in-process for each mark.

jest.setTimeout(60_000);

const STALE_MS = 60_000;
let receiver: Receiver;
let db: Firestore;
beforeAll(async () => {
  ({ receiver } = await startSuite());
  const app = getApps().find((a) => a.name === "sweep-mode") ?? initializeApp({ projectId: "demo-owlette-sweep-mode" }, "sweep-mode");
  db = getFirestore(app);
});
afterAll(() => receiver.stop());
// Silences are made by moving heartbeats back: a floor an earlier test left would hide them.
beforeEach(() => db.doc(paths.sweepState()).delete());

const flagOf = async (siteId: string, machineId: string) => (await db.doc(paths.machine(siteId, machineId)).get()).get("sweepAwaitingReturn") as unknown;
const presenceOf = async (siteId: string, machineId: string) => (await db.doc(paths.presence(siteId, machineId)).get()).data();

it("pages a dead machine and answers its return within one pass: machine.offline, then machine.online", async () => {
  const siteId = uniqueId("sweepmode");
  const h = await sweepModeHarness(db, receiver, siteId, { staleMs: STALE_MS });
  await Promise.all([h.machineAt("DEAD-PC", 300), h.machineAt("LIVE-PC", 5)]);
  const first = await h.pass();
  expect(first.sweep).toMatchObject({ marked: 1 });
  expect(h.received()).toEqual([["DEAD-PC machine.offline"]]);
  expect(await flagOf(siteId, "DEAD-PC")).toBe(true);
  expect(await flagOf(siteId, "LIVE-PC")).toBeUndefined();
  // Still silent: found by neither query again, nothing sent.
  await h.pass();
  expect(h.received()).toEqual([["DEAD-PC machine.offline"]]);
  // The agent is back (its heartbeat, merged as it writes it): the next pass answers it.
  await h.machineAt("DEAD-PC", 0);
  const back = await h.pass();
  expect(back.returns).toMatchObject({ failed: 0 });
  expect(h.received()).toEqual([["DEAD-PC machine.offline", "DEAD-PC machine.online"]]);
  expect(await presenceOf(siteId, "DEAD-PC")).toBeUndefined();
  expect(await flagOf(siteId, "DEAD-PC")).toBeUndefined();
  // Answered once: another pass sends nothing.
  await h.pass();
  expect(h.received()).toEqual([["DEAD-PC machine.offline", "DEAD-PC machine.online"]]);
});

it("answers a machine that came back and went silent again between two passes, then marks the new silence", async () => {
  const siteId = uniqueId("sweepmode");
  const h = await sweepModeHarness(db, receiver, siteId, { staleMs: STALE_MS });
  await h.machineAt("BRIEF-PC", 600);
  await h.pass();
  // Back for a moment after the mark (a heartbeat above the floor that pass left, now minus the
  // threshold), and silent again by the next pass (below its cutoff, 5 s later).
  await h.machineAt("BRIEF-PC", STALE_MS / 1000 - 2);
  await h.pass("sweep", new Date(Date.now() + 5_000));
  expect(h.received()).toEqual([["BRIEF-PC machine.offline", "BRIEF-PC machine.online"]]);
  const again = await h.pass("sweep", new Date(Date.now() + 6_000));
  expect(again.sweep?.marked).toBeGreaterThanOrEqual(1);
  // The new silence is marked and flagged; its page is held by the machine's limit (one
  // machine.offline an hour), to go out when the hour turns if it is still silent.
  expect(await presenceOf(siteId, "BRIEF-PC")).toMatchObject({ staleSince: expect.any(Timestamp), dueAt: expect.any(Timestamp) });
  expect(await flagOf(siteId, "BRIEF-PC")).toBe(true);
  expect(h.received()).toEqual([["BRIEF-PC machine.offline", "BRIEF-PC machine.online"]]);
});

it("a flag without a mark sends nothing and is removed once the machine beats", async () => {
  const siteId = uniqueId("sweepmode");
  const h = await sweepModeHarness(db, receiver, siteId, { staleMs: STALE_MS });
  await h.machineAt("FLAGGED-PC", 1);
  await db.doc(paths.machine(siteId, "FLAGGED-PC")).update({ sweepAwaitingReturn: true });
  const result = await h.pass();
  expect(result.returns?.unflagged).toBeGreaterThanOrEqual(1);
  expect(h.received()).toEqual([[]]);
  expect(await flagOf(siteId, "FLAGGED-PC")).toBeUndefined();
});

it("a switch from the trigger mode flags the machines marked or deferred before it, so their returns are answered", async () => {
  const siteId = uniqueId("sweepmode");
  const h = await sweepModeHarness(db, receiver, siteId, { staleMs: STALE_MS });
  await h.machineAt("OLD-MARK-PC", 300);
  // Silent inside a reboot it announced: deferred, to be marked when the announcement runs out.
  await h.machineAt("REBOOTING-PC", 300);
  await db.doc(paths.machine(siteId, "REBOOTING-PC")).update({ rebooting: true, rebootScheduledAt: Math.floor(Date.now() / 1000) });
  await h.pass("trigger");
  expect(h.received()).toEqual([["OLD-MARK-PC machine.offline"]]);
  expect(await presenceOf(siteId, "REBOOTING-PC")).toMatchObject({ dueAt: expect.any(Timestamp) });
  expect(await flagOf(siteId, "OLD-MARK-PC")).toBeUndefined();
  expect(await flagOf(siteId, "REBOOTING-PC")).toBeUndefined();
  await h.machineAt("OLD-MARK-PC", 0);
  // The first pass in the sweep mode flags it, then finds it back.
  const switched = await h.pass("sweep");
  expect(switched.returns?.answered).toBeGreaterThanOrEqual(1);
  expect(h.received()).toEqual([["OLD-MARK-PC machine.offline", "OLD-MARK-PC machine.online"]]);
  expect(await flagOf(siteId, "REBOOTING-PC")).toBe(true);
  expect((await db.doc(paths.sweepState()).get()).get("presenceMode")).toBe("sweep");
  // And back: the trigger mode records itself, so a later switch flags again.
  await h.pass("trigger");
  expect((await db.doc(paths.sweepState()).get()).get("presenceMode")).toBe("trigger");
});

it("an agent's clean stop after its return is answered when it next reports online, as the machine trigger does", async () => {
  const siteId = uniqueId("sweepmode");
  const h = await sweepModeHarness(db, receiver, siteId, { staleMs: STALE_MS });
  await h.machineAt("STOPPED-PC", 300);
  await h.pass();
  await db.doc(paths.machine(siteId, "STOPPED-PC")).set({ online: false, lastHeartbeat: FieldValue.serverTimestamp() }, { merge: true });
  await h.pass();
  expect(h.received()).toEqual([["STOPPED-PC machine.offline"]]);
  await db.doc(paths.machine(siteId, "STOPPED-PC")).set({ online: true, lastHeartbeat: Timestamp.now() }, { merge: true });
  await h.pass();
  expect(h.received()).toEqual([["STOPPED-PC machine.offline", "STOPPED-PC machine.online"]]);
});

it("a switch back to the trigger mode: the machine trigger answers a flagged machine on any heartbeat, and removes the flag", async () => {
  const siteId = uniqueId("sweepmode");
  const h = await sweepModeHarness(db, receiver, siteId, { staleMs: STALE_MS });
  await h.machineAt("PENDING-PC", 300);
  await h.pass("sweep");
  expect(await flagOf(siteId, "PENDING-PC")).toBe(true);
  // Back while the mode was switched: its first beats went unanswered, and the trigger now sees
  // only an on-time heartbeat, which alone reads nothing.
  const before = { online: true, name: "PENDING-PC", lastHeartbeat: Timestamp.fromMillis(Date.now() - 5_000), sweepAwaitingReturn: true };
  const after = { ...before, lastHeartbeat: Timestamp.now() };
  await db.doc(paths.machine(siteId, "PENDING-PC")).set(after);
  const outcomes = await h.machineWrite("PENDING-PC", before, after);
  expect(outcomes).toMatchObject([{ type: "machine.online", outcome: "emitted" }]);
  expect(h.received()).toEqual([["PENDING-PC machine.offline", "PENDING-PC machine.online"]]);
  expect(await presenceOf(siteId, "PENDING-PC")).toBeUndefined();
  expect(await flagOf(siteId, "PENDING-PC")).toBeUndefined();
  // Without the flag an on-time heartbeat is what it always was: nothing read, nothing sent.
  expect(
    await h.machineWrite(
      "PENDING-PC",
      { ...after, sweepAwaitingReturn: undefined },
      { ...after, lastHeartbeat: Timestamp.now(), sweepAwaitingReturn: undefined },
    ),
  ).toEqual([]);
});
