import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parse } from "yaml";
import { ALERT_PATH } from "../../src/api/agent-alert";
import { API_ERRORS } from "../../src/api/errors";
import { ROUTES } from "../../src/api/rest";
import { SUBSCRIBABLE_EVENT_TYPES } from "../../src/domain/event-catalog";
import { ATTEMPT_OUTCOME_WORDS } from "../../src/domain/webhook-vocabulary";

// The OpenAPI document is written by hand; this keeps it and the router from drifting apart.
const doc = readFileSync(join(__dirname, "..", "..", "..", "docs", "openapi.yaml"), "utf8");

/** "METHOD /v1/path" for every operation of the REST API the document describes. */
function documentedOperations(): string[] {
  const paths = parse(doc).paths as Record<string, Record<string, unknown>>;
  return Object.entries(paths)
    .filter(([path]) => path.startsWith("/v1/"))
    .flatMap(([path, item]) =>
      Object.keys(item)
        .filter((k) => ["get", "post", "patch", "delete", "put"].includes(k))
        .map((m) => `${m.toUpperCase()} ${path}`),
    )
    .sort();
}

describe("docs/openapi.yaml", () => {
  it("documents exactly the routes the REST adapter serves", () => {
    const served = ROUTES.map((r) => `${r.method} ${r.pattern.replace(/:(\w+)/g, "{$1}")}`).sort();
    expect(documentedOperations()).toEqual(served);
  });
  it("lists every error code the API can answer", () => {
    const spec = parse(doc);
    expect(spec.components.schemas.Error.properties.error.properties.code.enum.sort()).toEqual(Object.keys(API_ERRORS).sort());
  });
  it("is valid YAML whose event types are the catalog's", () => {
    const spec = parse(doc);
    expect(spec.openapi).toBe("3.1.0");
    expect(spec.components.schemas.EventType.enum).toEqual([...SUBSCRIBABLE_EVENT_TYPES]);
  });
  it("documents the agent endpoint at the path it serves", () => {
    const spec = parse(doc);
    expect(Object.keys(spec.paths).filter((p) => !p.startsWith("/v1/"))).toEqual([ALERT_PATH]);
    expect(Object.keys(spec.paths[ALERT_PATH])).toEqual(["servers", "post"]);
  });
  it("names the outcome words of an attempt without an HTTP answer, and no other", () => {
    const spec = parse(doc);
    expect(spec.components.schemas.OutcomeWord.enum).toEqual([...ATTEMPT_OUTCOME_WORDS, null]);
    expect(spec.components.schemas.Attempt.properties.error).toEqual({ $ref: "#/components/schemas/OutcomeWord" });
    expect(spec.components.schemas.AttemptResult.properties.error).toEqual({ $ref: "#/components/schemas/OutcomeWord" });
  });
});
