import { FieldValue } from "firebase-admin/firestore";
import { REGION } from "../../src/config";
import { paths } from "../../src/data/paths";
import type { Store } from "../../src/data/store";
import { taskQueueEnqueue } from "../../src/delivery/task-queue";
import { verifyOwletteSignature } from "../../src/domain/signing";
import { SUBSCRIBABLE_EVENT_TYPES } from "../../src/domain/event-catalog";
import type { Receiver } from "../../../scripts/lib/receiver";
import { call, forgedIdToken, idToken, rest } from "../support/api-client";
import { getAuth } from "firebase-admin/auth";
import { seedPendingDelivery, sleep, startSuite, uniqueId, waitFor } from "../support/emulator";
import { createHook as createHookOn, newSite as newSiteOf, type Site } from "../support/sites";

jest.setTimeout(90_000);

let store: Store;
let receiver: Receiver;

beforeAll(async () => ({ store, receiver } = await startSuite()));
afterAll(() => receiver.stop());

const newSite = (fields: Record<string, unknown> = {}) => newSiteOf(store, fields);
const createHook = (site: Site, body: Record<string, unknown> = {}) => createHookOn(receiver, site, body);

async function crash(siteId: string, processId: string, name = "TouchDesigner") {
  const ref = store.db.doc(`${paths.machine(siteId, "m1")}/processes/${processId}`);
  await ref.set({ name, status: "running" });
  await ref.set({ name, status: "crashed", exitCode: 1, updatedAt: FieldValue.serverTimestamp() });
}

describe("webhooks: create, read, update", () => {
  it("returns the signing secret on create only; list, get and the stored doc never carry it", async () => {
    const site = await newSite();
    const created = await rest("POST", "/v1/webhooks", {
      key: site.adminKey,
      body: { name: "Ops", url: "https://hooks.example.com/owlette", events: ["process.crashed", "machine.offline"], description: "on-call" },
    });
    expect(created.status).toBe(201);
    expect(created.body.secret).toMatch(/^whsec_/);
    expect(created.body.webhook).toMatchObject({
      name: "Ops",
      description: "on-call",
      events: ["process.crashed", "machine.offline"],
      enabled: true,
      failCount: 0,
      signatureScheme: "owlette",
      method: "POST",
      createdBy: expect.stringMatching(/^api_key:/),
    });
    const id = created.body.webhook.id;

    const list = await rest("GET", "/v1/webhooks", { key: site.memberKey });
    const one = await rest("GET", `/v1/webhooks/${id}`, { key: site.memberKey });
    const doc = (await store.db.doc(paths.webhook(site.siteId, id)).get()).data();
    expect(list.status).toBe(200);
    expect(list.body.data.map((w: { id: string }) => w.id)).toEqual([id]);
    expect(one.status).toBe(200);
    expect(one.body.webhook.id).toBe(id);
    expect(one.body.recentDeliveries).toEqual([]);
    for (const seen of [list.body, one.body, doc]) expect(JSON.stringify(seen)).not.toContain(created.body.secret);
  });

  it("updates url, events, name, description and enabled", async () => {
    const site = await newSite();
    const hook = await createHook(site);
    const res = await rest("PATCH", `/v1/webhooks/${hook.id}`, {
      key: site.adminKey,
      body: { url: "https://new.example.com/h", events: ["machine.offline", "machine.online"], name: "Renamed", description: "moved", enabled: false },
    });
    expect(res.status).toBe(200);
    expect(res.body.webhook).toMatchObject({
      url: "https://new.example.com/h",
      events: ["machine.offline", "machine.online"],
      name: "Renamed",
      description: "moved",
      enabled: false,
      disabledReason: "manual",
    });
    const stored = (await store.db.doc(paths.webhook(site.siteId, hook.id)).get()).data();
    expect(stored).toMatchObject({ url: "https://new.example.com/h", name: "Renamed", enabled: false });
  });

  it("pauses and resumes; re-enabling an auto-disabled webhook resets failCount and disabledReason", async () => {
    const site = await newSite();
    const hook = await createHook(site);
    const paused = await rest("POST", `/v1/webhooks/${hook.id}/pause`, { key: site.adminKey });
    expect(paused.body.webhook).toMatchObject({ enabled: false, disabledReason: "paused" });
    const resumed = await rest("POST", `/v1/webhooks/${hook.id}/resume`, { key: site.adminKey });
    expect(resumed.body.webhook).toMatchObject({ enabled: true, disabledReason: null });

    await store.db.doc(paths.webhook(site.siteId, hook.id)).update({ enabled: false, failCount: 10, disabledReason: "auto" });
    const disabled = await rest("POST", `/v1/webhooks/${hook.id}/disable`, { key: site.adminKey });
    expect(disabled.body.webhook).toMatchObject({ enabled: false, disabledReason: "manual", failCount: 10 });
    const enabled = await rest("POST", `/v1/webhooks/${hook.id}/enable`, { key: site.adminKey });
    expect(enabled.status).toBe(200);
    expect(enabled.body.webhook).toMatchObject({ enabled: true, failCount: 0, disabledReason: null });
  });
});

