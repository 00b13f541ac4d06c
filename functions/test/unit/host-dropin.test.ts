import { Timestamp, type Firestore } from "firebase-admin/firestore";
import {
  HOST_SENDER_EVENTS,
  LIMITS,
  checkReport,
  countsAsActive,
  takesReport,
  createHostSenders,
  jsonCopy,
  subscriptionNames,
  testResultFrom,
  testTargetProblem,
  testUrlProblem,
} from "../../../integrations/owlette-host/webhookSender.server";
import { HOST_SENDER_EVENTS as PIPELINE_HOST_EVENTS } from "../../src/domain/host-vocabulary";

// The drop-in the Owlette host imports instead of its own webhook sender: what it refuses, the
// names a webhook may be subscribed under, which webhooks it counts, and the two hand-over docs.

const machine = { id: "m-1", name: "Media server" };
const crash = { machine, process: { name: "TouchDesigner", error: "exit 1" } };

/** The refusal's message, or "accepted". */
function refusal(siteId: unknown, siteName: unknown, eventType: unknown, data: unknown): string {
  try {
    checkReport(siteId, siteName, eventType, data);
    return "accepted";
  } catch (e) {
    return (e as Error).message;
  }
}

describe("the drop-in's event list", () => {
  it("is the pipeline's HOST_SENDER_EVENTS, no more and no fewer", () => {
    expect([...HOST_SENDER_EVENTS].sort()).toEqual([...PIPELINE_HOST_EVENTS].sort());
    expect(new Set(HOST_SENDER_EVENTS).size).toBe(HOST_SENDER_EVENTS.length);
  });
});

