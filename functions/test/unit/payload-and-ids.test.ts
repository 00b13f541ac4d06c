import { deliveryIdFor, eventIdFor, taskIdFor } from "../../src/domain/ids";
import { buildPayload, formatTimestamp, serializePayload } from "../../src/domain/payload";

describe("ids", () => {
  it("derives the same ids from the same trigger event, and different ones otherwise", () => {
    const a = eventIdFor("trigger-1", "process.crashed");
    expect(eventIdFor("trigger-1", "process.crashed")).toBe(a);
    expect(eventIdFor("trigger-2", "process.crashed")).not.toBe(a);
    expect(eventIdFor("trigger-1", "connection_failure")).not.toBe(a);
    expect(a).toMatch(/^evt_[0-9a-f]{32}$/);
    expect(deliveryIdFor(a, "wh1")).toBe(deliveryIdFor(a, "wh1"));
    expect(deliveryIdFor(a, "wh1")).not.toBe(deliveryIdFor(a, "wh2"));
    expect(taskIdFor(deliveryIdFor(a, "wh1"), 3)).toMatch(/^dlv_[0-9a-f]{32}-3$/);
  });
});

describe("payload", () => {
  it("builds the Owlette format with an id, in the documented key order", () => {
    const payload = buildPayload({
      id: "evt_1",
      occurredAt: new Date("2026-03-22T10:30:00.123Z"),
      site: { id: "nyc-office", name: "NYC Office" },
      detected: {
        type: "process.crashed",
        machineId: "DESKTOP-ABC123",
        machineName: "Gallery PC 1",
        fields: { processName: "TouchDesigner", errorMessage: "Process exited with code -1073741819" },
      },
    });
    expect(serializePayload(payload)).toBe(
      '{"id":"evt_1","event":"process.crashed","timestamp":"2026-03-22T10:30:00Z",' +
        '"site":{"id":"nyc-office","name":"NYC Office"},' +
        '"data":{"machineId":"DESKTOP-ABC123","machineName":"Gallery PC 1","processName":"TouchDesigner",' +
        '"errorMessage":"Process exited with code -1073741819"}}',
    );
  });

  it("uses the machine id when no name is known", () => {
    const payload = buildPayload({
      id: "evt_2",
      occurredAt: new Date(0),
      site: { id: "s", name: "S" },
      detected: { type: "machine.offline", machineId: "m9", fields: {} },
    });
    expect(payload.data).toEqual({ machineId: "m9", machineName: "m9" });
    expect(formatTimestamp(new Date(0))).toBe("1970-01-01T00:00:00Z");
  });
});
