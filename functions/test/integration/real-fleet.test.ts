import { Timestamp } from "firebase-admin/firestore";
import { paths } from "../../src/data/paths";
import type { ManagementStore } from "../../src/data/management-store";
import type { Store } from "../../src/data/store";
import type { EventType } from "../../src/domain/event-catalog";
import { REGION } from "../../src/config";
import { EmissionStore } from "../../src/data/emission-store";
import { taskQueueEnqueue } from "../../src/delivery/task-queue";
import { FLAPPING } from "../../src/domain/flapping";
import { processEvent } from "../../src/domain/detect-process-events";
import { ingest } from "../../src/pipeline/ingest";
import type { Receiver } from "../../../scripts/lib/receiver";
import { suiteAgent } from "../../../scripts/lib/agent-auth";
import type { AgentProcess, OwletteAgent } from "../../../scripts/lib/owlette-agent";
import { clearOfHourTurn, silentLog, sleep, startSuite, uniqueId, waitFor } from "../support/emulator";
import { presenceOf, sweepFromScratch } from "../support/sweep";

// Deployed Owlette agents, unchanged: every write goes through the Firestore REST API with an
// ID token from the Auth emulator (claims as Owlette mints them), so the security rules apply;
// alerts go to the agent endpoint. The sweep runs with the production threshold (210 s): the
// silences below are made by moving the last heartbeat back, as four minutes without a beat
// would leave it.

jest.setTimeout(120_000);

const THRESHOLD_MS = 210_000;
let store: Store;
let manage: ManagementStore;
let receiver: Receiver;

beforeAll(async () => ({ store, manage, receiver } = await startSuite()));
// Exact per-hour counts: none of these tests spans an hour's turn.
beforeEach(() => clearOfHourTurn(), 60_000);
afterAll(() => receiver.stop());

const ALL: EventType[] = ["process.crashed", "process.start_failed", "machine.offline", "machine.online", "connection_failure"];

async function fleetSite() {
  const siteId = uniqueId("fleet");
  const path = `/fleet/${siteId}`;
  await store.db.doc(paths.site(siteId)).set({ name: "Gallery", owner: "o" });
  const { secret } = await manage.createWebhook(siteId, { name: "Ops", url: receiver.url(path), events: ALL, createdBy: "test" });
  receiver.register(path, secret);
  const received = () => receiver.at(path);
  const events = () => received().map((d) => `${d.payload?.event} ${d.payload?.data?.machineId}`);
  return { siteId, received, events };
}

const td: AgentProcess = { configId: "cfg-td", name: "TouchDesigner", status: "RUNNING", pid: 4242 };

/** A beat of the given cadence, `lateBy` seconds late: the last heartbeat as the sweep then finds it. */
async function silence(agent: OwletteAgent, seconds: number) {
  await store.db.doc(agent.machinePath).update({ lastHeartbeat: Timestamp.fromMillis(Date.now() - seconds * 1000) });
}

const sweep = () => sweepFromScratch(store, { staleAfterMs: THRESHOLD_MS });

