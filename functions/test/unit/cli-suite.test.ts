import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { rememberDemoKey, runningSuites, useRunningSuite } from "../../../scripts/cli/suite";

// The CLI beside `npm start`: the suite describes itself in a file, the CLI finds it.
const VARS = ["GCLOUD_PROJECT", "FIRESTORE_EMULATOR_HOST", "FUNCTIONS_EMULATOR_ORIGIN", "CLOUD_TASKS_EMULATOR_HOST", "FIREBASE_AUTH_EMULATOR_HOST"];
let saved: Record<string, string | undefined>;
beforeEach(() => {
  saved = Object.fromEntries(VARS.map((v) => [v, process.env[v]]));
  for (const v of VARS) delete process.env[v];
});
afterEach(() => {
  for (const v of VARS) {
    if (saved[v] === undefined) delete process.env[v];
    else process.env[v] = saved[v];
  }
});

function suitesDir(files: Record<string, object>) {
  const dir = mkdtempSync(join(tmpdir(), "suites-"));
  for (const [name, content] of Object.entries(files)) writeFileSync(join(dir, name), JSON.stringify(content));
  return dir;
}
const env = (port: number, project: string) => ({
  GCLOUD_PROJECT: project,
  FIRESTORE_EMULATOR_HOST: `127.0.0.1:${port}`,
  FUNCTIONS_EMULATOR_ORIGIN: `http://127.0.0.1:${port + 1}`,
});
const DEAD_PID = 2 ** 22 + 12_345; // above Linux's pid_max default: never running

describe("the CLI finds a running emulator suite", () => {
  it("uses npm start's suite when nothing is set, and its demo key", () => {
    const dir = suitesDir({
      "demo-owlette-test.json": { project: "demo-owlette-test", pid: process.pid, env: env(7000, "demo-owlette-test") },
      "demo-owlette.json": { project: "demo-owlette", pid: process.pid, env: env(8000, "demo-owlette"), demo: { apiKey: "owk_x", siteId: "s" } },
    });
    const suite = useRunningSuite(["node", "cli", "webhooks", "list"], dir);
    expect(suite?.demo?.apiKey).toBe("owk_x");
    expect(process.env.FIRESTORE_EMULATOR_HOST).toBe("127.0.0.1:8000");
    expect(process.env.GCLOUD_PROJECT).toBe("demo-owlette");
  });

  it("ignores a suite whose process is gone, and leaves explicit choices alone", () => {
    const dir = suitesDir({ "demo-owlette.json": { project: "demo-owlette", pid: DEAD_PID, env: env(8000, "demo-owlette") } });
    expect(runningSuites(dir)).toEqual([]);
    expect(useRunningSuite(["node", "cli"], dir)).toBeNull();
    const live = suitesDir({ "demo-owlette.json": { project: "demo-owlette", pid: process.pid, env: env(8000, "demo-owlette") } });
    // A real project: never pointed at the emulator.
    expect(useRunningSuite(["node", "cli", "webhooks", "migrate", "--project", "my-prod"], live)).toBeNull();
    expect(process.env.FIRESTORE_EMULATOR_HOST).toBeUndefined();
    // Variables already set win.
    process.env.FIRESTORE_EMULATOR_HOST = "127.0.0.1:9999";
    expect(useRunningSuite(["node", "cli"], live)).toBeNull();
    expect(process.env.FIRESTORE_EMULATOR_HOST).toBe("127.0.0.1:9999");
  });

  it("the demo's key is written into its own suite's file", () => {
    const dir = suitesDir({ "demo-owlette.json": { project: "demo-owlette", pid: process.pid, env: env(8000, "demo-owlette") } });
    process.env.GCLOUD_PROJECT = "demo-owlette";
    expect(rememberDemoKey("owk_demo", "site-1", dir)).toBe(true);
    delete process.env.GCLOUD_PROJECT;
    expect(runningSuites(dir)[0]?.demo).toEqual({ apiKey: "owk_demo", siteId: "site-1" });
    process.env.GCLOUD_PROJECT = "demo-other";
    expect(rememberDemoKey("owk_demo", "site-1", dir)).toBe(false);
  });
});