describe("fireWebhooks' checks", () => {
  it("accept what the host's routes send", () => {
    expect(refusal("site-1", "Lobby", "process.crashed", crash)).toBe("accepted");
    expect(refusal("site-1", "", "process.restarted", { machine, process: { name: "x", error: undefined } })).toBe("accepted");
    expect(refusal("site-1", "Lobby", "machine.offline", { machine: { ...machine, lastSeen: "2025-06-01T00:00:00.000Z" } })).toBe("accepted");
    expect(refusal("site-1", "Lobby", "threshold.breached", { machine, alert: { metric: "cpu", value: 97, threshold: 90 } })).toBe("accepted");
    expect(refusal("site-1", "Lobby", "display.drift", { machine, monitors: [{ id: 1 }] })).toBe("accepted");
  });

  it.each([
    ["siteId", ["", "Lobby", "machine.online", { machine }]],
    ["siteId", ["a/b", "Lobby", "machine.online", { machine }]],
    ["siteId", ["s".repeat(129), "Lobby", "machine.online", { machine }]],
    ["siteId", [42, "Lobby", "machine.online", { machine }]],
    ["siteName", ["site-1", undefined, "machine.online", { machine }]],
    ["siteName", ["site-1", "n".repeat(201), "machine.online", { machine }]],
    ['unknown event "webhook.test"', ["site-1", "Lobby", "webhook.test", { machine }]],
    ["unknown event undefined", ["site-1", "Lobby", undefined, { machine }]],
    ["data must be a plain object", ["site-1", "Lobby", "machine.online", null]],
    ["data must be a plain object", ["site-1", "Lobby", "machine.online", [machine]]],
    ["data.machine", ["site-1", "Lobby", "machine.online", {}]],
    ["data.machine.id", ["site-1", "Lobby", "machine.online", { machine: { name: "no id" } }]],
    ["data.machine.id", ["site-1", "Lobby", "machine.online", { machine: { id: "" } }]],
    ["data.machine.id", ["site-1", "Lobby", "machine.online", { machine: { id: "m/1" } }]],
    ["data.machine.id", ["site-1", "Lobby", "machine.online", { machine: { id: "m".repeat(129) } }]],
    ["data.process.name", ["site-1", "Lobby", "process.crashed", { machine }]],
    ["data.process.name", ["site-1", "Lobby", "process.restarted", { machine, process: { name: "" } }]],
    ["data.machine.seen", ["site-1", "Lobby", "machine.online", { machine: { ...machine, seen: new Map() } }]],
    ["data.alert.value", ["site-1", "Lobby", "threshold.breached", { machine, alert: { value: NaN } }]],
  ] as const)("refuse, naming %s", (named, args) => {
    const [siteId, siteName, eventType, data] = args;
    const message = refusal(siteId, siteName, eventType, data);
    expect(message).not.toBe("accepted");
    expect(message).toContain(named);
  });

  it("name every accepted event when refusing one", () => {
    const message = refusal("site-1", "Lobby", "process.start_failed", { machine });
    expect(message).toMatch(/^unknown event "process\.start_failed"; the pipeline accepts: /);
    for (const event of HOST_SENDER_EVENTS) expect(message).toContain(event);
  });

  it("keep the JSON of data within 16 KiB, counted in UTF-8 bytes", () => {
    const base = JSON.stringify({ machine, pad: "" }).length;
    const fits = { machine, pad: "x".repeat(LIMITS.dataBytes - base) };
    expect(refusal("site-1", "Lobby", "machine.online", fits)).toBe("accepted");
    expect(refusal("site-1", "Lobby", "machine.online", { ...fits, pad: `${fits.pad}x` })).toBe(
      `data is ${LIMITS.dataBytes + 1} bytes as JSON; at most 16384 are accepted`,
    );
    // "é" is one character and two bytes.
    const wide = { machine, pad: "é".repeat((LIMITS.dataBytes - base) / 2 + 1) };
    expect(refusal("site-1", "Lobby", "machine.online", wide)).toContain("bytes as JSON");
  });

  it("store data as JSON carries it", () => {
    const report = checkReport("site-1", "Lobby", "machine.offline", {
      machine: { id: "m-1", name: undefined, lastSeen: new Date("2025-06-01T00:00:00Z") },
      extra: undefined,
    });
    expect(report).toEqual({ event: "machine.offline", siteName: "Lobby", data: { machine: { id: "m-1", lastSeen: "2025-06-01T00:00:00.000Z" } } });
    expect(Object.keys(report.data)).toEqual(["machine"]);
  });
});

describe("jsonCopy", () => {
  it("refuses, by path, what JSON.stringify would change silently or cannot write", () => {
    const loop: Record<string, unknown> = { a: 1 };
    loop.self = loop;
    expect(() => jsonCopy({ f: () => 1 })).toThrow("data.f is");
    expect(() => jsonCopy({ n: Infinity })).toThrow("data.n is Infinity");
    expect(() => jsonCopy({ big: BigInt(1) })).toThrow("data.big is");
    expect(() => jsonCopy({ list: [1, undefined] })).toThrow("data.list[1] is undefined");
    expect(() => jsonCopy({ set: new Set([1]) })).toThrow("data.set is an object (Set)");
    expect(() => jsonCopy(loop)).toThrow("data.self refers back to itself");
    // A Firestore Timestamp would become {_seconds, _nanoseconds}: the host should send an ISO string.
    expect(() => jsonCopy({ lastSeen: Timestamp.now() })).toThrow("data.lastSeen is an object (Timestamp)");
  });

  it("allows the same object twice when it is not a cycle", () => {
    const shared = { id: "x" };
    expect(jsonCopy({ a: shared, b: [shared] })).toEqual({ a: { id: "x" }, b: [{ id: "x" }] });
  });
});

