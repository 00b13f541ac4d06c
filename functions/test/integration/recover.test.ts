import { FieldValue } from "firebase-admin/firestore";
import { paths } from "../../src/data/paths";
import type { Store } from "../../src/data/store";
import { RECOVERY } from "../../src/domain/recovery";
import type { Receiver } from "../../../scripts/lib/receiver";
import { rest } from "../support/api-client";
import { isSettled, sleep, startSuite, uniqueId, waitFor } from "../support/emulator";
import { newSite as newSiteOf, type Site } from "../support/sites";

// Recover since (issue 24, item 4): a receiver down long enough for its webhook to be switched
// off; once it is fixed, one call re-sends what failed and what was missed meanwhile, in order,
// at a bounded pace, each under its own event id; nothing delivered is sent again.

jest.setTimeout(120_000);

let store: Store;
let receiver: Receiver;

beforeAll(async () => ({ store, receiver } = await startSuite()));
afterAll(() => receiver.stop());

/** A site whose one webhook's receiver answers 500 while `down`, else 200. */
async function siteWithFlakyHook(): Promise<{ site: Site; id: string; path: string; state: { down: boolean } }> {
  const site = await newSiteOf(store);
  const path = `/recover/${uniqueId("hook")}`;
  const state = { down: false };
  const res = await rest("POST", "/v1/webhooks", { key: site.adminKey, body: { name: "Ops", url: receiver.url(path), events: ["process.crashed"] } });
  if (res.status !== 201) throw new Error(`webhook not created: ${res.status}`);
  receiver.register(path, res.body.secret, () => (state.down ? 500 : 200));
  return { site, id: res.body.webhook.id, path, state };
}

async function crash(siteId: string, processId: string) {
  const machine = store.db.doc(paths.machine(siteId, "m1"));
  await machine.set({ online: true, name: "Lobby PC", machineId: "m1", siteId, lastHeartbeat: FieldValue.serverTimestamp() }, { merge: true });
  const ref = store.db.doc(`${paths.machine(siteId, "m1")}/processes/${processId}`);
  await ref.set({ name: "TouchDesigner", status: "running" });
  await ref.set({ name: "TouchDesigner", status: "crashed", exitCode: 1, updatedAt: FieldValue.serverTimestamp() });
}

const records = async (siteId: string, webhookId: string) => (await store.db.collection(paths.deliveries(siteId, webhookId)).get()).docs.map((d) => d.data());

async function recovered(site: Site, webhookId: string, recoveryId: string) {
  return waitFor(
    "the recovery to finish",
    async () => {
      const res = await rest("GET", `/v1/webhooks/${webhookId}/recoveries/${recoveryId}`, { key: site.memberKey });
      return res.body.recovery?.status !== "running" && res.body.recovery;
    },
    60_000,
  );
}

const processOf = (d: { payload: { data?: Record<string, unknown> } | null }) => d.payload?.data?.processId;

