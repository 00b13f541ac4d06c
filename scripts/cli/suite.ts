import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

/** Where a running emulator suite (scripts/emulators.mjs) describes itself, one file per project. */
export const SUITES_DIR = join(__dirname, "..", "..", ".cache", "suites");

export interface SuiteFile {
  project: string;
  pid: number;
  env: Record<string, string>;
  /** Written by the demo (`npm start`): a write key for its demo site. */
  demo?: { apiKey: string; siteId: string };
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** The running suites, `npm start`'s (demo-owlette) first. */
export function runningSuites(dir = SUITES_DIR): SuiteFile[] {
  if (!existsSync(dir)) return [];
  const suites: SuiteFile[] = [];
  for (const name of readdirSync(dir)) {
    if (!name.endsWith(".json")) continue;
    try {
      const suite = JSON.parse(readFileSync(join(dir, name), "utf8")) as SuiteFile;
      if (typeof suite.pid === "number" && alive(suite.pid) && suite.env) suites.push(suite);
    } catch {
      // A file being written, or left by a killed suite: not a running one.
    }
  }
  return suites.sort((a, b) => Number(b.project === "demo-owlette") - Number(a.project === "demo-owlette"));
}

/**
 * Points this process at a running suite when nothing else was chosen: no emulator variables
 * set, and no `--project` naming a real project. Returns the suite used, if any.
 */
export function useRunningSuite(argv: readonly string[], dir = SUITES_DIR): SuiteFile | null {
  const i = argv.indexOf("--project");
  const project = i >= 0 ? argv[i + 1] : argv.find((a) => a.startsWith("--project="))?.slice("--project=".length);
  if (project && !project.startsWith("demo-")) return null;
  if (process.env.FIRESTORE_EMULATOR_HOST || process.env.FUNCTIONS_EMULATOR_ORIGIN) return null;
  const suite = runningSuites(dir).find((s) => !project || s.project === project);
  if (!suite) return null;
  for (const [name, value] of Object.entries(suite.env)) process.env[name] ??= value;
  return suite;
}

/** The demo's API key, kept in its suite's file for the CLI (the file goes with the suite). */
export function rememberDemoKey(apiKey: string, siteId: string, dir = SUITES_DIR): boolean {
  const file = join(dir, `${process.env.GCLOUD_PROJECT}.json`);
  try {
    const suite = JSON.parse(readFileSync(file, "utf8")) as SuiteFile;
    writeFileSync(file, JSON.stringify({ ...suite, demo: { apiKey, siteId } }, null, 2));
    return true;
  } catch {
    return false;
  }
}
