import { EmissionStore } from "../../src/data/emission-store";
import { readLedger } from "../../src/data/ledger-doc";
import { ManagementStore } from "../../src/data/management-store";
import { paths } from "../../src/data/paths";
import { Store } from "../../src/data/store";
import { EMISSION_LIMITS } from "../../src/domain/emission-policy";
import { ledgerKey } from "../../src/domain/emission-ledger";
import { countingFirestore } from "../support/counting-firestore";
import { deployedAgent } from "../support/deployed-crash";
import { inProcessQueue } from "../support/in-process-queue";
import { Receiver } from "../../../scripts/lib/receiver";
import { clearOfHourTurn, silentLog, startSuite, uniqueId } from "../support/emulator";

// What a crash costs on the path deployed agents use (a log doc and an alert with the same
// message), counted read by read at the data-access layer over the emulator's Firestore, with
// real deliveries to a local receiver: issue 22, goal 1.

let base: Store;
let receiver: Receiver;

beforeAll(async () => ({ store: base, receiver } = await startSuite()));
// Exact per-hour counts: none of these tests spans an hour's turn.
beforeEach(() => clearOfHourTurn(), 60_000);
afterAll(() => receiver.stop());

async function setup(webhooks: number) {
  const counting = countingFirestore(base.db);
  const store = new Store(counting.db);
  const manage = new ManagementStore(base.db);
  const siteId = uniqueId("crashcost");
  const path = (i: number) => `/crash-cost/${siteId}/${i}`;
  await base.db.doc(paths.site(siteId)).set({ name: "Crash cost", owner: "o" });
  await base.db.doc(paths.machine(siteId, "GALLERY-PC1")).set({ name: "Gallery PC 1", online: true });
  for (let i = 0; i < webhooks; i++) {
    const { secret } = await manage.createWebhook(siteId, { name: `Hook ${i}`, url: receiver.url(path(i)), events: ["process.crashed"], createdBy: "test" });
    receiver.register(path(i), secret, () => 200);
  }
  const { tasks, enqueue, deliverAll } = inProcessQueue(store, { staleAfterSeconds: 210, log: silentLog });
  const ingestDeps = { store, emissions: new EmissionStore(counting.db), enqueue, log: silentLog, now: () => new Date() };
  const agent = deployedAgent(siteId, "GALLERY-PC1", ingestDeps);
  const received = () => Array.from({ length: webhooks }, (_, i) => receiver.at(path(i))).flat();
  // A first crash warms the instance (its reads of the site and the machine, each webhook's
  // first delivery, which sets lastStatus), as a fleet's instances are warm.
  await agent.log("Warmup", 1);
  await agent.alert("Warmup", 1);
  await deliverAll();
  counting.take();
  return { siteId, counting, agent, deliverAll, received, tasks };
}