describe("validation: 400 with the field path and reason", () => {
  const cases: [string, Record<string, unknown>, string, RegExp][] = [
    ["an http URL", { url: "http://hooks.example.com/h" }, "url", /https/],
    ["a malformed URL", { url: "not a url" }, "url", /valid URL/],
    ["a private address", { url: "https://10.1.2.3/h" }, "url", /non-public/],
    ["an unknown event", { events: ["process.crashed", "disk.full"] }, "events[1]", /unknown event "disk.full"/],
    ["empty events", { events: [] }, "events", /at least one/],
    ["a duplicated event", { events: ["machine.offline", "machine.offline"] }, "events[1]", /twice/],
    ["a header on the deny list", { headers: { Host: "evil.example" } }, "headers.Host", /reserved/],
    ["a signature header", { headers: { "X-Owlette-Signature": "forged" } }, "headers.X-Owlette-Signature", /reserved/],
    ["a name too long", { name: "n".repeat(101) }, "name", /at most 100/],
    ["an empty name", { name: "  " }, "name", /empty/],
    ["an unknown method", { method: "GET" }, "method", /POST/],
    ["an unknown field", { secret: "whsec_mine" }, "", /secret/],
  ];
  it.each(cases)("refuses %s", async (_what, override, path, reason) => {
    const site = await newSite();
    const res = await rest("POST", "/v1/webhooks", {
      key: site.adminKey,
      body: { name: "Ops", url: "https://hooks.example.com/h", events: ["process.crashed"], ...override },
    });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe("invalid_argument");
    const problem = res.body.error.details.find((d: { path: string }) => d.path === path);
    expect(problem?.reason).toMatch(reason);
    expect((await rest("GET", "/v1/webhooks", { key: site.adminKey })).body.data).toEqual([]);
  });

  it("refuses a body that is not JSON, not an object, or not sent as JSON", async () => {
    const site = await newSite();
    // Malformed JSON is refused by the platform's body parser before the API runs (400, not
    // in the API's error format); well-formed JSON that is not an object reaches the API.
    const bad = await rest("POST", "/v1/webhooks", { key: site.adminKey, rawBody: "{name: oops" });
    expect(bad.status).toBe(400);
    const array = await rest("POST", "/v1/webhooks", { key: site.adminKey, rawBody: "[1,2]" });
    expect(array.status).toBe(400);
    expect(array.body.error).toMatchObject({ code: "invalid_json", message: "body must be a JSON object" });
    const text = await rest("POST", "/v1/webhooks", { key: site.adminKey, rawBody: "name=x", contentType: "text/plain" });
    expect(text.status).toBe(415);
  });

  it("refuses an update with nothing to change and a bad paging cursor", async () => {
    const site = await newSite();
    const hook = await createHook(site);
    const empty = await rest("PATCH", `/v1/webhooks/${hook.id}`, { key: site.adminKey, body: {} });
    expect(empty.status).toBe(400);
    expect(empty.body.error.message).toMatch(/nothing to update/);
    const cursor = await rest("GET", `/v1/webhooks/${hook.id}/deliveries?cursor=garbage`, { key: site.adminKey });
    expect(cursor.status).toBe(400);
    expect(cursor.body.error.details[0].path).toBe("cursor");
    const limit = await rest("GET", `/v1/webhooks/${hook.id}/deliveries?limit=1000`, { key: site.adminKey });
    expect(limit.status).toBe(400);
    expect(limit.body.error.details[0]).toMatchObject({ path: "limit", reason: "at most 100" });
  });
});

