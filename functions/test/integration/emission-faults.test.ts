import { EmissionStore } from "../../src/data/emission-store";
import { readLedger } from "../../src/data/ledger-doc";
import { ManagementStore } from "../../src/data/management-store";
import { paths } from "../../src/data/paths";
import { Store } from "../../src/data/store";
import type { DeliveryTask } from "../../src/delivery/task-queue";
import { processEvent } from "../../src/domain/detect-process-events";
import { ledgerKey } from "../../src/domain/emission-ledger";
import { EMISSION_LIMITS, occurrenceId } from "../../src/domain/emission-policy";
import { ingest } from "../../src/pipeline/ingest";
import { deployedAgent } from "../support/deployed-crash";
import { silentLog, startSuite, uniqueId } from "../support/emulator";
import type { Receiver } from "../../../scripts/lib/receiver";

// What becomes of a crash when the handling of one of its reports fails part way, or two
// handlers decide it at once: issue 22's emission path, over the emulator's Firestore.

let base: Store;
let receiver: Receiver;
beforeAll(async () => ({ store: base, receiver } = await startSuite()));
afterAll(() => receiver.stop());

/** A crash of one of the machine's processes, as the agent's log doc and alert both describe it. */
const crashOf = (processName: string, pid: number) =>
  processEvent({
    type: "process.crashed",
    machineId: "GALLERY-PC1",
    processName,
    errorMessage: `Process stopped unexpectedly (PID ${pid} no longer running)`,
  });

/** The report of a log doc, as its trigger gives it (a redelivered trigger gives the same). */
const logReport = (siteId: string, logId: string) => ({ siteId, channel: "log" as const, reportId: `sites/${siteId}/logs/${logId}`, at: new Date() });

async function setup() {
  const siteId = uniqueId("emitfault");
  await base.db.doc(paths.site(siteId)).set({ name: "Faults", owner: "o" });
  await new ManagementStore(base.db).createWebhook(siteId, { name: "Ops", url: "https://ops.example.com/in", events: ["process.crashed"], createdBy: "t" });
  const tasks: DeliveryTask[] = [];
  let failEnqueue = false;
  const deps = {
    store: new Store(base.db),
    emissions: new EmissionStore(base.db),
    enqueue: async (task: DeliveryTask) => {
      if (failEnqueue) throw new Error("Cloud Tasks unavailable");
      tasks.push(task);
      return "enqueued" as const;
    },
    log: silentLog,
    now: () => new Date(),
  };
  const held = async (processName: string) =>
    readLedger((await base.db.doc(paths.emissionLedger(siteId)).get()).data())?.pending[ledgerKey(`process|GALLERY-PC1|${processName}`)]?.n ?? 0;
  return { siteId, deps, tasks, agent: deployedAgent(siteId, "GALLERY-PC1", deps), held, failEnqueue: (on: boolean) => (failEnqueue = on) };
}

describe("a crash whose handling fails part way, or is decided twice at once", () => {
  it("an alert answered 503 after its event was stored: its resend enqueues the delivery, under the same id", async () => {
    const h = await setup();
    h.failEnqueue(true);
    expect(await h.agent.alert("TouchDesigner", 1)).toMatchObject({ status: 503 });
    h.failEnqueue(false);
    expect(h.tasks).toHaveLength(0);
    // The agent sends it again (30 s later, as Retry-After says): the event is not made again, its delivery goes out.
    expect(await h.agent.alert("TouchDesigner", 1)).toMatchObject({ outcome: "duplicate" });
    expect(h.tasks).toHaveLength(1);
    // And the log doc of the same crash: nothing more.
    expect(await h.agent.log("TouchDesigner", 1)).toMatchObject([{ outcome: "duplicate" }]);
    expect(h.tasks).toHaveLength(1);
    expect((await base.db.collection(`sites/${h.siteId}/events`).get()).size).toBe(1);
  });

  it("a claim whose handler died before deciding: the alert sent again decides it at once", async () => {
    const h = await setup();
    const crash = crashOf("TouchDesigner", 2);
    // The claim made, and nothing after it.
    await h.deps.emissions.claim(h.siteId, occurrenceId(crash), crash, {
      channel: "alert",
      reportId: null,
      at: new Date(),
      newEventId: "evt_claimed_then_died",
    });
    expect(await h.agent.alert("TouchDesigner", 2)).toMatchObject({ outcome: "duplicate", eventId: "evt_claimed_then_died" });
    expect(h.tasks.map((t) => t.eventId)).toEqual(["evt_claimed_then_died"]);
  });

  it("two handlers deciding one refused crash at once (a redelivered trigger beside the first): it is held back once", async () => {
    const h = await setup();
    for (let pid = 10; pid < 10 + EMISSION_LIMITS.perProcess; pid++) await h.agent.log("Loop", pid);
    expect(await h.held("Loop")).toBe(0);
    const crash = crashOf("Loop", 99);
    const report = logReport(h.siteId, "dup");
    const outcomes = await Promise.all([ingest(report, [crash], h.deps), ingest(report, [crash], h.deps), ingest(report, [crash], h.deps)]);
    expect(outcomes.flat().map((o) => o.decision)).toEqual(["suppressed", "suppressed", "suppressed"]);
    expect(await h.held("Loop")).toBe(1);
  });

  it("a crash the limit has one place left for, let out by its redelivered trigger while its claimant decides: it goes out, nothing is held back", async () => {
    const h = await setup();
    for (let pid = 10; pid < 10 + EMISSION_LIMITS.perProcess - 1; pid++) await h.agent.log("Edge", pid);
    // The claimant claims, then stops before deciding (a slow instance).
    let resume = () => {};
    const paused = new Promise<void>((r) => (resume = r));
    class PausedDecider extends EmissionStore {
      override async decide(...args: Parameters<EmissionStore["decide"]>) {
        await paused;
        return super.decide(...args);
      }
    }
    const crash = crashOf("Edge", 77);
    const report = logReport(h.siteId, "edge");
    const claimant = ingest(report, [crash], { ...h.deps, emissions: new PausedDecider(base.db) });
    const claim = base.db.doc(paths.occurrence(h.siteId, occurrenceId(crash)));
    for (let i = 0; i < 100 && !(await claim.get()).exists; i++) await new Promise((r) => setTimeout(r, 20));
    expect((await claim.get()).exists).toBe(true);
    // Meanwhile the trigger is redelivered: it finds the claim undecided, lets the event out and fills the limit.
    expect(await ingest(report, [crash], h.deps)).toMatchObject([{ decision: "emitted" }]);
    resume();
    // The claimant, reading the ledger now, finds the limit full: its refusal must not stand.
    expect(await claimant).toMatchObject([{ decision: "emitted", outcome: "duplicate" }]);
    expect(await h.held("Edge")).toBe(0);
    expect((await base.db.collection(`sites/${h.siteId}/events`).get()).size).toBe(EMISSION_LIMITS.perProcess);
  });

  it("two handlers deciding one crash that goes out, at once: one event, its deliveries enqueued under one id", async () => {
    const h = await setup();
    const crash = crashOf("Once", 5);
    const report = logReport(h.siteId, "once");
    await Promise.all([ingest(report, [crash], h.deps), ingest(report, [crash], h.deps)]);
    expect(new Set(h.tasks.map((t) => t.deliveryId)).size).toBe(1);
    const events = await base.db.collection(`sites/${h.siteId}/events`).get();
    expect(events.size).toBe(1);
    // Counted once: two more of the same process go out, the next is held.
    for (let pid = 6; pid < 9; pid++) await h.agent.log("Once", pid);
    expect(await h.held("Once")).toBe(1);
  });
});
