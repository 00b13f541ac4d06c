#!/usr/bin/env node
// Adds up the reports that `npm test` writes and prints one closing line: "N passed, N failed".
import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const reports = join(dirname(fileURLToPath(import.meta.url)), "..", ".cache", "reports");
let passed = 0;
let failed = 0;
for (const name of ["unit", "rules", "integration", "demo"]) {
  const file = join(reports, `${name}.json`);
  if (!existsSync(file)) {
    console.error(`missing test report: ${name}`);
    failed++;
    continue;
  }
  const report = JSON.parse(readFileSync(file, "utf8"));
  console.log(`${name.padEnd(12)} ${report.numPassedTests} passed, ${report.numFailedTests} failed`);
  passed += report.numPassedTests;
  failed += report.numFailedTests;
}
console.log(`tests: ${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
