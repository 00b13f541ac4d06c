import { machineDocSchema, parseAgentDoc, type MachineDoc } from "../../src/domain/agent-docs";
import { detectMachineEvents, hasLeftoverStaleMark, STALE_REASON } from "../../src/domain/detect-machine-events";

const ts = (ms: number) => ({ toMillis: () => ms });
const T0 = Date.parse("2026-03-22T10:00:00Z");

function doc(fields: Record<string, unknown>): MachineDoc {
  const parsed = parseAgentDoc(machineDocSchema, fields);
  if (!parsed.ok || !parsed.value) throw new Error(`bad fixture: ${JSON.stringify(parsed)}`);
  return parsed.value;
}

const online = doc({ online: true, lastHeartbeat: ts(T0), name: "Gallery PC 1", machineId: "m1" });
const markedStale = doc({
  online: false,
  lastHeartbeat: ts(T0),
  name: "Gallery PC 1",
  offlineReason: STALE_REASON,
  offlineSince: ts(T0 + 200_000),
});

describe("detectMachineEvents", () => {
  it("emits nothing for an idle heartbeat", () => {
    const next = doc({ online: true, lastHeartbeat: ts(T0 + 30_000), name: "Gallery PC 1" });
    expect(detectMachineEvents(online, next, "m1")).toEqual([]);
  });

  it("emits machine.offline when the sweep marks a machine stale", () => {
    const events = detectMachineEvents(online, markedStale, "m1");
    expect(events).toEqual([
      {
        type: "machine.offline",
        machineId: "m1",
        machineName: "Gallery PC 1",
        fields: {
          reason: STALE_REASON,
          lastHeartbeat: new Date(T0).toISOString(),
          offlineSince: new Date(T0 + 200_000).toISOString(),
        },
        // One occurrence per mark, named by its instant, dated at it.
        subject: "presence",
        content: `offline:${T0 + 200_000}`,
        occurredAt: new Date(T0 + 200_000),
      },
    ]);
  });

  it("emits a new machine.offline when the sweep marks a still-marked machine again (a held page come due)", () => {
    const remarked = doc({ ...markedStale, offlineSince: ts(T0 + 3_600_000) });
    expect(detectMachineEvents(markedStale, remarked, "m1")).toMatchObject([{ type: "machine.offline", content: `offline:${T0 + 3_600_000}` }]);
    expect(detectMachineEvents(markedStale, doc({ ...markedStale, lastHeartbeat: ts(T0) }), "m1")).toEqual([]);
  });

  it("emits machine.online naming the machine.offline it answers, the same one the mark emitted", () => {
    const back = doc({ online: true, lastHeartbeat: ts(T0 + 400_000), name: "Gallery PC 1", offlineReason: STALE_REASON, offlineSince: ts(T0 + 200_000) });
    const [online] = detectMachineEvents(markedStale, back, "m1");
    const [offline] = detectMachineEvents(null, markedStale, "m1");
    expect(online).toMatchObject({ type: "machine.online", subject: "presence", content: `online:${T0 + 200_000}` });
    expect(online?.answers).toEqual(offline);
  });

  it("emits nothing when the agent shuts down cleanly", () => {
    const shutdown = doc({ online: false, lastHeartbeat: ts(T0), name: "Gallery PC 1" });
    expect(detectMachineEvents(online, shutdown, "m1")).toEqual([]);
  });

  it("emits nothing for a clean shutdown that races the clearing of an old stale mark", () => {
    const backWithOldMark = doc({
      online: true,
      lastHeartbeat: ts(T0 + 300_000),
      offlineReason: STALE_REASON,
      offlineSince: ts(T0 + 200_000),
    });
    const shutdown = doc({
      online: false,
      lastHeartbeat: ts(T0 + 300_000),
      offlineReason: STALE_REASON,
      offlineSince: ts(T0 + 200_000),
    });
    expect(detectMachineEvents(backWithOldMark, shutdown, "m1")).toEqual([]);
  });

  it("does not re-emit machine.offline on later writes to a stale machine", () => {
    const touched = doc({ ...markedStale, agent_version: "2.1.0" });
    expect(detectMachineEvents(markedStale, touched, "m1")).toEqual([]);
  });

  it("emits machine.online when a stale machine heartbeats again", () => {
    const back = doc({ ...markedStale, online: true, lastHeartbeat: ts(T0 + 400_000) });
    const events = detectMachineEvents(markedStale, back, "m1");
    expect(events.map((e) => e.type)).toEqual(["machine.online"]);
    expect(events[0]?.fields).toEqual({
      offlineSince: new Date(T0 + 200_000).toISOString(),
      lastHeartbeat: new Date(T0 + 400_000).toISOString(),
    });
    expect(hasLeftoverStaleMark(back)).toBe(true);
  });

  it("does not emit machine.online for an agent restart after a clean shutdown", () => {
    const shutdown = doc({ online: false, lastHeartbeat: ts(T0) });
    const back = doc({ online: true, lastHeartbeat: ts(T0 + 60_000) });
    expect(detectMachineEvents(shutdown, back, "m1")).toEqual([]);
    expect(hasLeftoverStaleMark(back)).toBe(false);
  });

  it("emits connection_failure with the agent's error code and message, once", () => {
    const failing = doc({
      ...online,
      health: { status: "connection_failure", error_code: "FIRESTORE_UNAVAILABLE", error_message: "Deadline exceeded" },
    });
    expect(detectMachineEvents(online, failing, "m1")).toEqual([
      {
        type: "connection_failure",
        machineId: "m1",
        machineName: "Gallery PC 1",
        fields: { errorCode: "FIRESTORE_UNAVAILABLE", errorMessage: "Deadline exceeded" },
        subject: "connection",
        content: "FIRESTORE_UNAVAILABLE|Deadline exceeded",
      },
    ]);
    const stillFailing = doc({ ...failing, lastHeartbeat: ts(T0 + 30_000) });
    expect(detectMachineEvents(failing, stillFailing, "m1")).toEqual([]);
  });

  it("emits for a doc created already failing, and nothing for a deletion", () => {
    const failing = doc({ health: { status: "connection_failure" } });
    expect(detectMachineEvents(null, failing, "m1").map((e) => e.type)).toEqual(["connection_failure"]);
    expect(detectMachineEvents(failing, null, "m1")).toEqual([]);
  });

  it("falls back to the machine id when the machine has no name", () => {
    const failing = doc({ health: { status: "connection_failure", error_code: 7 } });
    const [event] = detectMachineEvents(null, failing, "DESKTOP-ABC123");
    expect(event?.machineName).toBeUndefined();
    expect(event?.fields).toEqual({ errorCode: 7, errorMessage: "Connection failure" });
  });
});

describe("machine doc announcements", () => {
  it("reads deployed agents' reboot flags, and never drops a doc for a malformed one", () => {
    expect(doc({ online: true, rebooting: true, rebootScheduledAt: 1_774_173_630 })).toMatchObject({ rebooting: true, rebootScheduledAt: 1_774_173_630 });
    expect(doc({ online: true, rebooting: "yes", rebootScheduledAt: "soon" })).toMatchObject({ rebooting: false, rebootScheduledAt: null });
    expect(doc({ online: true, shuttingDown: null, shutdownScheduledAt: null })).toMatchObject({ shuttingDown: false, shutdownScheduledAt: null });
  });
});
