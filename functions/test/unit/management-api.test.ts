import { requireSiteAccess, siteAccess, type Principal, type UserRecord } from "../../src/api/access";
import { apiKeyMatches, bearerToken, displayPrefix, generateApiKey, parseApiKey } from "../../src/api/api-keys";
import { ApiError, formatPath } from "../../src/api/errors";
import { inputSchemas, parseInput } from "../../src/api/inputs";
import { DEFAULT_WEBHOOK_QUOTA, webhookQuota } from "../../src/api/quota";
import { matchRoute, parseBody } from "../../src/api/rest";
import { decodeCursor, encodeCursor } from "../../src/api/service";

const SITE = "nyc";
const site = { owner: "owner-uid" };
const user = (uid: string, role: UserRecord["role"], sites: string[] = []): Principal => ({ kind: "user", user: { uid, role, sites } });
const key = (access: "read" | "write", u: UserRecord, siteId = SITE): Principal => ({ kind: "api_key", keyId: "k", siteId, access, user: u });

describe("site access", () => {
  it.each<[string, Principal, "none" | "read" | "admin"]>([
    ["a member listed on the site", user("m", "member", [SITE]), "read"],
    ["an admin listed on the site", user("a", "admin", [SITE]), "admin"],
    ["an admin who owns the site", user("owner-uid", "admin"), "admin"],
    ["a member who owns the site", user("owner-uid", "member"), "read"],
    ["a superadmin of no site", user("s", "superadmin"), "admin"],
    ["an admin of another site", user("a", "admin", ["other"]), "none"],
    ["a user without a profile", user("x", null, [SITE]), "none"],
    ["an agent", { kind: "agent" }, "none"],
    ["an admin's write key", key("write", { uid: "a", role: "admin", sites: [SITE] }), "admin"],
    ["an admin's read key", key("read", { uid: "a", role: "admin", sites: [SITE] }), "read"],
    ["a member's key, whatever it claims", key("write", { uid: "m", role: "member", sites: [SITE] }), "read"],
    ["a key for another site", key("write", { uid: "a", role: "admin", sites: [SITE, "other"] }, "other"), "none"],
    ["a key whose maker lost access", key("write", { uid: "a", role: "admin", sites: [] }), "none"],
  ])("%s", (_what, principal, expected) => {
    expect(siteAccess(principal, SITE, site)).toBe(expected);
  });

  it("refuses with 403 before saying whether a site exists, and 404 only to those with access", () => {
    const stranger = user("x", "admin", ["other"]);
    const refusal = (fn: () => void) => {
      try {
        fn();
      } catch (err) {
        return err as ApiError;
      }
      throw new Error("expected a refusal");
    };
    expect(refusal(() => requireSiteAccess(stranger, SITE, null, "read")).code).toBe("permission_denied");
    expect(refusal(() => requireSiteAccess(stranger, SITE, site, "read")).message).toBe(refusal(() => requireSiteAccess(stranger, SITE, null, "read")).message);
    expect(refusal(() => requireSiteAccess(user("s", "superadmin"), SITE, null, "read")).code).toBe("not_found");
    expect(refusal(() => requireSiteAccess(user("m", "member", [SITE]), SITE, site, "admin")).message).toMatch(/members have read access/);
    expect(refusal(() => requireSiteAccess(key("read", { uid: "a", role: "admin", sites: [SITE] }), SITE, site, "admin")).message).toMatch(/read-only/);
    expect(() => requireSiteAccess(user("a", "admin", [SITE]), SITE, site, "admin")).not.toThrow();
  });
});

