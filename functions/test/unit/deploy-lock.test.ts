import { readFileSync } from "node:fs";
import { join } from "node:path";

// Deploy installs functions/package-lock.json (Cloud Build runs `npm ci` in functions/): it must
// hold exactly the versions the root lockfile installed, which `npm test` ran against.
const root = join(__dirname, "..", "..", "..");
const read = (p: string) => JSON.parse(readFileSync(join(root, p), "utf8"));

describe("functions/package-lock.json", () => {
  const fnLock = read("functions/package-lock.json");
  const rootLock = read("package-lock.json");
  const fnPkg = read("functions/package.json");

  it("locks every dependency of the functions", () => {
    expect(fnLock.packages[""].dependencies).toEqual(fnPkg.dependencies);
    for (const dep of Object.keys(fnPkg.dependencies)) expect(fnLock.packages[`node_modules/${dep}`]?.version).toBeDefined();
  });

  it("pins the versions the tests ran against (npm run lock:functions rewrites it)", () => {
    const differ = Object.entries(fnLock.packages as Record<string, { version?: string }>)
      .filter(([key]) => key !== "")
      .filter(([key, value]) => rootLock.packages[key]?.version !== value.version)
      .map(([key]) => key);
    expect(differ).toEqual([]);
  });
});
