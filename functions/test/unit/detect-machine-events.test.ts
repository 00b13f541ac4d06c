import { machineDocSchema, parseAgentDoc, type MachineDoc } from "../../src/domain/agent-docs";
import { detectMachineEvents } from "../../src/domain/detect-machine-events";

const ts = (ms: number) => ({ toMillis: () => ms });
const T0 = Date.parse("2026-03-22T10:00:00Z");

function doc(fields: Record<string, unknown>): MachineDoc {
  const parsed = parseAgentDoc(machineDocSchema, fields);
  if (!parsed.ok || !parsed.value) throw new Error(`bad fixture: ${JSON.stringify(parsed)}`);
  return parsed.value;
}

const online = doc({ online: true, lastHeartbeat: ts(T0), name: "Gallery PC 1", machineId: "m1" });

describe("detectMachineEvents", () => {
  it("emits nothing for an idle heartbeat", () => {
    const next = doc({ online: true, lastHeartbeat: ts(T0 + 30_000), name: "Gallery PC 1" });
    expect(detectMachineEvents(online, next, "m1")).toEqual([]);
  });

  it("emits nothing for the agent's own online: false, nor for a write still carrying the sweep's old mark fields", () => {
    // A clean stop is no outage, and offline / online are the sweep's to report (domain/presence.ts):
    // a machine doc marked by the old sweep must not page again or answer its mark from here.
    const shutdown = doc({ online: false, lastHeartbeat: ts(T0), name: "Gallery PC 1" });
    expect(detectMachineEvents(online, shutdown, "m1")).toEqual([]);
    const oldMark = { offlineReason: "heartbeat_stale", offlineSince: ts(T0 + 200_000) };
    const markedByOldSweep = doc({ online: false, lastHeartbeat: ts(T0), name: "Gallery PC 1", ...oldMark });
    const backWithOldMark = doc({ online: true, lastHeartbeat: ts(T0 + 400_000), name: "Gallery PC 1", ...oldMark });
    // The schema no longer knows the fields: they are dropped on parse, not read.
    expect(markedByOldSweep).not.toHaveProperty("offlineReason");
    expect(markedByOldSweep).not.toHaveProperty("offlineSince");
    expect(detectMachineEvents(online, markedByOldSweep, "m1")).toEqual([]);
    expect(detectMachineEvents(null, markedByOldSweep, "m1")).toEqual([]);
    expect(detectMachineEvents(markedByOldSweep, backWithOldMark, "m1")).toEqual([]);
    expect(detectMachineEvents(backWithOldMark, shutdown, "m1")).toEqual([]);
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
