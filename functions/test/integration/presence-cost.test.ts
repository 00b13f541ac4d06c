import { getApps, initializeApp } from "firebase-admin/app";
import { getFirestore } from "firebase-admin/firestore";
import { outageHarness } from "../support/outage-cost";
import type { Receiver } from "../../../scripts/lib/receiver";
import { startSuite, uniqueId } from "../support/emulator";

// What an outage costs, machine.offline and its machine.online to three webhooks, counted read
// by read: the sweep's mark of the machine, both events' decisions and fan-outs, the mark
// cleared, and every delivery (the answer's waiting for its question's): issue 22, goal 2.

let receiver: Receiver;
let db: FirebaseFirestore.Firestore;
beforeAll(async () => {
  ({ receiver } = await startSuite());
  // A project of its own on the same emulator: the suite's triggers do not fire there, so the
  // handlers run here, counted, are the only ones.
  const app = getApps().find((a) => a.name === "counted") ?? initializeApp({ projectId: "demo-owlette-counted" }, "counted");
  db = getFirestore(app);
});
afterAll(() => receiver.stop());

describe("an outage and its end, to three webhooks", () => {
  it("costs at most 14 reads and 12 writes besides the sweep query's read, and keeps its order: machine.online after machine.offline", async () => {
    const h = await outageHarness(db, receiver, uniqueId("outagecost"), 3);
    await h.outage("WARMUP-PC"); // the instance's reads of the site, each webhook's first delivery
    const { cost, offline, online } = await h.outage("GALLERY-PC1");
    expect(offline).toMatchObject([{ type: "machine.offline", outcome: "emitted", webhooks: 3 }]);
    expect(online).toMatchObject([{ type: "machine.online", outcome: "emitted", webhooks: 3 }]);
    // The sweep's transaction 2 + 1; the offline's claim 1 (created unread), ledger 1 + 1, query 3,
    // event 1; the heartbeat's mark 1, its question's event doc 1, query 3, event 1, the mark's
    // delete 1 (conditioned, unread); six deliveries 6 writes, each answer's look at its question 1.
    expect(cost.reads).toBeLessThanOrEqual(14);
    expect(cost.writes).toBeLessThanOrEqual(12);
    const events = h.received().map((d) => `${d.path} ${d.payload?.data?.machineId} ${d.payload?.event}`);
    expect(events.filter((e) => e.includes("GALLERY-PC1"))).toHaveLength(6);
    for (const path of new Set(h.received().map((d) => d.path))) {
      expect(events.filter((e) => e.startsWith(`${path} GALLERY-PC1`))).toEqual([`${path} GALLERY-PC1 machine.offline`, `${path} GALLERY-PC1 machine.online`]);
    }
  });
});