describe("API keys", () => {
  it("generates keys that parse back to their id and match only their own hash", () => {
    const a = generateApiKey("abcdefghij0123456789");
    const b = generateApiKey("abcdefghij0123456789");
    expect(a.key).toMatch(/^owk_abcdefghij0123456789_[A-Za-z0-9_-]{43}$/);
    expect(a.key).not.toBe(b.key);
    expect(parseApiKey(a.key)).toEqual({ keyId: "abcdefghij0123456789" });
    expect(apiKeyMatches(a.key, a.hash)).toBe(true);
    expect(apiKeyMatches(b.key, a.hash)).toBe(false);
    expect(apiKeyMatches(a.key, "not hex")).toBe(false);
    expect(a.hash).not.toContain(a.key.slice(-43));
    expect(a.prefix).toBe(displayPrefix("abcdefghij0123456789"));
    expect(a.key.startsWith(a.prefix.replace("…", ""))).toBe(true);
  });
  it.each(["", "owk_", "owk_short_x", "whsec_abc", `owk_${"a".repeat(20)}_${"b".repeat(42)}`, `owk_${"a".repeat(20)}_${"b".repeat(43)}x`])(
    "rejects the malformed key %j",
    (value) => {
      expect(parseApiKey(value)).toBeNull();
    },
  );
  it("reads only `Bearer <token>` from the Authorization header", () => {
    expect(bearerToken("Bearer owk_x")).toBe("owk_x");
    expect(bearerToken("bearer  owk_x ")).toBe("owk_x");
    expect(bearerToken("Basic dXNlcjpwYXNz")).toBeNull();
    expect(bearerToken("Bearer a b")).toBeNull();
    expect(bearerToken(undefined)).toBeNull();
  });
});

describe("quotas", () => {
  it.each<[unknown, number]>([
    [null, DEFAULT_WEBHOOK_QUOTA],
    [{}, 10],
    [{ plan: "pro" }, 50],
    [{ plan: "enterprise" }, 250],
    [{ plan: "unheard-of" }, 10],
    [{ plan: "pro", webhookQuota: 3 }, 3],
    [{ webhookQuota: 0 }, 0],
    [{ webhookQuota: -1 }, 10],
    [{ webhookQuota: "20" }, 10],
    [{ plan: "constructor" }, 10],
  ])("site %j gets %d", (site, expected) => {
    expect(webhookQuota(site as never)).toBe(expected);
  });
});

describe("input validation", () => {
  const schemas = inputSchemas({ allowLocalHttp: false });
  const base = { siteId: SITE, name: "Ops", url: "https://hooks.example.com/h", events: ["process.crashed"] };
  const problems = (input: unknown) => {
    try {
      parseInput(schemas.createWebhook, input);
    } catch (err) {
      return (err as ApiError).details;
    }
    return [];
  };

  it("accepts a full, valid create", () => {
    expect(problems({ ...base, method: "PUT", signatureScheme: "standard", headers: { Authorization: "Bearer t" }, description: "d" })).toEqual([]);
  });
  it("names every bad field at once", () => {
    const found = problems({ siteId: SITE, name: "", url: "ftp://x", events: ["nope"], headers: { "Content-Length": "1" } });
    expect(found.map((p) => p.path).sort()).toEqual(["events[0]", "headers.Content-Length", "name", "url"]);
  });
  it.each([
    ["https://127.0.0.1/h", /loopback/],
    ["https://[::1]/h", /loopback/],
    ["https://localhost/h", /loopback/],
    ["https://169.254.169.254/h", /non-public/],
    ["https://user:pw@example.com/h", /credentials/],
    ["http://127.0.0.1:8080/h", /https/],
    [`https://example.com/${"a".repeat(2100)}`, /at most 2048/],
  ])("refuses the URL %s", (url, reason) => {
    expect(problems({ ...base, url })[0]?.reason).toMatch(reason);
  });
  it("allows plain http to loopback only where local http is allowed (the emulator)", () => {
    const local = inputSchemas({ allowLocalHttp: true });
    expect(() => parseInput(local.createWebhook, { ...base, url: "http://127.0.0.1:8080/h" })).not.toThrow();
    expect(() => parseInput(local.createWebhook, { ...base, url: "http://example.com/h" })).toThrow(ApiError);
  });
  it("refuses ids that are not Firestore document ids", () => {
    for (const siteId of ["", "a/b", "..", "__x__"]) {
      expect(() => parseInput(schemas.site, { siteId })).toThrow(/siteId/);
    }
  });
  it("coerces query-string numbers and defaults the page size", () => {
    expect(parseInput(schemas.listDeliveries, { siteId: SITE, webhookId: "w", limit: "5" }).limit).toBe(5);
    expect(parseInput(schemas.listDeliveries, { siteId: SITE, webhookId: "w" }).limit).toBe(20);
    expect(() => parseInput(schemas.listDeliveries, { siteId: SITE, webhookId: "w", limit: "0" })).toThrow(ApiError);
    expect(parseInput(schemas.rotateSecret, { siteId: SITE, webhookId: "w" }).overlapSeconds).toBe(86_400);
  });
  it("formats field paths the way callers write them", () => {
    expect(formatPath(["events", 1])).toBe("events[1]");
    expect(formatPath(["headers", "X-Token"])).toBe("headers.X-Token");
    expect(formatPath([])).toBe("");
  });
});