describe("authentication and permissions", () => {
  it("answers 401 without a key, with an unknown key and with a revoked key", async () => {
    const site = await newSite();
    const none = await rest("GET", "/v1/webhooks");
    expect(none.status).toBe(401);
    expect(none.headers.get("www-authenticate")).toMatch(/^Bearer/);
    const forged = await rest("GET", "/v1/webhooks", { key: site.adminKey.slice(0, -4) + "AAAA" });
    expect(forged.status).toBe(401);
    const garbage = await rest("GET", "/v1/webhooks", { key: "owk_nope" });
    expect(garbage.status).toBe(401);

    const keys = await call("listApiKeys", { siteId: site.siteId }, await idToken(site.admin));
    const adminKey = keys.body.result.data.find((k: { name: string }) => k.name === "automation");
    const revoked = await call("revokeApiKey", { siteId: site.siteId, keyId: adminKey.id }, await idToken(site.admin));
    expect(revoked.body.result).toEqual({ id: adminKey.id, revoked: true });
    const after = await rest("GET", "/v1/webhooks", { key: site.adminKey });
    expect(after.status).toBe(401);
    expect(after.body.error.message).toBe("invalid or revoked API key");
  });

  it("stores keys hashed, lists them without secrets and records lastUsedAt", async () => {
    const site = await newSite();
    await rest("GET", "/v1/webhooks", { key: site.adminKey });
    const keyId = site.adminKey.split("_")[1] as string;
    const stored = (await store.db.doc(paths.apiKey(keyId)).get()).data();
    expect(stored?.hash).toMatch(/^[0-9a-f]{64}$/);
    expect(JSON.stringify(stored)).not.toContain(site.adminKey.split("_").slice(2).join("_"));
    expect(stored?.lastUsedAt).not.toBeNull();
    const listed = await call("listApiKeys", { siteId: site.siteId }, await idToken(site.admin));
    expect(listed.body.result.data).toHaveLength(2);
    const text = JSON.stringify(listed.body);
    expect(text).not.toContain(site.adminKey);
    expect(text).not.toContain(stored?.hash);
    // A member sees only their own keys.
    const mine = await call("listApiKeys", { siteId: site.siteId }, await idToken(site.member));
    expect(mine.body.result.data.map((k: { name: string }) => k.name)).toEqual(["reporting"]);
  });

  it("refuses a member's API call to change a webhook, and a member's write key", async () => {
    const site = await newSite();
    const hook = await createHook(site);
    const read = await rest("GET", `/v1/webhooks/${hook.id}`, { key: site.memberKey });
    expect(read.status).toBe(200);
    for (const [method, path, body] of [
      ["PATCH", `/v1/webhooks/${hook.id}`, { name: "mine now" }],
      ["DELETE", `/v1/webhooks/${hook.id}`, undefined],
      ["POST", `/v1/webhooks/${hook.id}/rotate-secret`, {}],
      ["POST", "/v1/webhooks", { name: "x", url: "https://example.com/h", events: ["process.crashed"] }],
    ] as const) {
      const res = await rest(method, path, { key: site.memberKey, ...(body ? { body } : {}) });
      expect(res.status).toBe(403);
      expect(res.body.error.code).toBe("permission_denied");
      expect(JSON.stringify(res.body)).not.toContain(hook.secret);
    }
    const viaDashboard = await call("updateWebhook", { siteId: site.siteId, webhookId: hook.id, name: "mine" }, await idToken(site.member));
    expect(viaDashboard.status).toBe(403);
    expect(viaDashboard.body.error).toMatchObject({ status: "PERMISSION_DENIED", details: { code: "permission_denied" } });
    const writeKey = await call("createApiKey", { siteId: site.siteId, name: "sneaky", access: "write" }, await idToken(site.member));
    expect(writeKey.status).toBe(403);
    expect((await store.db.doc(paths.webhook(site.siteId, hook.id)).get()).get("name")).toBe("Ops alerts");
  });

  it("refuses strangers, agents and unauthenticated callers without saying whether the site exists", async () => {
    const site = await newSite();
    const stranger = `stranger-${site.siteId}`;
    await store.db.doc(paths.user(stranger)).set({ role: "admin", sites: ["elsewhere"] });
    const agent = await idToken("agent-1", { role: "agent", site_id: site.siteId, machine_id: "m1" });
    const existing = await call("listWebhooks", { siteId: site.siteId }, await idToken(stranger));
    const missing = await call("listWebhooks", { siteId: "no-such-site" }, await idToken(stranger));
    expect(existing.status).toBe(403);
    expect(missing.status).toBe(403);
    expect(existing.body.error?.message).toBe(`no access to site ${site.siteId}`);
    expect((await call("listWebhooks", { siteId: site.siteId }, agent)).status).toBe(403);
    expect((await call("createApiKey", { siteId: site.siteId, name: "a", access: "read" }, agent)).status).toBe(403);
    const anonymous = await call("listWebhooks", { siteId: site.siteId });
    expect(anonymous.status).toBe(401);
    expect(anonymous.body.error?.status).toBe("UNAUTHENTICATED");
  });

  it("verifies ID tokens against the Auth emulator: unknown, disabled or revoked users are refused", async () => {
    const site = await newSite();
    // An admin of the site by its users doc, but unknown to Auth: a token nobody issued.
    const ghost = `ghost-${site.siteId}`;
    await store.db.doc(paths.user(ghost)).set({ role: "admin", sites: [site.siteId] });
    const forged = await call("listWebhooks", { siteId: site.siteId }, forgedIdToken(ghost));
    expect([forged.status, forged.body.error?.details?.code]).toEqual([401, "unauthenticated"]);
    const real = await idToken(site.admin);
    expect((await call("listWebhooks", { siteId: site.siteId }, real)).status).toBe(200);
    await sleep(1100); // revocation is recorded to the second: revoke a second after sign-in
    await getAuth().revokeRefreshTokens(site.admin);
    const revoked = await call("listWebhooks", { siteId: site.siteId }, real);
    expect([revoked.status, revoked.body.error?.details?.code]).toEqual([401, "unauthenticated"]);
    const member = await idToken(site.member);
    await getAuth().updateUser(site.member, { disabled: true });
    expect((await call("listWebhooks", { siteId: site.siteId }, member)).status).toBe(401);
  });

  it("refuses a soft-deleted user at once: their callables and the API keys they made", async () => {
    const site = await newSite();
    const token = await idToken(site.admin);
    expect((await call("listWebhooks", { siteId: site.siteId }, token)).status).toBe(200);
    expect((await rest("GET", "/v1/webhooks", { key: site.adminKey })).status).toBe(200);
    // As the host's admin tools do: the users doc keeps its role and sites, with deletedAt set.
    await store.db.doc(paths.user(site.admin)).update({ deletedAt: FieldValue.serverTimestamp() });
    const viaDashboard = await call("listWebhooks", { siteId: site.siteId }, token);
    expect([viaDashboard.status, viaDashboard.body.error?.message]).toEqual([403, "this account has been deleted"]);
    expect((await call("createApiKey", { siteId: site.siteId, name: "after", access: "write" }, token)).status).toBe(403);
    for (const [method, path] of [
      ["GET", "/v1/webhooks"],
      ["POST", "/v1/webhooks"],
    ] as const) {
      const res = await rest(method, path, {
        key: site.adminKey,
        ...(method === "POST" ? { body: { name: "x", url: "https://example.com/h", events: ["process.crashed"] } } : {}),
      });
      expect([res.status, res.body.error?.code]).toEqual([403, "permission_denied"]);
    }
    // Restored (deletedAt back to null, as the host's restore writes it): access returns.
    await store.db.doc(paths.user(site.admin)).update({ deletedAt: null });
    expect((await rest("GET", "/v1/webhooks", { key: site.adminKey })).status).toBe(200);
  });

  it("lets a superadmin manage any site through the dashboard callables", async () => {
    const site = await newSite();
    const boss = `superadmin-${site.siteId}`;
    await store.db.doc(paths.user(boss)).set({ role: "superadmin", sites: [] });
    const created = await call(
      "createWebhook",
      { siteId: site.siteId, name: "Cross-site", url: "https://hooks.example.com/x", events: ["machine.offline"] },
      await idToken(boss),
    );
    expect(created.status).toBe(200);
    expect(created.body.result.secret).toMatch(/^whsec_/);
    const listed = await call("listWebhooks", { siteId: site.siteId }, await idToken(boss));
    expect(listed.body.result.data).toHaveLength(1);
    const invalid = await call("createWebhook", { siteId: site.siteId, name: "x", url: "http://x.example", events: [] }, await idToken(boss));
    expect(invalid.status).toBe(400);
    expect(invalid.body.error?.details.code).toBe("invalid_argument");
    expect(invalid.body.error?.details.details.map((d: { path: string }) => d.path).sort()).toEqual(["events", "url"]);
    const missingSite = await call("listWebhooks", { siteId: "no-such-site" }, await idToken(boss));
    expect(missingSite.status).toBe(404);
  });
});

