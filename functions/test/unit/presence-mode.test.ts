import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { presenceModeOf } from "../../src/domain/presence-mode";
import { dotenvValue, loadPresenceMode } from "../../src/presence-mode-env";

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

describe("loadPresenceMode", () => {
  // `firebase deploy` loads the code to list its functions without the dotenv values in the
  // environment: the mode comes from the files, read as Firebase layers them.
  const dir = mkdtempSync(join(tmpdir(), "presence-mode-"));
  writeFileSync(join(dir, ".env"), "STALE_AFTER_SECONDS=210\nPRESENCE_MODE=trigger # the default\n");
  writeFileSync(join(dir, ".env.big-fleet"), 'PRESENCE_MODE="sweep"\n');
  writeFileSync(join(dir, ".env.local"), "PRESENCE_MODE=trigger\n");
  writeFileSync(join(dir, ".env.typo"), "PRESENCE_MODE=sweeep\n");

  it("reads .env, then .env.<project id>, then .env.local in the emulator only, the later winning", () => {
    expect(loadPresenceMode({}, dir)).toBe("trigger");
    expect(loadPresenceMode({ GCLOUD_PROJECT: "big-fleet" }, dir)).toBe("sweep");
    expect(loadPresenceMode({ GCLOUD_PROJECT: "big-fleet", FUNCTIONS_EMULATOR: "true" }, dir)).toBe("trigger");
    expect(loadPresenceMode({ GCLOUD_PROJECT: "other" }, dir)).toBe("trigger");
  });

  it("ignores the environment's own PRESENCE_MODE: deploy and the running functions read the same files", () => {
    expect(loadPresenceMode({ PRESENCE_MODE: "sweep" }, dir)).toBe("trigger");
  });

  it("fails on a value it does not know, and is the trigger mode without any file", () => {
    expect(() => loadPresenceMode({ GCLOUD_PROJECT: "typo" }, dir)).toThrow(/PRESENCE_MODE must be one of/);
    expect(loadPresenceMode({}, mkdtempSync(join(tmpdir(), "presence-mode-none-")))).toBe("trigger");
  });

  it("reads dotenv lines: quotes, comments, export, blanks, other keys", () => {
    expect(dotenvValue("A=1\nPRESENCE_MODE=sweep\n", "PRESENCE_MODE")).toBe("sweep");
    expect(dotenvValue("PRESENCE_MODE='sweep' # large fleet", "PRESENCE_MODE")).toBe("sweep");
    expect(dotenvValue("export PRESENCE_MODE = sweep", "PRESENCE_MODE")).toBe("sweep");
    expect(dotenvValue("# PRESENCE_MODE=sweep\nPRESENCE_MODES=x", "PRESENCE_MODE")).toBeUndefined();
    expect(dotenvValue("PRESENCE_MODE=", "PRESENCE_MODE")).toBe("");
  });
});

interface Endpoint {
  eventTrigger?: { eventType: string; eventFilterPathPatterns?: Record<string, string>; eventFilters?: Record<string, string> };
}

/** Each exported function's Firestore trigger, as the deploy reads it (`name: type document`), with the project's dotenv files. */
function firestoreTriggers(projectId: string): string[] {
  const before = process.env.GCLOUD_PROJECT;
  process.env.GCLOUD_PROJECT = projectId;
  try {
    let exported: Record<string, unknown> = {};
    // Loading index.ts again sets the global options again, which firebase-functions warns about.
    const warn = jest.spyOn(console, "warn").mockImplementation(() => undefined);
    jest.isolateModules(() => {
      exported = require("../../src/index") as Record<string, unknown>;
    });
    warn.mockRestore();
    return Object.entries(exported).flatMap(([name, fn]) => {
      const trigger = (fn as { __endpoint?: Endpoint } | undefined)?.__endpoint?.eventTrigger;
      const document = trigger?.eventFilterPathPatterns?.document ?? trigger?.eventFilters?.document;
      return trigger && document ? [`${name}: ${trigger.eventType.replace("google.cloud.firestore.document.v1.", "")} ${document}`] : [];
    });
  } finally {
    if (before === undefined) delete process.env.GCLOUD_PROJECT;
    else process.env.GCLOUD_PROJECT = before;
  }
}

const onMachines = (triggers: string[]) => triggers.filter((t) => t.endsWith(" sites/{siteId}/machines/{machineId}"));

describe("the functions each mode deploys", () => {
  // functions/.env says trigger; functions/.env.demo-owlette-fleet (the bench's second suite) says sweep.
  it("the trigger mode: one function on every write to a machine doc", () => {
    expect(onMachines(firestoreTriggers("demo-owlette-test"))).toEqual(["onMachineWritten: written sites/{siteId}/machines/{machineId}"]);
  });

  it("the sweep mode: none on a heartbeat, one on a machine doc's delete; the other triggers are the same", () => {
    const sweep = firestoreTriggers("demo-owlette-fleet");
    expect(onMachines(sweep)).toEqual(["onMachineDeleted: deleted sites/{siteId}/machines/{machineId}"]);
    const others = (list: string[]) => list.filter((t) => !onMachines([t]).length);
    expect(others(sweep)).toEqual(others(firestoreTriggers("demo-owlette-test")));
    expect(others(sweep).length).toBeGreaterThan(3);
  });
});
