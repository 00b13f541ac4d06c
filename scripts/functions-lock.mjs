#!/usr/bin/env node
// Writes functions/package-lock.json: what Cloud Build installs (`npm ci`) when the functions are
// deployed, pinned to exactly the versions the root lockfile installed and `npm test` ran
// against. Run after changing dependencies: `npm run lock:functions`.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync, copyFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const rootLock = JSON.parse(readFileSync(join(root, "package-lock.json"), "utf8"));
const fn = JSON.parse(readFileSync(join(root, "functions", "package.json"), "utf8"));
const dir = mkdtempSync(join(tmpdir(), "functions-lock-"));
try {
  // Seed with every package the root lockfile resolved, then let npm prune to what the functions
  // need: a version already locked is kept wherever it satisfies the range.
  const packages = { "": { name: fn.name, version: fn.version, dependencies: fn.dependencies, engines: fn.engines } };
  for (const [key, value] of Object.entries(rootLock.packages)) {
    if (key.startsWith("node_modules/") && !value.link) packages[key] = value;
  }
  writeFileSync(join(dir, "package-lock.json"), JSON.stringify({ name: fn.name, version: fn.version, lockfileVersion: 3, requires: true, packages }, null, 2));
  copyFileSync(join(root, "functions", "package.json"), join(dir, "package.json"));
  execFileSync("npm", ["install", "--package-lock-only", "--ignore-scripts", "--no-audit", "--no-fund"], { cwd: dir, stdio: "inherit" });
  copyFileSync(join(dir, "package-lock.json"), join(root, "functions", "package-lock.json"));
  console.log("wrote functions/package-lock.json");
} finally {
  rmSync(dir, { recursive: true, force: true });
}