describe("not found and routing", () => {
  it("answers 404 for unknown webhooks, deliveries and endpoints, 405 for a wrong method", async () => {
    const site = await newSite();
    const hook = await createHook(site);
    for (const [method, path] of [
      ["GET", "/v1/webhooks/nope"],
      ["PATCH", "/v1/webhooks/nope"],
      ["DELETE", "/v1/webhooks/nope"],
      ["POST", "/v1/webhooks/nope/rotate-secret"],
      ["POST", "/v1/webhooks/nope/test"],
      ["GET", "/v1/webhooks/nope/deliveries"],
      ["POST", `/v1/webhooks/${hook.id}/deliveries/dlv_nope/retry`],
      ["GET", "/v1/nothing-here"],
    ] as const) {
      const res = await rest(method, path, { key: site.adminKey, ...(method === "PATCH" ? { body: { name: "x" } } : {}) });
      expect([method, path, res.status]).toEqual([method, path, 404]);
      expect(res.body.error.code).toBe("not_found");
    }
    const wrong = await rest("PUT", `/v1/webhooks/${hook.id}`, { key: site.adminKey, body: {} });
    expect(wrong.status).toBe(405);
    expect(wrong.headers.get("allow")).toBe("GET, PATCH, DELETE");
  });

  it("lists the event catalog", async () => {
    const site = await newSite();
    const res = await rest("GET", "/v1/event-types", { key: site.memberKey });
    expect(res.body.data).toEqual([...SUBSCRIBABLE_EVENT_TYPES]);
    expect(res.body.data).toEqual(expect.arrayContaining(["process.crashed", "connection_failure", "threshold.breached", "display.drift"]));
  });
});