describe("a real fleet, replayed", () => {
  it("delivers exactly one crash, one connection failure, offline then online, and nothing else", async () => {
    const site = await fleetSite();
    const [gallery, stage, kiosk, lobby, office] = await Promise.all(
      ["GALLERY-PC1", "STAGE-PC", "KIOSK-01", "LOBBY-PC", "OFFICE-PC"].map((m) => suiteAgent(site.siteId, m)),
    );
    const fleet = [gallery, stage, kiosk, lobby, office] as OwletteAgent[];
    // Start: presence, hardware profile, heartbeats (5 s GUI, 30 s running, 120 s idle cadences alike).
    for (const agent of fleet) {
      await agent.presence(true);
      await agent.uploadHardwareProfile();
      await agent.heartbeat({ processes: [td] });
      await agent.health("ok", "ok", "Connected to owlette cloud");
      await agent.heartbeat({ processes: [td], gpu: false });
    }
    const [g, s, k, l, o] = fleet as [OwletteAgent, OwletteAgent, OwletteAgent, OwletteAgent, OwletteAgent];

    // A crash: the log doc, the relaunch (status LAUNCHING), then the alert with the same message.
    const crash = await g.crash("TouchDesigner", 4242);
    await g.heartbeat({ processes: [{ ...td, status: "LAUNCHING", pid: 5150 }] });
    expect(crash.alert?.status).toBe(200);

    // A connection failure: Firestore unreachable, so only the alert.
    const failure = await s.sendConnectionFailureAlert("connection_failure", "Waiting 23s before retry");
    expect(failure?.status).toBe(200);

    // A clean stop: online false from the agent itself.
    await k.presence(false);

    // An announced reboot, then 4 minutes of silence: planned downtime, no page.
    await l.announceReboot(Math.floor(Date.now() / 1000) + 30);
    await silence(l, 240);

    // A death: 4 minutes of silence with nothing announced.
    await silence(o, 240);
    await sweep();
    // (The sweep covers every site of the suite; what matters here is which of these it marked.)
    const marks = async () =>
      Promise.all(fleet.map(async (a) => `${a.id.machineId} ${(await presenceOf(store, site.siteId, a.id.machineId))?.staleSince ? "stale" : "-"}`));
    expect(await marks()).toEqual(["GALLERY-PC1 -", "STAGE-PC -", "KIOSK-01 -", "LOBBY-PC -", "OFFICE-PC stale"]);
    // What the agents wrote is what the host's cron and dashboard read: the sweep wrote none of it.
    expect((await store.db.doc(o.machinePath).get()).get("online")).toBe(true);
    await waitFor("machine.offline", () => site.events().includes("machine.offline OFFICE-PC"));

    // The dead machine returns (presence, then a heartbeat); the rebooted one clears its flags.
    await o.presence(true);
    await o.heartbeat({ processes: [td] });
    await l.clearAnnouncements();
    await l.presence(true);
    await l.heartbeat();

    await waitFor("machine.online", () => site.events().includes("machine.online OFFICE-PC"));
    await sleep(4000);
    expect(site.events().sort()).toEqual(
      ["connection_failure STAGE-PC", "machine.offline OFFICE-PC", "machine.online OFFICE-PC", "process.crashed GALLERY-PC1"].sort(),
    );
    expect(site.events().indexOf("machine.offline OFFICE-PC")).toBeLessThan(site.events().indexOf("machine.online OFFICE-PC"));
    expect(site.received().every((d) => d.verified)).toBe(true);

    const crashed = site.received().find((d) => d.payload?.event === "process.crashed")?.payload?.data;
    expect(crashed).toEqual({
      machineId: "GALLERY-PC1",
      machineName: "GALLERY-PC1",
      processName: "TouchDesigner",
      errorMessage: crash.details,
    });
    const connection = site.received().find((d) => d.payload?.event === "connection_failure")?.payload?.data;
    expect(connection).toMatchObject({ machineId: "STAGE-PC", errorCode: "connection_failure", errorMessage: "Waiting 23s before retry" });
  });

  it("a machine that flaps is paged once an hour, and an outage held back is paged when the hour turns, never lost", async () => {
    const site = await fleetSite();
    const agent = await suiteAgent(site.siteId, "FLAPPY-PC");
    await agent.presence(true);
    await agent.heartbeat();
    const offlineAgain = async () => {
      await silence(agent, 240);
      await sweep();
    };
    await offlineAgain();
    await waitFor("the first outage", () => site.events().includes("machine.offline FLAPPY-PC"));
    await agent.presence(true);
    await waitFor("its end", () => site.events().includes("machine.online FLAPPY-PC"));
    // Down again within the hour: held back, and the hold is on the sweep's presence doc.
    await offlineAgain();
    const held = await waitFor("the held page", async () => (await presenceOf(store, site.siteId, "FLAPPY-PC"))?.dueAt);
    expect((held as Timestamp).toMillis() % 3_600_000).toBe(0);
    await sleep(2000);
    expect(site.events()).toEqual(["machine.offline FLAPPY-PC", "machine.online FLAPPY-PC"]);
    // The hour turns with the machine still silent (the hold is moved to now, as the clock
    // would): the next sweep marks it again, a new outage report for the new window (which the
    // emission-policy unit tests show is granted; here the clock has not really turned).
    const presence = store.db.doc(paths.presence(site.siteId, "FLAPPY-PC"));
    const before = (await presence.get()).get("staleSince") as Timestamp;
    await presence.update({ dueAt: Timestamp.fromMillis(Date.now() - 1000) });
    const swept = await sweep();
    expect(swept.remarked).toBeGreaterThanOrEqual(1);
    expect(((await presence.get()).get("staleSince") as Timestamp).toMillis()).toBeGreaterThan(before.toMillis());
    expect((await store.db.doc(agent.machinePath).get()).get("online")).toBe(true);
    // Back online, the hold goes with the mark.
    await agent.presence(true);
    await waitFor("the mark and hold cleared", async () => !(await presence.get()).exists);
  });

  it("one crash is one delivery whichever report comes first, a late resent alert included", async () => {
    const site = await fleetSite();
    const agent = await suiteAgent(site.siteId, "GALLERY-PC2");
    await agent.presence(true);
    // Alert first (the log write is slow), then the log doc.
    const details = "Process stopped unexpectedly (PID 777 no longer running)";
    expect((await agent.sendAlert("process_crash", { process_name: "Resolume", error_message: details }))?.status).toBe(200);
    await agent.logEvent("process_crash", "error", { processName: "Resolume", details });
    // Another crash whose alert fails (endpoint unreachable) and is queued, then resent on reconnect.
    const apiBase = agent.id.apiBase;
    agent.id.apiBase = "http://127.0.0.1:9/unreachable";
    const second = await agent.crash("Resolume", 778);
    expect(second.alert).toBeNull();
    expect(agent.pendingAlerts).toHaveLength(1);
    await waitFor("both crashes", () => site.received().length >= 2);
    agent.id.apiBase = apiBase;
    await agent.resendPendingAlerts();
    // And the same alert resent twice more (a lost answer looks like this to the agent).
    await agent.sendAlert("process_crash", { process_name: "Resolume", error_message: second.details });
    await sleep(4000);
    expect(
      site
        .received()
        .map((d) => d.payload?.data?.errorMessage)
        .sort(),
    ).toEqual([details, second.details].sort());
  });

  it("a crash reported only by alert (Firestore unreachable) is still delivered", async () => {
    const site = await fleetSite();
    const agent = await suiteAgent(site.siteId, "GALLERY-PC3");
    const crash = await agent.crash("Unreal", 9001, { connected: false });
    expect(crash.logId).toBeNull();
    await waitFor("the crash", () => site.received().length === 1);
    expect(site.received()[0]?.payload).toMatchObject({ event: "process.crashed", data: { processName: "Unreal", machineId: "GALLERY-PC3" } });
  });

  it("process_start_failed becomes process.start_failed", async () => {
    const site = await fleetSite();
    const agent = await suiteAgent(site.siteId, "GALLERY-PC4");
    await agent.startFailed("Notch", "[WinError 2] The system cannot find the file specified");
    await waitFor("the start failure", () => site.received().length === 1);
    await sleep(2000);
    expect(site.received()).toHaveLength(1);
    expect(site.received()[0]?.payload).toMatchObject({
      event: "process.start_failed",
      data: { processName: "Notch", errorMessage: "[WinError 2] The system cannot find the file specified" },
    });
  });

  it("a crash loop is limited to 3 an hour per machine and process; the next one out says how many were held back", async () => {
    const site = await fleetSite();
    const agent = await suiteAgent(site.siteId, "GALLERY-PC5");
    // Four crashes: one fewer than makes it flapping (that is test/integration/flapping.test.ts).
    for (let pid = 100; pid < 100 + FLAPPING.process.flaps - 1; pid++) await agent.crash("TouchDesigner", pid);
    await waitFor("three crashes", () => site.received().length >= 3);
    await sleep(3000);
    expect(site.received()).toHaveLength(3);
    // An hour later the process crashes again (its report handled as the trigger would, an hour on).
    const later = processEvent({
      type: "process.crashed",
      machineId: "GALLERY-PC5",
      processName: "TouchDesigner",
      errorMessage: "Process stopped unexpectedly (PID 200 no longer running)",
    });
    const deps = {
      store,
      emissions: new EmissionStore(store.db),
      enqueue: taskQueueEnqueue(REGION),
      log: silentLog,
      now: () => new Date(Date.now() + 3_600_000),
    };
    await ingest({ siteId: site.siteId, channel: "log", reportId: uniqueId("later"), at: deps.now() }, [later], deps);
    await waitFor("the crash an hour later", () => site.received().length === 4);
    // The one held back is reported once, by the event that went out after it.
    const reported = site.received().reduce((n, d) => n + Number(d.payload?.data?.suppressed ?? 0), 0);
    expect(reported).toBe(1);
    expect(site.received()[3]?.payload?.data?.suppressed).toBeGreaterThan(0);
  });
});
