import { createServer as createHttpServer } from "node:http";
import { createServer, type AddressInfo, type Server, type Socket } from "node:net";
import type { Principal } from "../../src/api/access";
import { createService, type ServiceDeps } from "../../src/api/service";
import { deliveryView, webhookView } from "../../src/api/views";
import type { PipelineConfig } from "../../src/config";
import type { ManagementStore, StoredDoc } from "../../src/data/management-store";
import type { Store } from "../../src/data/store";
import type { SecretDoc, WebhookDoc } from "../../src/data/webhook-docs";
import { deliver } from "../../src/delivery/deliver";
import { sendHttp } from "../../src/delivery/http-sender";
import type { Resolver } from "../../src/delivery/resolve-destination";
import type { DeliveryTask } from "../../src/delivery/task-queue";
import type { Log } from "../../src/log";
import { closedPort } from "../support/ports";

// Security review, issue 20, finding 5: the probe answered only coarse words, but the test
// action, manual retries and delivery records kept each failure's detail and time, so a site
// admin could map internal DNS and ports through them. Each test fails on the code before the fix.

const SITE = "site-1";
const WEBHOOK = "wh-1";
const NOW = new Date("2026-03-22T10:30:00Z");
/** What is said of an attempt that got no HTTP answer, besides its word. */
const NO_ANSWER = { status: null, durationMs: null, responseSnippet: null };

/** What a reconnaissance-minded admin must not learn from any answer or record. */
const DETAILS = /10\.20\.30\.40|169\.254|private|link-local|resolve|ENOTFOUND|ECONNREFUSED|ETIMEDOUT|within \d+ ms/;

const config = {
  deliveryTimeoutMs: 400,
  // As long as the timeout: no fast-lane move in these tests.
  fastLaneDeadlineMs: 400,
  staleAfterSeconds: 210,
  sweepPassesPerMinute: 6,
  presenceMode: "trigger",
  retrySchedule: [0, 60, 300],
  slowLaneSiteShare: 5,
  allowLocalHttp: true,
} as PipelineConfig;

/** Names as an internal resolver would answer them; any other name does not exist. */
const resolve: Resolver = async (host) => {
  const known: Record<string, string[]> = { "db.corp.internal": ["10.20.30.40"], "metadata.google.internal": ["169.254.169.254"] };
  const found = known[host];
  if (found) return found;
  throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), { code: "ENOTFOUND" });
};

function recordingLog() {
  const lines: { message: string; data?: Record<string, unknown> }[] = [];
  const add = (message: string, data?: Record<string, unknown>) => void lines.push({ message, ...(data ? { data } : {}) });
  const log: Log = { info: add, warn: add, error: add };
  return { log, lines };
}

let servers: Server[] = [];
const sockets: Socket[] = [];
afterEach(async () => {
  for (const s of sockets.splice(0)) s.destroy();
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  servers = [];
});

/** A port that accepts and never says a word (a timeout). */
async function silentPort(): Promise<number> {
  const server = createServer((socket) => void sockets.push(socket));
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return (server.address() as AddressInfo).port;
}

/** An HTTP receiver that answers 503 "busy". */
async function busyReceiver(): Promise<number> {
  const server = createHttpServer((_req, res) => res.writeHead(503).end("busy"));
  servers.push(server as unknown as Server);
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return (server.address() as AddressInfo).port;
}

const secret: SecretDoc = { current: "whsec_test", previous: [], headers: {} };
const webhookDoc = (url: string): WebhookDoc => ({
  name: "Ops",
  url,
  events: ["process.crashed"],
  enabled: true,
  failCount: 0,
  lastStatus: 200,
  disabledReason: null,
  signatureScheme: "owlette",
  method: "POST",
  format: "owlette",
  secretVersion: 0,
  failStreak: [],
});

const admin: Principal = { kind: "user", user: { uid: "admin-1", role: "admin", sites: [SITE] } };

