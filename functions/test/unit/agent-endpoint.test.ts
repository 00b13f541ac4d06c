import { handleAgentRequest, type AgentAlertDeps } from "../../src/api/agent-alert";
import type { HttpRequest } from "../../src/api/rest";

// The agent endpoint's refusals, before anything is recorded: each a JSON 4xx, never a 500.
// Its accepted alerts go through the emulator (real-fleet.test.ts).

const TOKENS: Record<string, Record<string, unknown>> = {
  agent: { uid: "agent_s1_GALLERY_PC1", role: "agent", site_id: "s1", machine_id: "GALLERY-PC1" },
  dashboard: { uid: "admin-uid" },
};

/** Anything beyond the checks would touch Firestore: these deps refuse to be used. */
const untouchable = new Proxy(
  {},
  {
    get: (_t, prop) => {
      throw new Error(`unexpected use of ${String(prop)}`);
    },
  },
);
const deps = {
  store: untouchable,
  emissions: untouchable,
  enqueue: () => Promise.reject(new Error("unexpected enqueue")),
  log: { info: () => {}, warn: () => {}, error: () => {} },
  now: () => new Date(),
  verifyIdToken: async (token: string) => {
    const claims = TOKENS[token];
    if (!claims) throw new Error("invalid token");
    return claims as { uid: string };
  },
} as unknown as AgentAlertDeps;

function request(body: unknown, opts: { token?: string | null; method?: string; path?: string; type?: string } = {}): HttpRequest {
  const raw = typeof body === "string" ? body : JSON.stringify(body);
  return {
    method: opts.method ?? "POST",
    path: opts.path ?? "/agent/alert",
    headers: {
      "content-type": opts.type ?? "application/json",
      ...(opts.token === null ? {} : { authorization: `Bearer ${opts.token ?? "agent"}` }),
    },
    query: {},
    rawBody: Buffer.from(raw),
  };
}

const crash = { siteId: "s1", machineId: "GALLERY-PC1", eventType: "process_crash", data: { process_name: "TD", error_message: "PID 1" } };

describe("agent endpoint refusals", () => {
  // The request last: the title shows name, status and code.
  it.each<[string, number, string, HttpRequest]>([
    ["no token", 401, "unauthenticated", request(crash, { token: null })],
    ["a token that does not verify", 401, "unauthenticated", request(crash, { token: "forged" })],
    ["a dashboard user's token", 403, "permission_denied", request(crash, { token: "dashboard" })],
    ["another site", 403, "permission_denied", request({ ...crash, siteId: "s2" })],
    ["another machine", 403, "permission_denied", request({ ...crash, machineId: "GALLERY-PC2" })],
    ["a body without siteId", 400, "invalid_argument", request({ machineId: "GALLERY-PC1", errorCode: "E" })],
    ["a connection failure without errorCode", 400, "invalid_argument", request({ siteId: "s1", machineId: "GALLERY-PC1", errorMessage: "x" })],
    ["a crash without a process name", 400, "invalid_argument", request({ ...crash, data: { error_message: "x" } })],
    ["a message over 16 KiB", 400, "invalid_argument", request({ ...crash, data: { process_name: "TD", error_message: "x".repeat(16 * 1024 + 1) } })],
    ["a body over 64 KiB", 400, "invalid_json", request({ ...crash, pad: "x".repeat(70_000) })],
    ["not JSON", 415, "unsupported_media_type", request("siteId=s1", { type: "application/x-www-form-urlencoded" })],
    ["broken JSON", 400, "invalid_json", request('{"siteId":', {})],
    ["a JSON array", 400, "invalid_json", request([crash])],
    ["GET", 405, "method_not_allowed", request(crash, { method: "GET" })],
    ["another path", 404, "not_found", request(crash, { path: "/agent/alerts" })],
  ])("%s: %i %s", async (_name, status, code, req) => {
    const res = await handleAgentRequest(req, deps);
    expect(res.status).toBe(status);
    expect(res.body).toMatchObject({ error: { code, message: expect.any(String) } });
    expect(res.headers["Content-Type"]).toMatch(/^application\/json/);
  });

  it("names the field at fault", async () => {
    const res = await handleAgentRequest(request({ ...crash, data: { error_message: "x" } }), deps);
    expect(res.body).toMatchObject({ error: { details: [{ path: "data.process_name" }] } });
  });

  it("accepts alerts that have no webhook event, without recording anything", async () => {
    const res = await handleAgentRequest(
      request({ siteId: "s1", machineId: "GALLERY-PC1", eventType: "display_topology_changed", data: { monitorCount: 2 } }),
      deps,
    );
    expect(res).toMatchObject({ status: 200, body: { success: true, outcome: "ignored" } });
  });

  it("answers 503 (the agent resends) when recording fails, never 500", async () => {
    const res = await handleAgentRequest(request(crash), deps);
    expect(res.status).toBe(503);
    expect(res.headers["Retry-After"]).toBe("30");
    expect(res.body).toMatchObject({ error: { code: "unavailable" } });
  });
});