describe("quotas", () => {
  it("refuses a create at the cap; after the plan shrinks, existing webhooks stay and deliver", async () => {
    const site = await newSite({ webhookQuota: 2 });
    const first = await createHook(site);
    const second = await createHook(site);
    const third = await rest("POST", "/v1/webhooks", {
      key: site.adminKey,
      body: { name: "one too many", url: "https://hooks.example.com/3", events: ["process.crashed"] },
    });
    expect(third.status).toBe(409);
    expect(third.body.error.code).toBe("quota_exceeded");
    expect(third.body.error.message).toMatch(/quota of 2/);

    // The plan shrinks below what the site already has.
    await store.db.doc(paths.site(site.siteId)).update({ webhookQuota: 1 });
    const listed = await rest("GET", "/v1/webhooks", { key: site.adminKey });
    expect(listed.body.data).toHaveLength(2);
    await crash(site.siteId, "p1");
    await waitFor("both webhooks to receive the crash", () => receiver.at(first.path).length === 1 && receiver.at(second.path).length === 1);
    expect(receiver.at(first.path)[0]?.verified).toBe(true);
    const again = await rest("POST", "/v1/webhooks", {
      key: site.adminKey,
      body: { name: "still over", url: "https://hooks.example.com/4", events: ["process.crashed"] },
    });
    expect(again.status).toBe(409);
  });

  it("uses the default of 10 without a plan", async () => {
    const site = await newSite();
    for (let i = 0; i < 10; i++) {
      const res = await rest("POST", "/v1/webhooks", {
        key: site.adminKey,
        body: { name: `hook ${i}`, url: `https://hooks.example.com/${i}`, events: ["process.crashed"] },
      });
      expect(res.status).toBe(201);
    }
    const eleventh = await rest("POST", "/v1/webhooks", {
      key: site.adminKey,
      body: { name: "hook 10", url: "https://hooks.example.com/10", events: ["process.crashed"] },
    });
    expect(eleventh.status).toBe(409);
    expect(eleventh.body.error.message).toMatch(/quota of 10/);
  });
});