/** The service over in-memory stores holding one webhook (and one failed delivery of it) at `url`. */
function serviceFor(url: string) {
  const { log, lines } = recordingLog();
  const testStatuses: (number | string)[] = [];
  const records: Parameters<Store["deliveries"]["recordAttempt"]>[0][] = [];
  const body = JSON.stringify({ id: "evt_1", event: "process.crashed", data: {} });
  const delivery = { eventId: "evt_1", status: "failed", attempts: [{ attempt: 1, status: 500, error: null, durationMs: 3, responseSnippet: "no" }] };
  const store = {
    reads: {
      loadDeliveryContext: async () => ({
        webhook: webhookDoc(url),
        secret,
        event: { type: "process.crashed", body },
        delivery: { ...delivery, status: "failed" as const },
        deliveryExists: true,
      }),
    },
    deliveries: {
      recordAttempt: async (input: Parameters<Store["deliveries"]["recordAttempt"]>[0]) => {
        records.push(input);
        return { status: input.delivery.status };
      },
    },
    health: { settleFailure: async () => ({ disabled: false, failCount: 1 }) },
  };
  const stored = (): StoredDoc => ({
    id: "dlv_1",
    data: { ...delivery, attempts: [...delivery.attempts, ...records.map((r) => r.delivery.attempt)] },
  });
  const manage = {
    loadSite: async () => ({ name: "Site", owner: "someone" }),
    countUse: async () => true,
    getWebhook: async () => ({ id: WEBHOOK, data: { ...webhookDoc(url) } }),
    getDelivery: async () => stored(),
    recordTestResult: async (_s: string, _w: string, lastStatus: number | string) => {
      testStatuses.push(lastStatus);
      return true;
    },
  };
  const deps: ServiceDeps = {
    store: store as unknown as Store,
    manage: manage as unknown as ManagementStore,
    send: sendHttp,
    resolve,
    config,
    now: () => NOW,
    log,
  };
  const service = createService(deps);
  return {
    test: () => service.run("webhooks.test", admin, { siteId: SITE, webhookId: WEBHOOK }) as Promise<{ result: Record<string, unknown> }>,
    retry: () =>
      service.run("deliveries.retry", admin, { siteId: SITE, webhookId: WEBHOOK, deliveryId: "dlv_1" }) as Promise<{
        result: Record<string, unknown>;
        delivery: ReturnType<typeof deliveryView>;
      }>,
    testStatuses,
    records,
    lines,
  };
}

describe("issue 20, finding 5: the test action says what the probe says", () => {
  it.each([
    ["a name that resolves to a private address", "https://db.corp.internal/hook", "blocked_url"],
    ["the metadata server's name", "https://metadata.google.internal/computeMetadata/v1/", "blocked_url"],
    ["a name that does not exist", "https://nothing-here.corp.example/hook", "unreachable"],
  ])("%s: %s is %s, without address, code or time", async (_what, url, word) => {
    const svc = serviceFor(url);
    const { result } = await svc.test();
    expect(result).toEqual({ ok: false, ...NO_ANSWER, error: word });
    expect(JSON.stringify(result)).not.toMatch(DETAILS);
    expect(svc.testStatuses).toEqual([word]);
    // The reason is kept for operators, in the server's log only.
    expect(svc.lines.find((l) => l.message === "webhook.tested")?.data).toMatchObject({ lastStatus: word, detail: expect.any(String) });
  });

  it("a refused port and a silent one answer alike", async () => {
    const refused = serviceFor(`http://127.0.0.1:${await closedPort()}/`);
    const silent = serviceFor(`http://127.0.0.1:${await silentPort()}/`);
    const answers = [(await refused.test()).result, (await silent.test()).result];
    expect(answers).toEqual([
      { ok: false, ...NO_ANSWER, error: "unreachable" },
      { ok: false, ...NO_ANSWER, error: "unreachable" },
    ]);
    expect([...refused.testStatuses, ...silent.testStatuses]).toEqual(["unreachable", "unreachable"]);
    expect(refused.lines.find((l) => l.message === "webhook.tested")?.data).toMatchObject({ reason: "connection_refused" });
    expect(silent.lines.find((l) => l.message === "webhook.tested")?.data).toMatchObject({ reason: "timeout" });
  });

  it("an HTTP answer keeps its status, round trip and snippet", async () => {
    const { result } = await serviceFor(`http://127.0.0.1:${await busyReceiver()}/`).test();
    expect(result).toEqual({ ok: false, status: 503, error: null, durationMs: expect.any(Number), responseSnippet: "busy" });
  });
});

describe("issue 20, finding 5: a manual retry records and answers the same words", () => {
  it("a name that does not exist is unreachable in the answer, the stored attempt and the delivery shown", async () => {
    const svc = serviceFor("https://gone.corp.example/hook");
    const { result, delivery } = await svc.retry();
    expect(result).toEqual({ ok: false, ...NO_ANSWER, error: "unreachable", attempt: 2 });
    expect(svc.records.map((r) => r.delivery.attempt)).toEqual([{ attempt: 2, at: NOW, ...NO_ANSWER, error: "unreachable", manual: true }]);
    expect(svc.records[0]?.health).toMatchObject({ kind: "fail", lastStatus: "unreachable" });
    expect(delivery.attempts[1]).toEqual({ attempt: 2, at: null, status: null, error: "unreachable", durationMs: null, responseSnippet: null, manual: true });
    expect(JSON.stringify([result, delivery, svc.records])).not.toMatch(DETAILS);
    expect(svc.lines.find((l) => l.message === "delivery.manual_retry")?.data).toMatchObject({
      reason: "dns_error",
      detail: expect.stringContaining("ENOTFOUND"),
    });
  });
});