describe("subscriptionNames", () => {
  it("adds the names earlier dashboards stored for the same event", () => {
    expect(subscriptionNames("process.restarted", crash)).toEqual(["process.restarted", "process.start_failed"]);
    expect(subscriptionNames("machine.offline", { machine })).toEqual(["machine.offline", "connection_failure"]);
    expect(subscriptionNames("machine.offline", { machine: { ...machine, lastSeen: null } })).toEqual(["machine.offline", "connection_failure"]);
  });

  it("adds none otherwise: an offline sweep's report has lastSeen", () => {
    expect(subscriptionNames("machine.offline", { machine: { ...machine, lastSeen: "2025-06-01T00:00:00.000Z" } })).toEqual(["machine.offline"]);
    expect(subscriptionNames("process.crashed", crash)).toEqual(["process.crashed"]);
    expect(subscriptionNames("display.drift", { machine })).toEqual(["display.drift"]);
  });
});

describe("countsAsActive", () => {
  it("counts webhooks of either generation unless deleted, paused or disabled", () => {
    expect(countsAsActive({ enabled: true })).toBe(true);
    expect(countsAsActive({ paused: false, deletedAt: null })).toBe(true);
    expect(countsAsActive({})).toBe(true);
    expect(countsAsActive({ enabled: false })).toBe(false);
    expect(countsAsActive({ paused: true })).toBe(false);
    expect(countsAsActive({ enabled: true, deletedAt: "2025-07-01T00:00:00Z" })).toBe(false);
  });

  it("counts a connection failure for a webhook subscribed under machine.offline only when it is a dashboard (v1) doc", () => {
    const names = subscriptionNames("machine.offline", { machine });
    expect(takesReport({ enabled: true, events: ["machine.offline"], hostShape: "dashboard" }, names)).toBe(true);
    expect(takesReport({ enabled: true, events: ["machine.offline"], secret: "s" }, names)).toBe(true);
    expect(takesReport({ enabled: true, events: ["machine.offline"] }, names)).toBe(false);
    expect(takesReport({ events: ["machine.offline"], hostShape: "api", paused: false }, names)).toBe(false);
    expect(takesReport({ enabled: true, events: ["connection_failure"] }, names)).toBe(true);
    // The offline check's report: every machine.offline subscriber gets the pipeline's own outage event.
    const cron = subscriptionNames("machine.offline", { machine: { ...machine, lastSeen: "2025-06-01T00:00:00.000Z" } });
    expect(takesReport({ enabled: true, events: ["machine.offline"] }, cron)).toBe(true);
  });
});

describe("testWebhook's checks", () => {
  it("take absolute http(s) URLs of at most 2048 characters", () => {
    expect(testUrlProblem("https://hooks.example.com/in")).toBeUndefined();
    expect(testUrlProblem("http://10.0.0.2:8080/x")).toBeUndefined();
    expect(testUrlProblem("/relative")).toContain("not an absolute URL");
    expect(testUrlProblem("ftp://example.com")).toContain("http or https");
    expect(testUrlProblem(`https://e.example/${"p".repeat(2048)}`)).toContain("at most 2048");
    expect(testUrlProblem(undefined)).toContain("url must be a string");
  });

  it("name the target's bad field", () => {
    expect(testTargetProblem(undefined)).toBeUndefined();
    expect(testTargetProblem({ siteId: "s", webhookId: "w" })).toBeUndefined();
    expect(testTargetProblem({ siteId: "s" })).toContain("target.webhookId");
    expect(testTargetProblem({ siteId: "s/x", webhookId: "w" })).toContain("target.siteId");
    expect(testTargetProblem("s/w")).toContain("target must be");
  });

  it("read the pipeline's answer", () => {
    expect(testResultFrom({ status: 200 })).toEqual({ status: 200 });
    expect(testResultFrom({ status: 0, error: "unreachable", extra: 1 })).toEqual({ status: 0, error: "unreachable" });
    expect(testResultFrom({ status: "200" })).toBeUndefined();
    expect(testResultFrom("ok")).toBeUndefined();
  });
});

// -------------------------------------------------------------------------------------------
// The senders on a stand-in for the few Firestore calls they make.

interface Written {
  path: string;
  data: Record<string, unknown>;
}

