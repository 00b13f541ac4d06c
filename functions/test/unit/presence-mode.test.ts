import { presenceModeOf } from "../../src/domain/presence-mode";

// The presence mode decides, when the functions load, which functions exist. In the sweep mode
// no function may run on a heartbeat: nothing is triggered by a write to a machine doc except
// its delete.

describe("presenceModeOf", () => {
  it("is the trigger mode unless the sweep mode is named", () => {
    expect(presenceModeOf(undefined)).toBe("trigger");
    expect(presenceModeOf("")).toBe("trigger");
    expect(presenceModeOf("trigger")).toBe("trigger");
    expect(presenceModeOf(" sweep ")).toBe("sweep");
  });

  it("refuses any other value, naming the allowed ones, so a typo fails the deploy instead of choosing a mode", () => {
    expect(() => presenceModeOf("Sweep")).toThrow('PRESENCE_MODE must be one of trigger, sweep (got "Sweep")');
    expect(() => presenceModeOf("large")).toThrow(/trigger, sweep/);
  });
});

interface Endpoint {
  eventTrigger?: { eventType: string; eventFilterPathPatterns?: Record<string, string>; eventFilters?: Record<string, string> };
}

/** Each exported function's Firestore trigger, as the deploy reads it: `type document`. */
function firestoreTriggers(mode: string | undefined): string[] {
  const before = process.env.PRESENCE_MODE;
  if (mode === undefined) delete process.env.PRESENCE_MODE;
  else process.env.PRESENCE_MODE = mode;
  try {
    let exported: Record<string, unknown> = {};
    jest.isolateModules(() => {
      exported = require("../../src/index") as Record<string, unknown>;
    });
    return Object.entries(exported).flatMap(([name, fn]) => {
      const trigger = (fn as { __endpoint?: Endpoint } | undefined)?.__endpoint?.eventTrigger;
      const document = trigger?.eventFilterPathPatterns?.document ?? trigger?.eventFilters?.document;
      return trigger && document ? [`${name}: ${trigger.eventType.replace("google.cloud.firestore.document.v1.", "")} ${document}`] : [];
    });
  } finally {
    if (before === undefined) delete process.env.PRESENCE_MODE;
    else process.env.PRESENCE_MODE = before;
  }
}

const onMachines = (triggers: string[]) => triggers.filter((t) => t.endsWith(" sites/{siteId}/machines/{machineId}"));

describe("the functions each mode deploys", () => {
  it("the trigger mode: one function on every write to a machine doc", () => {
    expect(onMachines(firestoreTriggers(undefined))).toEqual(["onMachineWritten: written sites/{siteId}/machines/{machineId}"]);
    expect(onMachines(firestoreTriggers("trigger"))).toEqual(["onMachineWritten: written sites/{siteId}/machines/{machineId}"]);
  });

  it("the sweep mode: none on a heartbeat, one on a machine doc's delete; the other triggers are the same", () => {
    const sweep = firestoreTriggers("sweep");
    expect(onMachines(sweep)).toEqual(["onMachineDeleted: deleted sites/{siteId}/machines/{machineId}"]);
    const others = (list: string[]) => list.filter((t) => !onMachines([t]).length);
    expect(others(sweep)).toEqual(others(firestoreTriggers("trigger")));
    expect(others(sweep).length).toBeGreaterThan(3);
  });

  it("an unknown mode fails the load", () => {
    expect(() => firestoreTriggers("sweeep")).toThrow(/PRESENCE_MODE/);
  });
});
