import { readFileSync } from "node:fs";
import { join } from "node:path";
import { API_ERRORS } from "../../src/api/errors";
import { ROUTES } from "../../src/api/rest";

// The OpenAPI document is written by hand; this keeps it and the router from drifting apart.
const doc = readFileSync(join(__dirname, "..", "..", "..", "docs", "openapi.yaml"), "utf8");

/** `paths:` entries (two-space indent) and the HTTP methods under each (four-space indent). */
function documentedOperations(): string[] {
  const found: string[] = [];
  let path: string | null = null;
  for (const line of doc.split("\n")) {
    const p = /^ {2}(\/v1\/\S*):\s*$/.exec(line);
    if (p) {
      path = p[1] as string;
      continue;
    }
    if (/^\S/.test(line)) path = null;
    const m = /^ {4}(get|post|patch|delete|put):\s*$/.exec(line);
    if (path && m) found.push(`${(m[1] as string).toUpperCase()} ${path}`);
  }
  return found.sort();
}

describe("docs/openapi.yaml", () => {
  it("documents exactly the routes the REST adapter serves", () => {
    const served = ROUTES.map((r) => `${r.method} ${r.pattern.replace(/:(\w+)/g, "{$1}")}`).sort();
    expect(documentedOperations()).toEqual(served);
  });
  it("lists every error code the API can answer", () => {
    for (const code of Object.keys(API_ERRORS)) expect(doc).toContain(code);
  });
});