function fakeFirestore(webhooks: Record<string, unknown>[], answer?: (write: Written) => unknown) {
  const writes: Written[] = [];
  const queries: { path: string; field: string; op: string; value: unknown }[] = [];
  let listeners = 0;
  const db = {
    collection: (path: string) => ({
      add: async (data: Record<string, unknown>) => {
        writes.push({ path, data });
        return { id: "r-1" };
      },
      where: (field: string, op: string, value: unknown) => ({
        get: async () => {
          queries.push({ path, field, op, value });
          return { docs: webhooks.map((w) => ({ data: () => w })) };
        },
      }),
      doc: () => {
        let stored: Written | undefined;
        return {
          set: async (data: Record<string, unknown>) => {
            stored = { path, data };
            writes.push(stored);
          },
          onSnapshot: (next: (snap: { get: (field: string) => unknown }) => void) => {
            listeners++;
            const result = stored && answer ? answer(stored) : undefined;
            setTimeout(() => next({ get: (field) => (field === "result" ? result : undefined) }), 1);
            return () => listeners--;
          },
        };
      },
    }),
  };
  return { db: db as unknown as Firestore, writes, queries, listening: () => listeners };
}

describe("createHostSenders", () => {
  it("fireWebhooks writes one report and counts active subscribers with one query", async () => {
    const v1 = { events: ["machine.offline"], secret: "s" };
    const fake = fakeFirestore([
      { ...v1, enabled: true },
      { ...v1, paused: true },
      { ...v1, deletedAt: "2025-07-01" },
      { ...v1, paused: false },
      { enabled: true, events: ["machine.offline"] },
    ]);
    const { fireWebhooks } = createHostSenders(fake.db);
    await expect(fireWebhooks("site-1", "Lobby", "machine.offline", { machine })).resolves.toBe(2);
    expect(fake.queries).toEqual([
      { path: "sites/site-1/webhooks", field: "events", op: "array-contains-any", value: ["machine.offline", "connection_failure"] },
    ]);
    expect(fake.writes).toHaveLength(1);
    const [report] = fake.writes;
    expect(report!.path).toBe("sites/site-1/hostReports");
    expect(report!.data).toMatchObject({ event: "machine.offline", siteName: "Lobby", data: { machine } });
    expect(Object.keys(report!.data).sort()).toEqual(["data", "event", "expireAt", "reportedAt", "siteName"]);
    const expireAt = (report!.data.expireAt as { toMillis: () => number }).toMillis();
    expect(expireAt - Date.now()).toBeGreaterThan(7 * 24 * 3600_000 - 60_000);
  });

  it("hands a threshold or display event over only when a webhook takes it; a crash always (its log doc is the other report)", async () => {
    const alert = { ruleName: "CPU", metric: "cpu", value: 97, threshold: 90 };
    const none = fakeFirestore([]);
    await expect(createHostSenders(none.db).fireWebhooks("site-1", "Lobby", "threshold.breached", { machine, alert })).resolves.toBe(0);
    expect(none.writes).toEqual([]);
    await expect(createHostSenders(none.db).fireWebhooks("site-1", "Lobby", "process.crashed", crash)).resolves.toBe(0);
    expect(none.writes).toHaveLength(1);
    const one = fakeFirestore([{ enabled: true, events: ["threshold.breached"] }]);
    await expect(createHostSenders(one.db).fireWebhooks("site-1", "Lobby", "threshold.breached", { machine, alert })).resolves.toBe(1);
    expect(one.writes).toHaveLength(1);
  });

  it("fireWebhooks rejects a refused report without writing, so `.catch(console.error)` sees it", async () => {
    const fake = fakeFirestore([]);
    await expect(createHostSenders(fake.db).fireWebhooks("site-1", "Lobby", "machine.exploded", { machine })).rejects.toThrow(
      'unknown event "machine.exploded"',
    );
    expect(fake.writes).toEqual([]);
    expect(fake.queries).toEqual([]);
  });

  it("testWebhook writes the request without the secret and resolves with the pipeline's answer", async () => {
    const fake = fakeFirestore([], () => ({ status: 204 }));
    const { testWebhook } = createHostSenders(fake.db);
    await expect(testWebhook("https://hooks.example.com/in", "whsec-should-not-leave", { siteId: "site-1", webhookId: "wh-1" })).resolves.toEqual({
      status: 204,
    });
    expect(fake.writes).toHaveLength(1);
    const [request] = fake.writes;
    expect(request!.path).toBe("hostRequests");
    expect(request!.data).toMatchObject({ kind: "test", url: "https://hooks.example.com/in", siteId: "site-1", webhookId: "wh-1" });
    expect(JSON.stringify(request!.data)).not.toContain("whsec");
    expect(fake.listening()).toBe(0);
  });

  it("testWebhook without a target or secret, as the host's button calls it after adoption", async () => {
    const fake = fakeFirestore([], () => ({ status: 0, error: "unreachable" }));
    await expect(createHostSenders(fake.db).testWebhook("https://hooks.example.com/in", undefined)).resolves.toEqual({ status: 0, error: "unreachable" });
    expect(Object.keys(fake.writes[0]!.data).sort()).toEqual(["expireAt", "kind", "requestedAt", "url"]);
  });

  it("testWebhook gives up after the timeout and stops listening", async () => {
    const fake = fakeFirestore([]);
    const { testWebhook } = createHostSenders(fake.db, { testTimeoutMs: 30 });
    await expect(testWebhook("https://hooks.example.com/in", "s")).resolves.toEqual({ status: 0, error: "the webhook pipeline did not answer within 0.03 s" });
    expect(fake.listening()).toBe(0);
  });

  it("testWebhook resolves a bad URL or target without writing", async () => {
    const fake = fakeFirestore([]);
    const { testWebhook } = createHostSenders(fake.db);
    await expect(testWebhook("javascript:alert(1)", "s")).resolves.toEqual({ status: 0, error: 'url must be http or https (got "javascript:")' });
    await expect(testWebhook("https://ok.example", "s", { siteId: "", webhookId: "w" })).resolves.toMatchObject({
      status: 0,
      error: expect.stringContaining("target.siteId"),
    });
    expect(fake.writes).toEqual([]);
  });
});

