// A Jest reporter that writes each project's pass/fail counts to .cache/reports/<project>.json,
// for the one-line summary that closes `npm test` (scripts/test-summary.mjs).
const { mkdirSync, writeFileSync } = require("node:fs");
const { join } = require("node:path");

class ReportWriter {
  onRunComplete(_contexts, results) {
    const byProject = new Map();
    for (const file of results.testResults) {
      const name = typeof file.displayName === "object" ? file.displayName?.name : file.displayName;
      const key = name || "tests";
      const counts = byProject.get(key) ?? { numPassedTests: 0, numFailedTests: 0 };
      counts.numPassedTests += file.numPassingTests;
      counts.numFailedTests += file.numFailingTests + (file.testExecError ? 1 : 0);
      byProject.set(key, counts);
    }
    const dir = join(__dirname, "..", ".cache", "reports");
    mkdirSync(dir, { recursive: true });
    for (const [name, counts] of byProject) writeFileSync(join(dir, `${name}.json`), JSON.stringify(counts));
  }
}
module.exports = ReportWriter;
