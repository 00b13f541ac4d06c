import { spawn } from "node:child_process";
import { join } from "node:path";
import { buildSync } from "esbuild";

const root = join(__dirname, "..", "..", "..");

/**
 * The CLI as `npm run cli` runs it, compiled once per test file with esbuild (what tsx compiles
 * it with) instead of on every run: a run then loads one file, about a second sooner. The bundle
 * sits two levels under the root, as the CLI's sources do, so their paths relative to
 * `__dirname` (the functions folder, the suites folder) resolve the same; packages stay outside it.
 */
const BUNDLE = join(root, ".cache", "cli-test", "cli.cjs");
let bundled = false;
function cliBundle(): string {
  if (!bundled) {
    buildSync({
      entryPoints: [join(root, "scripts", "cli.ts")],
      bundle: true,
      platform: "node",
      format: "cjs",
      packages: "external",
      outfile: BUNDLE,
      logLevel: "warning",
    });
    bundled = true;
  }
  return BUNDLE;
}

/** Runs the operator CLI as a user runs it, a separate process; asynchronously, so this process's receiver keeps answering. */
export function runCli(args: string[], env: Record<string, string | undefined> = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [cliBundle(), ...args], { cwd: root, env: { ...process.env, ...env } });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (b: Buffer) => (stdout += b.toString()));
    child.stderr.on("data", (b: Buffer) => (stderr += b.toString()));
    const timer = setTimeout(() => child.kill("SIGKILL"), 60_000);
    child.on("error", reject);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}
