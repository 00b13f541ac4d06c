import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, relative, resolve } from "node:path";

// No import cycles in the project's own TypeScript: each module can be loaded, read and tested
// without the ones that import it (a view without the console's start-up, the data layer without
// the API layer). Relative imports only; packages are not followed.

const ROOT = resolve(__dirname, "../../..");
const TREES = ["functions/src", "console/src", "scripts", "functions/test"];

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    // Build output (functions/lib, dist) and packages are not the project's source; scripts/lib is.
    if (name === "node_modules" || name === "dist" || path === join(ROOT, "functions", "lib")) return [];
    return statSync(path).isDirectory() ? sources(path) : /\.(ts|mts)$/.test(name) ? [path] : [];
  });
}

/**
 * The files a module imports or re-exports from, by relative path (type-only imports included:
 * they tie the modules' designs), side-effect imports, `import()` and `require()` too.
 */
function importsOf(file: string): string[] {
  const text = readFileSync(file, "utf8");
  const specifiers = [
    ...text.matchAll(/^\s*(?:import|export)\b[^;]*?\bfrom\s+["'](\.{1,2}\/[^"']+)["']/gms),
    ...text.matchAll(/^\s*import\s+["'](\.{1,2}\/[^"']+)["']/gm),
    ...text.matchAll(/\b(?:import|require)\(\s*["'](\.{1,2}\/[^"']+)["']\s*\)/g),
  ].map((m) => m[1]!.replace(/\.js$/, ""));
  return specifiers
    .map((spec) => resolve(dirname(file), spec))
    .map((base) => [`${base}.ts`, join(base, "index.ts")].find((candidate) => existsSync(candidate)))
    .filter((f): f is string => f !== undefined);
}

function importCycles(files: string[]): string[][] {
  const graph = new Map(files.map((f) => [f, importsOf(f)]));
  const state = new Map<string, "open" | "done">();
  const cycles: string[][] = [];
  const visit = (file: string, path: string[]) => {
    state.set(file, "open");
    path.push(file);
    for (const next of graph.get(file) ?? []) {
      if (state.get(next) === "open") cycles.push([...path.slice(path.indexOf(next)), next]);
      else if (!state.has(next)) visit(next, path);
    }
    path.pop();
    state.set(file, "done");
  };
  for (const f of files) if (!state.has(f)) visit(f, []);
  return cycles;
}

/**
 * The rooms of functions/src, lowest first (docs/architecture.md): a module imports its own room
 * and the rooms below it, never one above. The leaf modules at the top (`config`, `log`,
 * `app-options`, `sizing`, `presence-mode-env`) serve every room and import only the domain; `wiring` (production
 * dependencies) and `index` (exports) belong to the triggers.
 */
const ROOMS = ["domain", "receiver", "data", "delivery", "pipeline", "api", "triggers"] as const;
/** A folder of functions/src that is no room: the test fails on it (a new folder needs its place here and in docs/architecture.md). */
const UNKNOWN = -2;
const LEAVES = ["config", "log", "app-options", "sizing", "presence-mode-env"];

const SRC = join(ROOT, "functions/src");

function roomOf(file: string, src = SRC): number {
  const [first, second] = relative(src, file).replace(/\.ts$/, "").split(/[\\/]/);
  if (second !== undefined) return ROOMS.includes(first as (typeof ROOMS)[number]) ? ROOMS.indexOf(first as (typeof ROOMS)[number]) : UNKNOWN;
  return LEAVES.includes(first ?? "") ? -1 : ROOMS.indexOf("triggers");
}

/** Imports that go up a room: `from -> to` by path. */
function upwardImports(files: string[], src = SRC): string[] {
  return files.flatMap((file) =>
    importsOf(file)
      .filter((target) => target.startsWith(src) && roomOf(target, src) > Math.max(roomOf(file, src), 0))
      .map((target) => `${relative(src, file)} -> ${relative(src, target)}`),
  );
}

/** The scripts' seam: the only files of functions/src a script may import (seam.ts says why). */
const SEAM = ["seam.ts", "seam-handlers.ts"];

/**
 * Imports into functions/src that pass by the seam, from the scripts or from any file outside
 * functions/src a script reaches (the test support the bench shares): `importer -> target`.
 */
function pastTheSeam(scripts: string[], src: string): string[] {
  const reached = new Set<string>();
  const reach = (file: string) => {
    if (reached.has(file) || file.startsWith(src)) return;
    reached.add(file);
    importsOf(file).forEach(reach);
  };
  scripts.forEach(reach);
  return [...reached].flatMap((file) =>
    importsOf(file)
      .filter((target) => target.startsWith(src) && !SEAM.includes(relative(src, target)))
      .map((target) => `${relative(dirname(src), file)} -> ${relative(src, target)}`),
  );
}

