import { parseAgentDoc, processDocSchema, type ProcessDoc } from "../../src/domain/agent-docs";
import { detectProcessEvents } from "../../src/domain/detect-process-events";
import { PAYLOAD_TEXT_LIMIT } from "../../src/domain/detected-event";

const ids = { machineId: "DESKTOP-ABC123", processId: "p1" };
const proc = (fields: Record<string, unknown>): ProcessDoc => processDocSchema.parse(fields);

describe("detectProcessEvents", () => {
  const running = proc({ name: "TouchDesigner", status: "running", pid: 4242 });

  it("emits process.crashed when status becomes crashed", () => {
    const crashed = proc({ name: "TouchDesigner", status: "crashed", exitCode: -1073741819 });
    expect(detectProcessEvents(running, crashed, ids)).toEqual([
      {
        type: "process.crashed",
        machineId: "DESKTOP-ABC123",
        machineName: undefined,
        fields: {
          processName: "TouchDesigner",
          errorMessage: "Process exited with code -1073741819",
          exitCode: -1073741819,
          processId: "p1",
        },
        // Limits count by the process doc; the message tells two crashes apart.
        subject: "p1",
        content: "Process exited with code -1073741819",
      },
    ]);
  });

  it("prefers the agent's own error message", () => {
    const crashed = proc({ name: "TouchDesigner", status: "crashed", errorMessage: "GPU lost" });
    expect(detectProcessEvents(running, crashed, ids)[0]?.fields.errorMessage).toBe("GPU lost");
  });

  it("clips long error messages in the payload", () => {
    const crashed = proc({ name: "TD", status: "crashed", errorMessage: "x".repeat(10_000) });
    const message = detectProcessEvents(running, crashed, ids)[0]?.fields.errorMessage as string;
    expect(message).toHaveLength(PAYLOAD_TEXT_LIMIT);
    expect(message.endsWith("…")).toBe(true);
  });

  it("does not re-emit while the process stays crashed", () => {
    const crashed = proc({ name: "TD", status: "crashed" });
    expect(detectProcessEvents(crashed, { ...crashed, pid: 1 }, ids)).toEqual([]);
  });

  it("emits nothing for other transitions or a deletion", () => {
    expect(detectProcessEvents(running, proc({ name: "TD", status: "stopped" }), ids)).toEqual([]);
    expect(detectProcessEvents(running, null, ids)).toEqual([]);
  });

  it("emits for a process doc created as crashed", () => {
    expect(detectProcessEvents(null, proc({ name: "TD", status: "crashed" }), ids)).toHaveLength(1);
  });
});

describe("parseAgentDoc", () => {
  it.each([
    ["a status of the wrong type", { name: "TD", status: 3 }],
    ["a missing status", { name: "TD" }],
    ["a missing name", { status: "crashed" }],
    ["a huge name", { name: "n".repeat(300), status: "crashed" }],
    ["a huge error message", { name: "TD", status: "crashed", errorMessage: "e".repeat(20_000) }],
    ["a non-integer exit code", { name: "TD", status: "crashed", exitCode: "boom" }],
    ["an array instead of a doc", ["crashed"]],
  ])("refuses a process doc with %s", (_label, data) => {
    const parsed = parseAgentDoc(processDocSchema, data);
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) expect(parsed.problems.length).toBeGreaterThan(0);
  });

  it("treats an absent doc as null", () => {
    expect(parseAgentDoc(processDocSchema, undefined)).toEqual({ ok: true, value: null });
  });
});