describe("secrets, test and probe", () => {
  it("rotates the secret: the new one is in the rotate response only and signs from then on", async () => {
    const site = await newSite();
    const hook = await createHook(site);
    const rotated = await rest("POST", `/v1/webhooks/${hook.id}/rotate-secret`, { key: site.adminKey, body: { overlapSeconds: 0 } });
    expect(rotated.status).toBe(200);
    expect(rotated.body.secret).toMatch(/^whsec_/);
    expect(rotated.body.secret).not.toBe(hook.secret);
    expect(rotated.body.previousSecretExpiresAt).toBeNull();
    const got = await rest("GET", `/v1/webhooks/${hook.id}`, { key: site.adminKey });
    expect(JSON.stringify(got.body)).not.toContain(rotated.body.secret);

    receiver.register(hook.path, rotated.body.secret);
    const tested = await rest("POST", `/v1/webhooks/${hook.id}/test`, { key: site.adminKey });
    expect(tested.body.result).toMatchObject({ ok: true, status: 200 });
    const [delivery] = receiver.at(hook.path);
    expect(delivery?.verified).toBe(true);
    expect(verifyOwletteSignature(hook.secret, delivery?.body ?? "", delivery?.headers["x-owlette-signature"] as string)).toBe(false);

    const overlap = await rest("POST", `/v1/webhooks/${hook.id}/rotate-secret`, { key: site.adminKey });
    expect(Date.parse(overlap.body.previousSecretExpiresAt) - Date.now()).toBeGreaterThan(23 * 3600_000);
  });

  it("sends a signed webhook.test and writes the result back as lastStatus", async () => {
    const site = await newSite();
    const hook = await createHook(site);
    const ok = await rest("POST", `/v1/webhooks/${hook.id}/test`, { key: site.adminKey });
    expect(ok.status).toBe(200);
    expect(ok.body.result).toMatchObject({ ok: true, status: 200, error: null });
    const [delivery] = receiver.at(hook.path);
    expect(delivery?.verified).toBe(true);
    expect(delivery?.payload).toMatchObject({ event: "webhook.test", site: { id: site.siteId, name: "API Site" }, data: { webhookId: hook.id } });
    expect(delivery?.headers["x-owlette-event"]).toBe("webhook.test");

    receiver.respondWith(hook.path, () => 503);
    const failed = await rest("POST", `/v1/webhooks/${hook.id}/test`, { key: site.adminKey });
    expect(failed.body.result).toMatchObject({ ok: false, status: 503 });
    const doc = (await store.db.doc(paths.webhook(site.siteId, hook.id)).get()).data();
    expect(doc).toMatchObject({ lastStatus: 503, failCount: 0, enabled: true });
  });

  it("probes a URL before it is saved, signed with a one-time secret it returns", async () => {
    const site = await newSite();
    const path = `/probe/${uniqueId("p")}`;
    const res = await rest("POST", "/v1/webhooks/probe", { key: site.adminKey, body: { url: receiver.url(path), headers: { Authorization: "Bearer r-123" } } });
    expect(res.status).toBe(200);
    expect(res.body.result).toMatchObject({ ok: false, status: 401 });
    const [probe] = receiver.at(path);
    expect(probe?.payload?.event).toBe("webhook.test");
    expect(probe?.headers.authorization).toBe("Bearer r-123");
    expect(verifyOwletteSignature(res.body.secret, probe?.body ?? "", probe?.headers["x-owlette-signature"] as string)).toBe(true);
    expect((await rest("GET", "/v1/webhooks", { key: site.adminKey })).body.data).toEqual([]);

    const refused = await rest("POST", "/v1/webhooks/probe", { key: site.adminKey, body: { url: "https://169.254.169.254/latest" } });
    expect(refused.status).toBe(400);
    expect(refused.body.error.details[0].path).toBe("url");
    const member = await rest("POST", "/v1/webhooks/probe", { key: site.memberKey, body: { url: receiver.url(path) } });
    expect(member.status).toBe(403);
  });
});