describe("issue 20, finding 5: scheduled attempts record the same words", () => {
  async function firstAttemptTo(url: string) {
    const { log, lines } = recordingLog();
    const recorded: Parameters<Store["deliveries"]["recordFirstAttempt"]>[0][] = [];
    const store = {
      secrets: { loadSecret: async () => secret },
      deliveries: {
        recordFirstAttempt: async (input: Parameters<Store["deliveries"]["recordFirstAttempt"]>[0]) => {
          recorded.push(input);
          return "recorded" as const;
        },
      },
      health: { settleFailure: async () => ({ disabled: false, failCount: 1 }) },
    };
    const w = webhookDoc(url);
    const task: DeliveryTask = {
      siteId: SITE,
      webhookId: WEBHOOK,
      eventId: "evt_1",
      deliveryId: "dlv_1",
      attempt: 1,
      event: { type: "process.crashed", body: "{}" },
      webhook: {
        readAtMs: Date.now(),
        url: w.url,
        enabled: true,
        disabledReason: null,
        failCount: 0,
        lastStatus: 200,
        signatureScheme: "owlette",
        method: "POST",
        format: "owlette",
        secretVersion: 0,
        slowUntilMs: null,
      },
    };
    await deliver(task, { store: store as unknown as Store, send: sendHttp, resolve, config, now: () => new Date(), log, enqueue: async () => "enqueued" });
    const [record] = recorded;
    return { attempt: record?.delivery.attempt, health: record?.health, logged: lines.find((l) => l.message === "delivery.attempt")?.data };
  }

  it.each([
    ["https://metadata.google.internal/", "blocked_url", "blocked_url"],
    ["https://nothing-here.corp.example/", "unreachable", "dns_error"],
  ])("%s: %s on the record and the webhook, %s in the log", async (url, word, reason) => {
    const { attempt, health, logged } = await firstAttemptTo(url);
    expect(attempt).toEqual({ attempt: 1, at: expect.any(Date), ...NO_ANSWER, error: word });
    expect(health).toMatchObject({ kind: "fail", lastStatus: word });
    expect(JSON.stringify([attempt, health])).not.toMatch(DETAILS);
    expect(logged).toMatchObject({ lastStatus: word, reason, detail: expect.any(String) });
  });

  it("refused and timed out are one record", async () => {
    const refused = await firstAttemptTo(`http://127.0.0.1:${await closedPort()}/`);
    const silent = await firstAttemptTo(`http://127.0.0.1:${await silentPort()}/`);
    expect({ ...refused.attempt, at: null }).toEqual({ ...silent.attempt, at: null });
    expect(refused.attempt).toMatchObject({ ...NO_ANSWER, error: "unreachable" });
    expect([refused.logged?.reason, silent.logged?.reason]).toEqual(["connection_refused", "timeout"]);
  });

  it("an HTTP answer is recorded with its status, round trip and snippet", async () => {
    const { attempt, health } = await firstAttemptTo(`http://127.0.0.1:${await busyReceiver()}/`);
    expect(attempt).toMatchObject({ status: 503, error: null, durationMs: expect.any(Number), responseSnippet: "busy" });
    expect(health).toMatchObject({ lastStatus: 503 });
  });
});

describe("issue 20, finding 5: what earlier versions stored is shown with the same words", () => {
  it("an attempt record with a detail and a time shows its outcome word alone", () => {
    const doc: StoredDoc = {
      id: "dlv_1",
      data: {
        status: "failed",
        attempts: [
          { attempt: 1, status: null, error: "blocked_url", durationMs: 0, responseSnippet: "db.corp.internal resolves to 10.20.30.40 (private)" },
          { attempt: 2, status: null, error: "connection_refused", durationMs: 2, responseSnippet: "ECONNREFUSED" },
          { attempt: 3, status: null, error: "timeout", durationMs: 5003, responseSnippet: "no connection within 5000 ms" },
          { attempt: 4, status: 502, error: null, durationMs: 40, responseSnippet: "bad gateway" },
        ],
      },
    };
    const shown = deliveryView(doc).attempts.map(({ status, error, durationMs, responseSnippet }) => ({ status, error, durationMs, responseSnippet }));
    expect(shown).toEqual([
      { ...NO_ANSWER, error: "blocked_url" },
      { ...NO_ANSWER, error: "unreachable" },
      { ...NO_ANSWER, error: "unreachable" },
      { status: 502, error: null, durationMs: 40, responseSnippet: "bad gateway" },
    ]);
  });

  it("a webhook's lastStatus word from before is shown as its outcome word", () => {
    expect(webhookView(SITE, { id: WEBHOOK, data: { lastStatus: "dns_error" } }).lastStatus).toBe("unreachable");
    expect(webhookView(SITE, { id: WEBHOOK, data: { lastStatus: "blocked_url" } }).lastStatus).toBe("blocked_url");
    expect(webhookView(SITE, { id: WEBHOOK, data: { lastStatus: 503 } }).lastStatus).toBe(503);
  });
});
