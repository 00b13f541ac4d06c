import { spawn } from "node:child_process";
import { join } from "node:path";

const root = join(__dirname, "..", "..", "..");
const tsx = join(root, "node_modules", ".bin", "tsx");

/** Runs the operator CLI as a user runs it, a separate process; asynchronously, so this process's receiver keeps answering. */
export function runCli(args: string[], env: Record<string, string | undefined> = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(tsx, [join(root, "scripts", "cli.ts"), ...args], { cwd: root, env: { ...process.env, ...env } });
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