describe("the import graph", () => {
  it("goes down the rooms only: domain <- receiver <- data <- delivery <- pipeline <- api <- triggers", () => {
    const files = sources(join(ROOT, "functions/src"));
    expect(files.filter((f) => roomOf(f) === UNKNOWN).map((f) => relative(ROOT, f))).toEqual([]);
    expect(upwardImports(files)).toEqual([]);
  });

  it("finds an import that goes up: the data layer taking the API layer's vocabulary, as it once did", () => {
    const src = mkdtempSync(join(tmpdir(), "rooms-"));
    for (const dir of ["api", "data", "domain"]) mkdirSync(join(src, dir));
    writeFileSync(join(src, "api", "access.ts"), "export const USER_ROLES = ['admin'];\n");
    writeFileSync(
      join(src, "data", "store.ts"),
      'import { USER_ROLES } from "../api/access";\nimport { leaf } from "../domain/leaf";\nexport const roles = [USER_ROLES, leaf];\n',
    );
    writeFileSync(join(src, "domain", "leaf.ts"), "export const leaf = 1;\n");
    writeFileSync(join(src, "log.ts"), 'import { leaf } from "./domain/leaf";\nexport const log = leaf;\n');
    const files = ["api/access.ts", "data/store.ts", "domain/leaf.ts", "log.ts"].map((f) => join(src, f));
    expect(upwardImports(files, src)).toEqual([`${join("data", "store.ts")} -> ${join("api", "access.ts")}`]);
  });

  it("lets scripts into the functions through the seam only", () => {
    const scripts = sources(join(ROOT, "scripts"));
    // scripts/lib included, and the test support the bench takes its harnesses from.
    expect(scripts.some((f) => f.includes(join("scripts", "lib", "receiver.ts")))).toBe(true);
    expect(scripts.some((f) => importsOf(f).some((t) => t.endsWith(join("test", "support", "outage-cost.ts"))))).toBe(true);
    expect(scripts.length).toBeGreaterThan(15);
    expect(pastTheSeam(scripts, SRC)).toEqual([]);
    // The seam is what they use: every script that uses the functions imports it.
    expect(scripts.filter((f) => importsOf(f).some((t) => t.startsWith(SRC))).length).toBeGreaterThan(5);
  });

  it("finds a script reaching past the seam, as the bench once did for the store", () => {
    const root = mkdtempSync(join(tmpdir(), "seam-"));
    const src = join(root, "src");
    mkdirSync(join(src, "data"), { recursive: true });
    mkdirSync(join(root, "scripts"));
    writeFileSync(join(src, "data", "store.ts"), "export class Store {}\n");
    writeFileSync(join(src, "seam.ts"), 'export { Store } from "./data/store";\n');
    writeFileSync(join(root, "scripts", "good.ts"), 'import { Store } from "../src/seam";\nexport const s = Store;\n');
    writeFileSync(join(root, "scripts", "bad.ts"), 'import { Store } from "../src/data/store";\nexport const s = Store;\n');
    writeFileSync(join(root, "scripts", "lazy.ts"), 'export const load = () => import("../src/data/store.js");\n');
    writeFileSync(join(root, "scripts", "required.ts"), "const { Store } = require('../src/data/store');\nexport const s = Store;\n");
    mkdirSync(join(root, "support"));
    writeFileSync(join(root, "support", "harness.ts"), 'import { Store } from "../src/data/store";\nexport const s = Store;\n');
    writeFileSync(join(root, "support", "unused.ts"), 'import { Store } from "../src/data/store";\nexport const s = Store;\n');
    writeFileSync(join(root, "scripts", "bench.ts"), 'import { s } from "../support/harness";\nexport const t = s;\n');
    const files = ["good.ts", "bad.ts", "lazy.ts", "required.ts", "bench.ts"].map((f) => join(root, "scripts", f));
    expect(pastTheSeam(files, src).sort()).toEqual(
      [...["bad.ts", "lazy.ts", "required.ts"].map((f) => join("scripts", f)), join("support", "harness.ts")]
        .map((f) => `${f} -> ${join("data", "store.ts")}`)
        .sort(),
    );
  });

  it("has no cycle", () => {
    const files = TREES.flatMap((t) => sources(join(ROOT, t)));
    expect(files.length).toBeGreaterThan(100);
    expect(importCycles(files).map((c) => c.map((f) => relative(ROOT, f)).join(" -> "))).toEqual([]);
  });

  it("finds one when there is one: a view importing the module that starts the app, as the console's did", () => {
    const dir = mkdtempSync(join(tmpdir(), "imports-"));
    writeFileSync(join(dir, "main.ts"), 'import { view } from "./view";\nexport const start = () => view();\n');
    writeFileSync(join(dir, "view.ts"), 'import type { start } from "./main";\nexport const view = (): ReturnType<typeof start> | void => undefined;\n');
    writeFileSync(join(dir, "leaf.ts"), "export const leaf = 1;\n");
    const files = ["main.ts", "view.ts", "leaf.ts"].map((f) => join(dir, f));
    expect(importCycles(files).map((c) => c.map((f) => relative(dir, f)))).toEqual([["main.ts", "view.ts", "main.ts"]]);
    expect(importCycles([join(dir, "leaf.ts")])).toEqual([]);
  });
});