describe("a crash on the deployed agents' path (log doc + alert), first attempts warm", () => {
  it.each([
    [1, 4, 5],
    [3, 6, 7],
  ])("to %i webhook(s): at most %i reads and %i writes in either order, one delivery per webhook", async (webhooks, maxReads, maxWrites) => {
    const h = await setup(webhooks);
    const costs: { reads: number; writes: number }[] = [];
    for (const [i, order] of (["log first", "alert first"] as const).entries()) {
      const pid = 100 + i;
      if (order === "log first") {
        expect(await h.agent.log("TouchDesigner", pid)).toMatchObject([{ outcome: "emitted" }]);
        expect(await h.agent.alert("TouchDesigner", pid)).toMatchObject({ outcome: "duplicate" });
      } else {
        expect(await h.agent.alert("TouchDesigner", pid)).toMatchObject({ outcome: "emitted" });
        expect(await h.agent.log("TouchDesigner", pid)).toMatchObject([{ outcome: "duplicate" }]);
      }
      await h.deliverAll();
      costs.push(h.counting.take());
    }
    for (const cost of costs) {
      expect(cost.reads).toBeLessThanOrEqual(maxReads);
      expect(cost.writes).toBeLessThanOrEqual(maxWrites);
    }
    // The warm-up and the two crashes: three deliveries per webhook, each verified.
    expect(h.received()).toHaveLength(3 * webhooks);
    expect(h.received().every((d) => d.verified)).toBe(true);
  });

  it("a crash over its limit costs one read more than one that goes out (its flapping count): at most 5 reads and 4 writes, in either order", async () => {
    const h = await setup(1);
    // One process per order, each at its limit, so that neither refused crash is the one that makes it flapping.
    for (const name of ["Looping0", "Looping1"]) for (let pid = 200; pid < 200 + EMISSION_LIMITS.perProcess; pid++) await h.agent.log(name, pid);
    await h.deliverAll();
    h.counting.take();
    for (const [i, order] of (["log first", "alert first"] as const).entries()) {
      const pid = 300 + i;
      const sends = [() => h.agent.log(`Looping${i}`, pid), () => h.agent.alert(`Looping${i}`, pid)];
      for (const send of order === "log first" ? sends : sends.reverse()) await send();
      const cost = h.counting.take();
      // The claim (a create), the ledger read and its held-back count with the decision on the
      // claim (one commit: two writes); the other report's read of the claim (and a log doc's
      // pairing mark); the flapping count of the refused crash (one aggregation read).
      expect(cost.reads).toBeLessThanOrEqual(5);
      expect(cost.writes).toBeLessThanOrEqual(4);
    }
    expect(h.tasks).toHaveLength(0);
    const ledger = readLedger((await base.db.doc(paths.emissionLedger(h.siteId)).get()).data());
    for (const name of ["Looping0", "Looping1"]) expect(ledger?.pending[ledgerKey(`process|GALLERY-PC1|${name}`)]?.n).toBe(1);
  });

  it("the two reports racing: one event, one delivery, no transaction run twice", async () => {
    const h = await setup(1);
    const before = { ...h.counting.tx };
    const [logged, alerted] = await Promise.all([h.agent.log("TouchDesigner", 200), h.agent.alert("TouchDesigner", 200)]);
    expect([logged[0]?.outcome, alerted.outcome].sort()).toEqual(["duplicate", "emitted"]);
    await h.deliverAll();
    expect(h.counting.tx.bodies - before.bodies).toBe(h.counting.tx.transactions - before.transactions);
    expect(h.received()).toHaveLength(2);
  });

  it("a flood of 100 crashes of one process, both reports each, 10 at a time: exactly the limit out, the rest counted once", async () => {
    const h = await setup(1);
    for (let start = 0; start < 100; start += 10) {
      await Promise.all(Array.from({ length: 10 }, (_, k) => 1_000 + start + k).flatMap((pid) => [h.agent.log("Flood", pid), h.agent.alert("Flood", pid)]));
    }
    await h.deliverAll();
    const flood = h.received().filter((d) => d.payload?.data?.processName === "Flood");
    // The limit's crashes, then the loop told once (process.flapping); the rest held back.
    expect(flood.filter((d) => d.payload?.event === "process.crashed")).toHaveLength(EMISSION_LIMITS.perProcess);
    expect(flood.filter((d) => d.payload?.event === "process.flapping")).toHaveLength(1);
    expect(flood).toHaveLength(EMISSION_LIMITS.perProcess + 1);
    const ledger = readLedger((await base.db.doc(paths.emissionLedger(h.siteId)).get()).data());
    expect(ledger?.pending[ledgerKey("process|GALLERY-PC1|Flood")]?.n).toBe(100 - EMISSION_LIMITS.perProcess);
  }, 120_000);

  it("30 processes of one machine crashing at once: exactly its limit out, every decision racing on the ledger", async () => {
    const h = await setup(1);
    const outcomes = await Promise.all(Array.from({ length: 30 }, (_, i) => h.agent.log(`Proc${i}`, 2_000 + i)));
    await h.deliverAll();
    // The warm-up crash was one of the machine's 20.
    expect(outcomes.filter(([o]) => o?.outcome === "emitted")).toHaveLength(EMISSION_LIMITS.perMachine - 1);
    expect(h.received().filter((d) => String(d.payload?.data?.processName).startsWith("Proc"))).toHaveLength(EMISSION_LIMITS.perMachine - 1);
  }, 60_000);
});