describe("recover since", () => {
  it("re-sends what failed and what was missed while off, in order, once each, stopping at a failure until the receiver is fixed", async () => {
    const { site, id, path, state } = await siteWithFlakyHook();
    await crash(site.siteId, "before");
    await waitFor("the healthy delivery", () => receiver.at(path).length === 1);
    const since = new Date().toISOString();

    // Down: two events fail five times each, and the webhook switches itself off.
    state.down = true;
    await crash(site.siteId, "a");
    await waitFor("a's five failures", async () => (await records(site.siteId, id)).some((r) => isSettled(r, "failed")));
    await crash(site.siteId, "b");
    await waitFor("the auto-disable", async () => (await store.db.doc(paths.webhook(site.siteId, id)).get()).get("enabled") === false);
    // Off: two more are missed (no delivery), each stored as missed by the webhook.
    await crash(site.siteId, "c");
    // A second apart, so that their order is their times' (a recovery breaks ties by event id).
    await sleep(1100);
    await crash(site.siteId, "d");
    const missed = await waitFor("the missed events stored", async () => {
      const events = await store.db.collection(paths.events(site.siteId)).where("missedBy", "array-contains", id).get();
      return events.size === 2 && events;
    });
    expect(receiver.at(path)).toHaveLength(11);
    const failedIds = [
      ...new Set(
        receiver
          .at(path)
          .slice(1)
          .map((d) => d.payload?.id),
      ),
    ];
    expect(failedIds).toHaveLength(2);

    // A switched-off webhook is not recovered into; bad windows are refused by field.
    const off = await rest("POST", `/v1/webhooks/${id}/recover`, { key: site.adminKey, body: { since } });
    expect(off).toMatchObject({ status: 409, body: { error: { code: "conflict" } } });
    expect(await rest("POST", `/v1/webhooks/${id}/enable`, { key: site.adminKey })).toMatchObject({ status: 200 });
    const future = await rest("POST", `/v1/webhooks/${id}/recover`, { key: site.adminKey, body: { since: new Date(Date.now() + 60_000).toISOString() } });
    expect(future).toMatchObject({ status: 400, body: { error: { code: "invalid_argument", details: [{ path: "since", reason: "must be in the past" }] } } });
    const member = await rest("POST", `/v1/webhooks/${id}/recover`, { key: site.memberKey, body: { since } });
    expect(member.status).toBe(403);

    // Still down: the first re-send fails, and the recovery stops there; nothing newer overtakes it.
    const first = await rest("POST", `/v1/webhooks/${id}/recover`, { key: site.adminKey, body: { since } });
    expect(first).toMatchObject({ status: 202, body: { recovery: { status: "running", total: 4, since } } });
    const stopped = await recovered(site, id, first.body.recovery.id);
    expect(stopped).toMatchObject({ status: "stopped", reason: "send_failed", sent: 0, remaining: 4, stoppedAt: failedIds[0] });
    expect(receiver.at(path)).toHaveLength(12);

    // Fixed: all four, oldest first, under their own event ids, no two closer than the pace.
    state.down = false;
    const before = receiver.at(path).length;
    const second = await rest("POST", `/v1/webhooks/${id}/recover`, { key: site.adminKey, body: { since } });
    expect(second).toMatchObject({ status: 202, body: { recovery: { total: 4 } } });
    expect(await recovered(site, id, second.body.recovery.id)).toMatchObject({ status: "done", sent: 4, remaining: 0, alreadyDelivered: 0 });
    const resent = receiver.at(path).slice(before);
    expect(resent.map(processOf)).toEqual(["a", "b", "c", "d"]);
    expect(resent.every((d) => d.verified)).toBe(true);
    expect(resent.slice(0, 2).map((d) => d.payload?.id)).toEqual(failedIds);
    expect(new Set(resent.slice(2).map((d) => d.payload?.id))).toEqual(new Set(missed.docs.map((e) => e.id)));
    const gaps = resent.slice(1).map((d, i) => d.receivedAt - resent[i]!.receivedAt);
    expect(Math.min(...gaps)).toBeGreaterThanOrEqual(1000 / RECOVERY.perSecond - 30);
    // Every delivery of the window is now succeeded; the missed ones have a record of their own.
    const after = await records(site.siteId, id);
    expect(after.map((r) => r.status).sort()).toEqual(["succeeded", "succeeded", "succeeded", "succeeded", "succeeded"]);

    // Nothing left: a second recover of the same window plans nothing and sends nothing.
    const again = await rest("POST", `/v1/webhooks/${id}/recover`, { key: site.adminKey, body: { since } });
    expect(again).toMatchObject({ status: 202, body: { recovery: { status: "done", total: 0 } } });
    await sleep(1500);
    expect(receiver.at(path)).toHaveLength(before + 4);
  });

  it("one recovery at a time per webhook; its progress is readable by members, not by another site", async () => {
    const { site, id, path, state } = await siteWithFlakyHook();
    const since = new Date().toISOString();
    // Two failed deliveries with a success between them, so the webhook stays on (5 failures in a row at most).
    const settled = (n: number) =>
      waitFor(`${n} settled deliveries`, async () => {
        const all = await records(site.siteId, id);
        return all.length === n && all.every((r) => isSettled(r));
      });
    state.down = true;
    await crash(site.siteId, "p1");
    await settled(1);
    state.down = false;
    await crash(site.siteId, "p2");
    await settled(2);
    state.down = true;
    await crash(site.siteId, "p3");
    await settled(3);
    state.down = false;
    const started = await rest("POST", `/v1/webhooks/${id}/recover`, { key: site.adminKey, body: { since } });
    const busy = await rest("POST", `/v1/webhooks/${id}/recover`, { key: site.adminKey, body: { since } });
    expect(started.status).toBe(202);
    expect(busy).toMatchObject({ status: 409, body: { error: { code: "conflict", message: expect.stringContaining(started.body.recovery.id) } } });
    const other = await newSiteOf(store);
    const foreign = await rest("GET", `/v1/webhooks/${id}/recoveries/${started.body.recovery.id}`, { key: other.adminKey });
    expect(foreign.status).toBe(404);
    expect(await recovered(site, id, started.body.recovery.id)).toMatchObject({ status: "done", total: 2, sent: 2 });
    expect(receiver.at(path).slice(-2).map(processOf)).toEqual(["p1", "p3"]);
    const unknown = await rest("GET", `/v1/webhooks/${id}/recoveries/rcv_nope`, { key: site.memberKey });
    expect(unknown.status).toBe(404);
  });
});
