import { readHostReport, type HostReport } from "../../src/domain/host-report";
import { processEvent } from "../../src/domain/detect-process-events";

// What the host's sender hands over (its calls, as its routes make them) and the event each becomes.

const machine = { id: "KIOSK-01", name: "KIOSK-01" };
const report = (event: string, data: Record<string, unknown>): HostReport => ({ event, siteName: "Gallery", data });
const eventOf = (r: HostReport) => {
  const reading = readHostReport(r);
  if (reading.kind !== "event") throw new Error(`expected an event, got ${JSON.stringify(reading)}`);
  return reading.event;
};

describe("the host's reports", () => {
  it("a crash meets the agent's own report of it: the same fields, so the same occurrence", () => {
    const details = "Process stopped unexpectedly (PID 4242 no longer running)";
    const e = eventOf(report("process.crashed", { machine, process: { name: "TouchDesigner", error: details } }));
    const fromLog = processEvent({ type: "process.crashed", machineId: "KIOSK-01", processName: "TouchDesigner", errorMessage: details });
    expect(e).toEqual(fromLog);
  });

  it("process.restarted is a start failure; the host's empty error is the agent's missing one", () => {
    const e = eventOf(report("process.restarted", { machine, process: { name: "Unity", error: "" } }));
    expect(e).toEqual(processEvent({ type: "process.start_failed", machineId: "KIOSK-01", processName: "Unity", errorMessage: null }));
  });

  it("machine.offline is a connection failure from the alert route, and the sweep's own business from the offline check", () => {
    expect(eventOf(report("machine.offline", { machine })).type).toBe("connection_failure");
    expect(eventOf(report("machine.offline", { machine: { ...machine, lastSeen: null } })).type).toBe("connection_failure");
    expect(readHostReport(report("machine.offline", { machine: { ...machine, lastSeen: "2026-12-07T10:00:00Z" } })).kind).toBe("own");
    expect(readHostReport(report("machine.online", { machine })).kind).toBe("own");
  });

  it("threshold and display events carry the host's data; subjects per rule and per kind and monitor", () => {
    const alert = { ruleName: "CPU hot", metric: "cpu", value: 97, threshold: 90, operator: ">", severity: "warning" };
    const t = eventOf(report("threshold.breached", { machine, alert }));
    expect(t).toMatchObject({ type: "threshold.breached", machineId: "KIOSK-01", fields: { alert }, subject: "threshold:CPU hot" });
    expect(t.fields).not.toHaveProperty("machine");
    const monitor = { friendlyName: "DELL", edidHash: "e1" };
    const removed = eventOf(report("display.monitor_removed", { machine, monitor }));
    const added = eventOf(report("display.monitor_added", { machine, monitor }));
    expect(removed.subject).not.toBe(added.subject);
    expect(removed.fields).toEqual({ monitor });
    // Two reports of the same data are the same content: replays are recognised by the report id.
    expect(eventOf(report("display.drift", { machine, monitor })).content).toBe(eventOf(report("display.drift", { machine, monitor })).content);
  });

  it("refuses what the drop-in would have refused, naming the field", () => {
    expect(readHostReport(report("display.unplugged", { machine }))).toMatchObject({
      kind: "invalid",
      path: "event",
      reason: expect.stringContaining('unknown event "display.unplugged"'),
    });
    expect(readHostReport(report("process.crashed", { machine: { name: "x" } }))).toMatchObject({ kind: "invalid", path: "data.machine.id" });
    expect(readHostReport(report("process.crashed", { machine: { id: "a/b" } }))).toMatchObject({ kind: "invalid", path: "data.machine.id" });
    expect(readHostReport(report("process.crashed", { machine, process: {} }))).toMatchObject({ kind: "invalid", path: "data.process.name" });
  });
});