describe("REST routing and bodies", () => {
  it("routes paths with ids and decodes them", () => {
    const m = matchRoute("POST", "/v1/webhooks/w%201/deliveries/dlv_1/retry");
    expect(m).toMatchObject({ kind: "match", route: { op: "deliveries.retry" }, params: { webhookId: "w 1", deliveryId: "dlv_1" } });
    expect(matchRoute("POST", "/v1/webhooks/probe")).toMatchObject({ kind: "match", route: { op: "webhooks.probe" } });
    expect(matchRoute("GET", "/v1/webhooks/")).toMatchObject({ kind: "match", route: { op: "webhooks.list" } });
  });
  it("tells a wrong method from an unknown path", () => {
    expect(matchRoute("PUT", "/v1/webhooks/w1")).toEqual({ kind: "method_not_allowed", allow: ["GET", "PATCH", "DELETE"] });
    expect(matchRoute("GET", "/v2/webhooks")).toEqual({ kind: "not_found" });
    expect(matchRoute("GET", "/v1/webhooks//deliveries")).toEqual({ kind: "not_found" });
    expect(matchRoute("GET", "/v1/webhooks/%E0%A4%A/deliveries")).toEqual({ kind: "not_found" });
  });
  const req = (raw: string | undefined, type = "application/json") => ({
    method: "POST",
    path: "/v1/webhooks",
    headers: { "content-type": type },
    query: {},
    rawBody: raw === undefined ? undefined : Buffer.from(raw),
  });
  it("parses JSON object bodies and refuses everything else with a clear code", () => {
    expect(parseBody(req('{"a":1}', "application/json; charset=utf-8"))).toEqual({ a: 1 });
    expect(parseBody(req(undefined))).toEqual({});
    const code = (raw: string, type?: string) => {
      try {
        parseBody(req(raw, type));
      } catch (err) {
        return (err as ApiError).code;
      }
      return "accepted";
    };
    expect(code("{oops")).toBe("invalid_json");
    expect(code("[1]")).toBe("invalid_json");
    expect(code("null")).toBe("invalid_json");
    expect(code('{"a":1}', "text/plain")).toBe("unsupported_media_type");
    expect(code(`{"a":"${"x".repeat(70_000)}"}`)).toBe("invalid_json");
  });
});

describe("paging cursors", () => {
  it("round-trip and refuse anything else", () => {
    const cursor = encodeCursor({ id: "dlv_1", data: { createdAt: { toMillis: () => 1234 } } });
    expect(decodeCursor(cursor)).toEqual({ createdAtMs: 1234, id: "dlv_1" });
    for (const bad of ["", "garbage", Buffer.from("[1]").toString("base64url"), Buffer.from('["x","y"]').toString("base64url")]) {
      expect(() => decodeCursor(bad)).toThrow(/cursor/);
    }
  });
});