describe("the module's own fireWebhooks and testWebhook", () => {
  it("say so clearly when no default firebase-admin app is initialised", async () => {
    const dropIn = await import("../../../integrations/owlette-host/webhookSender.server");
    await expect(dropIn.fireWebhooks("site-1", "Lobby", "machine.online", { machine })).rejects.toThrow("no default firebase-admin app is initialised");
    await expect(dropIn.testWebhook("https://hooks.example.com/in", "s")).resolves.toEqual({
      status: 0,
      error: expect.stringContaining("no default firebase-admin app"),
    });
  });

  it("use a configured Firestore and timeout, the default timeout being 15 s", async () => {
    jest.useFakeTimers();
    try {
      const dropIn = await import("../../../integrations/owlette-host/webhookSender.server");
      const fake = fakeFirestore([{ enabled: true }]);
      dropIn.configureOwletteHost({ db: fake.db });
      await expect(dropIn.fireWebhooks("site-1", "Lobby", "process.crashed", crash)).resolves.toBe(1);
      const pending = dropIn.testWebhook("https://hooks.example.com/in", undefined);
      await jest.advanceTimersByTimeAsync(15_000);
      await expect(pending).resolves.toEqual({ status: 0, error: "the webhook pipeline did not answer within 15 s" });
      expect(() => dropIn.configureOwletteHost({ testTimeoutMs: 0 })).toThrow("testTimeoutMs must be a positive number");
    } finally {
      jest.useRealTimers();
    }
  });
});