describe("deliveries: history, paging, retry, delete", () => {
  it("pages through deliveries newest first, filters by status, and retries a failed one", async () => {
    const site = await newSite();
    const hook = await createHook(site);
    // One process's crashes fail at the receiver (5 attempts, then failed); the others succeed.
    let failing = true;
    receiver.respondWith(hook.path, (d) => (failing && d.payload?.data?.processName === "Resolume" ? 500 : 200));
    await crash(site.siteId, "p1");
    await crash(site.siteId, "p2", "Resolume");
    await crash(site.siteId, "p3");
    const recordsOf = async () => (await store.db.collection(paths.deliveries(site.siteId, hook.id)).get()).docs.map((d) => d.data());
    await waitFor("three settled deliveries", async () => {
      const records = await recordsOf();
      return records.length === 3 && records.every((r) => r.status === "failed" || r.status === "succeeded");
    });

    const page1 = await rest("GET", `/v1/webhooks/${hook.id}/deliveries?limit=2`, { key: site.memberKey });
    expect(page1.status).toBe(200);
    expect(page1.body.data).toHaveLength(2);
    expect(page1.body.nextCursor).toEqual(expect.any(String));
    const page2 = await rest("GET", `/v1/webhooks/${hook.id}/deliveries?limit=2&cursor=${page1.body.nextCursor}`, { key: site.memberKey });
    expect(page2.body.data).toHaveLength(1);
    expect(page2.body.nextCursor).toBeNull();
    const all = [...page1.body.data, ...page2.body.data];
    expect(new Set(all.map((d: { id: string }) => d.id)).size).toBe(3);
    const created = all.map((d: { createdAt: string }) => Date.parse(d.createdAt));
    expect(created).toEqual([...created].sort((a, b) => b - a));

    const failedOnly = await rest("GET", `/v1/webhooks/${hook.id}/deliveries?status=failed`, { key: site.memberKey });
    expect(failedOnly.body.data).toHaveLength(1);
    const [failed] = failedOnly.body.data;
    expect(failed).toMatchObject({ status: "failed", eventType: "process.crashed", attemptCount: 5 });

    failing = false;
    const retried = await rest("POST", `/v1/webhooks/${hook.id}/deliveries/${failed.id}/retry`, { key: site.adminKey });
    expect(retried.status).toBe(200);
    expect(retried.body.result).toMatchObject({ ok: true, status: 200, attempt: 6 });
    expect(retried.body.delivery).toMatchObject({ id: failed.id, status: "succeeded", attemptCount: 6 });
    expect(retried.body.delivery.attempts[5]).toMatchObject({ attempt: 6, status: 200, manual: true });
    const last = receiver.at(hook.path).at(-1);
    expect(last?.verified).toBe(true);
    expect(last?.headers["x-owlette-delivery"]).toBe(failed.id);

    const again = await rest("POST", `/v1/webhooks/${hook.id}/deliveries/${failed.id}/retry`, { key: site.adminKey });
    expect(again.status).toBe(409);
    expect(again.body.error.code).toBe("conflict");
    expect((await rest("GET", `/v1/webhooks/${hook.id}/deliveries?status=failed`, { key: site.memberKey })).body.data).toEqual([]);
    const got = await rest("GET", `/v1/webhooks/${hook.id}`, { key: site.memberKey });
    expect(got.body.recentDeliveries).toHaveLength(3);
    expect(got.body.webhook.failCount).toBe(0);
  });

  it("refuses to retry while the webhook is paused; the skipped delivery can be retried after resume", async () => {
    const site = await newSite();
    const hook = await createHook(site);
    await rest("POST", `/v1/webhooks/${hook.id}/pause`, { key: site.adminKey });
    await crash(site.siteId, "p1");
    // A paused webhook is not subscribed: nothing is queued for it.
    await sleep(2000);
    expect(receiver.at(hook.path)).toHaveLength(0);
    // A retry that came due while paused was recorded as skipped, like this one.
    const deliveryId = "dlv_paused_example";
    await store.db.doc(paths.delivery(site.siteId, hook.id, deliveryId)).set({
      id: deliveryId,
      eventId: "evt_missing",
      status: "skipped",
      skippedReason: "webhook_paused",
      attempts: [],
      createdAt: FieldValue.serverTimestamp(),
    });
    const paused = await rest("POST", `/v1/webhooks/${hook.id}/deliveries/${deliveryId}/retry`, { key: site.adminKey });
    expect(paused.status).toBe(409);
    expect(paused.body.error.message).toMatch(/disabled/);
    await rest("POST", `/v1/webhooks/${hook.id}/resume`, { key: site.adminKey });
    const expired = await rest("POST", `/v1/webhooks/${hook.id}/deliveries/${deliveryId}/retry`, { key: site.adminKey });
    expect(expired.status).toBe(409);
    expect(expired.body.error.message).toMatch(/expired/);
  });

  it("a failed manual retry leaves a pending delivery on its schedule, and the scheduled attempt still goes out", async () => {
    const site = await newSite();
    const hook = await createHook(site);
    receiver.respondWith(hook.path, (_d, n) => (n === 1 ? 503 : 200));
    const eventId = "evt_pending_case";
    const deliveryId = "dlv_pending_case";
    const due = new Date(Date.now() + 3_600_000);
    await seedPendingDelivery(store, { siteId: site.siteId, webhookId: hook.id, eventId, deliveryId }, { nextAttemptAt: due });
    const retried = await rest("POST", `/v1/webhooks/${hook.id}/deliveries/${deliveryId}/retry`, { key: site.adminKey });
    expect(retried.body.result).toMatchObject({ ok: false, status: 503, attempt: 2 });
    expect(retried.body.delivery).toMatchObject({ status: "pending", attemptCount: 2, nextAttemptAt: due.toISOString() });

    // The scheduled attempt 2 is not mistaken for the manual one.
    await taskQueueEnqueue(REGION)({ siteId: site.siteId, webhookId: hook.id, eventId, deliveryId, attempt: 2 }, 0);
    const record = await waitFor("the scheduled attempt", async () => {
      const data = (await store.db.doc(paths.delivery(site.siteId, hook.id, deliveryId)).get()).data();
      return data?.status === "succeeded" && data;
    });
    expect(record.attempts.map((a: { attempt: number; manual?: boolean; status: number }) => [a.attempt, a.manual ?? false, a.status])).toEqual([
      [1, false, 500],
      [2, true, 503],
      [2, false, 200],
    ]);
    expect(receiver.at(hook.path)).toHaveLength(2);
  });

  it("a manual retry that fails while the scheduled attempt succeeds leaves the delivery succeeded", async () => {
    const site = await newSite();
    const hook = await createHook(site);
    // The manual retry's request hangs to the deadline; the scheduled attempt, sent meanwhile, succeeds.
    receiver.respondWith(hook.path, (_d, n) => (n === 1 ? "hang" : 200));
    const eventId = "evt_crossing";
    const deliveryId = "dlv_crossing";
    await seedPendingDelivery(store, { siteId: site.siteId, webhookId: hook.id, eventId, deliveryId });
    const manual = rest("POST", `/v1/webhooks/${hook.id}/deliveries/${deliveryId}/retry`, { key: site.adminKey });
    await waitFor("the manual request", () => receiver.at(hook.path).length === 1);
    await taskQueueEnqueue(REGION)({ siteId: site.siteId, webhookId: hook.id, eventId, deliveryId, attempt: 2 }, 0);
    const res = await manual;
    expect(res.body.result).toEqual({ ok: false, status: null, error: "unreachable", durationMs: null, responseSnippet: null, attempt: 2 });
    const record = await waitFor("both attempts recorded", async () => {
      const data = (await store.db.doc(paths.delivery(site.siteId, hook.id, deliveryId)).get()).data();
      return data?.attempts.length === 3 && data;
    });
    expect(record).toMatchObject({ status: "succeeded", nextAttempt: null });
    expect(res.body.delivery.status).toBe("succeeded");
    await sleep(1500);
    expect(receiver.at(hook.path)).toHaveLength(2);
  });

  it("deletes a webhook: its pending delivery is skipped and never sent, its history is kept", async () => {
    const site = await newSite();
    const hook = await createHook(site);
    // A delivery whose first attempt failed and whose retry is scheduled.
    const eventId = "evt_delete_case";
    const deliveryId = "dlv_delete_case";
    await seedPendingDelivery(store, { siteId: site.siteId, webhookId: hook.id, eventId, deliveryId });
    const deleted = await rest("DELETE", `/v1/webhooks/${hook.id}`, { key: site.adminKey });
    expect(deleted.status).toBe(200);
    expect(deleted.body).toEqual({ id: hook.id, deleted: true, pendingDeliveriesSkipped: 1 });

    // The scheduled retry fires after the delete.
    await taskQueueEnqueue(REGION)({ siteId: site.siteId, webhookId: hook.id, eventId, deliveryId, attempt: 2 }, 0);
    await sleep(2500);
    expect(receiver.at(hook.path)).toHaveLength(0);
    const record = (await store.db.doc(paths.delivery(site.siteId, hook.id, deliveryId)).get()).data();
    expect(record).toMatchObject({ status: "skipped", skippedReason: "webhook_deleted", attemptCount: 1 });
    expect((await store.db.doc(paths.webhookSecret(site.siteId, hook.id)).get()).exists).toBe(false);
    expect((await rest("GET", `/v1/webhooks/${hook.id}`, { key: site.adminKey })).status).toBe(404);
    expect((await rest("DELETE", `/v1/webhooks/${hook.id}`, { key: site.adminKey })).status).toBe(404);
  });
});
