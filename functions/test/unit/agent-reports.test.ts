import { agentAlertSchema, readAgentAlert } from "../../src/domain/agent-alert";
import { logDocSchema, parseAgentDoc, type LogDoc } from "../../src/domain/agent-docs";
import { detectLogEvents, DEFAULT_CRASH_MESSAGE } from "../../src/domain/detect-process-events";
import { occurrenceId } from "../../src/domain/emission-policy";

// What deployed Owlette agents report, as they report it: log docs and alert bodies.

const ts = { toMillis: () => Date.parse("2026-03-22T10:30:00Z") };
function log(fields: Record<string, unknown>): LogDoc {
  const parsed = parseAgentDoc(logDocSchema, { timestamp: ts, level: "error", machineId: "GALLERY-PC1", machineName: "GALLERY-PC1", ...fields });
  if (!parsed.ok || !parsed.value) throw new Error(`bad fixture: ${JSON.stringify(parsed)}`);
  return parsed.value;
}
const alert = (body: Record<string, unknown>) =>
  readAgentAlert(agentAlertSchema.parse({ siteId: "s", machineId: "GALLERY-PC1", agentVersion: "2.12.4", ...body }));
const DETAILS = "Process stopped unexpectedly (PID 4242 no longer running)";

describe("log docs", () => {
  it("a process_crash log is process.crashed: details as errorMessage, the screenshot when there is one, no invented exit code", () => {
    expect(detectLogEvents(log({ action: "process_crash", processName: "TouchDesigner", details: DETAILS, screenshotUrl: "https://s.example/c.png" }))).toEqual(
      [
        {
          type: "process.crashed",
          machineId: "GALLERY-PC1",
          machineName: undefined,
          fields: { processName: "TouchDesigner", errorMessage: DETAILS, screenshotUrl: "https://s.example/c.png" },
          subject: "TouchDesigner",
          content: DETAILS,
        },
      ],
    );
  });

  it("process_start_failed is process.start_failed", () => {
    const [event] = detectLogEvents(
      log({ action: "process_start_failed", processName: "Notch", details: "[WinError 2] The system cannot find the file specified" }),
    );
    expect(event).toMatchObject({
      type: "process.start_failed",
      fields: { processName: "Notch", errorMessage: "[WinError 2] The system cannot find the file specified" },
    });
    expect(event?.fields).not.toHaveProperty("exitCode");
  });

  it("without details the message is the agent's own default, as its alert says", () => {
    expect(detectLogEvents(log({ action: "process_crash", processName: "TD" }))[0]?.fields.errorMessage).toBe(DEFAULT_CRASH_MESSAGE);
  });

  it.each(["process_started", "process_killed", "agent_started", "deployment_started", "__proto__", "constructor", "toString"])(
    "%s is routine: no event",
    (action) => {
      expect(detectLogEvents(log({ action, processName: "TD", details: "d" }))).toEqual([]);
    },
  );

  it("a crash log without a process name has no event", () => {
    expect(detectLogEvents(log({ action: "process_crash", details: DETAILS }))).toEqual([]);
  });

  it("oversized or mistyped fields make the doc malformed, not an event", () => {
    expect(parseAgentDoc(logDocSchema, { action: "process_crash", machineId: "m", processName: "TD", details: "x".repeat(16 * 1024 + 1) }).ok).toBe(false);
    expect(parseAgentDoc(logDocSchema, { action: "process_crash", machineId: 42 }).ok).toBe(false);
  });
});

describe("agent alerts", () => {
  it("no eventType is a connection failure with the agent's code and message", () => {
    expect(alert({ errorCode: "connection_failure", errorMessage: "Waiting 23s before retry" })).toEqual({
      kind: "event",
      event: {
        type: "connection_failure",
        machineId: "GALLERY-PC1",
        machineName: undefined,
        fields: { errorCode: "connection_failure", errorMessage: "Waiting 23s before retry" },
        subject: "connection",
        content: "connection_failure|Waiting 23s before retry",
      },
    });
    expect(alert({ eventType: "connection_failure", errorCode: "fatal_error", errorMessage: "x" })).toMatchObject({
      kind: "event",
      event: { type: "connection_failure" },
    });
  });

  it("a connection failure needs its errorCode", () => {
    expect(alert({ errorMessage: "?" })).toEqual({ kind: "invalid", path: "errorCode", reason: expect.stringContaining("required") });
  });

  it("reboot_pending rides on the connection-failure shape but is not one", () => {
    expect(alert({ errorCode: "reboot_pending", errorMessage: "Reboot pending on GALLERY-PC1 (reasons: update)" })).toMatchObject({ kind: "ignored" });
  });

  it("process_crash and process_start_failed, with data or with older agents' top-level fields", () => {
    expect(alert({ eventType: "process_crash", data: { process_name: "TouchDesigner", error_message: DETAILS } })).toMatchObject({
      kind: "event",
      event: { type: "process.crashed", fields: { processName: "TouchDesigner", errorMessage: DETAILS } },
    });
    expect(alert({ eventType: "process_start_failed", processName: "Notch", errorMessage: "boom" })).toMatchObject({
      kind: "event",
      event: { type: "process.start_failed", fields: { processName: "Notch", errorMessage: "boom" } },
    });
  });

  it("a process alert needs a process name", () => {
    expect(alert({ eventType: "process_crash", data: { error_message: "x" } })).toEqual({
      kind: "invalid",
      path: "data.process_name",
      reason: "required for process_crash",
    });
  });

  it.each(["display_topology_changed", "exe_missing", "__proto__"])("%s is accepted without an event", (eventType) => {
    expect(alert({ eventType, data: {} })).toMatchObject({ kind: "ignored" });
  });

  it("a crash's log doc and its alert are the same occurrence; another crash is not", () => {
    const fromLog = detectLogEvents(log({ action: "process_crash", processName: "TouchDesigner", details: DETAILS }))[0];
    const fromAlert = alert({ eventType: "process_crash", data: { process_name: "TouchDesigner", error_message: DETAILS } });
    const other = alert({ eventType: "process_crash", data: { process_name: "TouchDesigner", error_message: DETAILS.replace("4242", "4243") } });
    if (!fromLog || fromAlert.kind !== "event" || other.kind !== "event") throw new Error("fixtures");
    expect(occurrenceId(fromAlert.event)).toBe(occurrenceId(fromLog));
    expect(occurrenceId(other.event)).not.toBe(occurrenceId(fromLog));
  });

  it("refuses bodies outside the limits", () => {
    expect(agentAlertSchema.safeParse({ siteId: "s", machineId: "m", errorCode: "E", errorMessage: "x".repeat(16 * 1024 + 1) }).success).toBe(false);
    expect(agentAlertSchema.safeParse({ siteId: "", machineId: "m" }).success).toBe(false);
    expect(agentAlertSchema.safeParse({ siteId: "s", machineId: "m", data: { process_name: 7 } }).success).toBe(false);
  });
});
