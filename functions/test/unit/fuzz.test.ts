import fc from "fast-check";
import type { Principal } from "../../src/api/access";
import { bearerToken, parseApiKey } from "../../src/api/api-keys";
import { API_ERRORS, ApiError } from "../../src/api/errors";
import { inputSchemas, parseInput } from "../../src/api/inputs";
import { handleRest, ROUTES, type HttpRequest } from "../../src/api/rest";
import { decodeCursor, type Service } from "../../src/api/service";
import { machineDocSchema, processDocSchema } from "../../src/domain/agent-docs";
import { customHeaderProblems } from "../../src/domain/custom-headers";
import { detectMachineEvents } from "../../src/domain/detect-machine-events";
import { detectProcessEvents } from "../../src/domain/detect-process-events";
import { EVENT_TYPES, SUBSCRIBABLE_EVENT_TYPES } from "../../src/domain/event-catalog";
import { buildPayload, serializePayload } from "../../src/domain/payload";
import { nextAttemptDelay, parseRetryAfter, parseRetrySchedule } from "../../src/domain/retry-policy";
import { verifyOwletteSignature } from "../../src/domain/signing";
import type { Log } from "../../src/log";
import { parseWrite, type AgentWrite } from "../../src/triggers/agent-write";
import { verify } from "../../src/receiver/verify";
// Receiver-side checks, through the verification kit with the scheme forced.
const verifySha256 = (header: string | undefined, body: string, secret: string) =>
  verify(body, header === undefined ? {} : { "x-owlette-signature": header }, secret, { scheme: "sha256" }).ok;
const verifyTimestamped = (header: string | undefined, body: string, secret: string, now: number) =>
  verify(body, header === undefined ? {} : { "owlette-signature": header }, secret, { scheme: "timestamped", now }).ok;

// Property tests over bad input: any input yields a valid event, a clean refusal, or nothing;
// never a crash (which a retrying trigger would replay for days) or a retry that never ends.

const RUNS = { numRuns: 300 };
const silent: Log = { info: () => {}, warn: () => {}, error: () => {} };

/** A field that is usually well-typed and sometimes anything at all. */
const maybe = <T>(good: fc.Arbitrary<T>) => fc.oneof({ weight: 4, arbitrary: good }, { weight: 1, arbitrary: fc.anything() });

// Firestore Timestamps are always within years 1-9999.
const timestamp = fc.integer({ min: -62_135_596_800_000, max: 253_402_300_799_000 }).map((ms) => ({ toMillis: () => ms }));

const machineDoc = fc.record(
  {
    online: maybe(fc.boolean()),
    lastHeartbeat: maybe(timestamp),
    machineId: maybe(fc.string()),
    siteId: maybe(fc.string()),
    name: maybe(fc.string({ maxLength: 300 })),
    agent_version: maybe(fc.string()),
    rebooting: maybe(fc.boolean()),
    rebootScheduledAt: maybe(fc.integer()),
    health: maybe(
      fc.record(
        {
          status: maybe(fc.constantFrom("ok", "connection_failure", "degraded")),
          error_code: maybe(fc.oneof(fc.string(), fc.integer())),
          error_message: maybe(fc.string({ maxLength: 3000 })),
        },
        { requiredKeys: [] },
      ),
    ),
  },
  { requiredKeys: [] },
);

const processDoc = fc.record(
  {
    name: maybe(fc.string({ maxLength: 300 })),
    status: maybe(fc.constantFrom("running", "stopped", "crashed", "starting", "")),
    pid: maybe(fc.oneof(fc.integer(), fc.constant(null))),
    exitCode: maybe(fc.oneof(fc.integer(), fc.double(), fc.constant(null))),
    errorMessage: maybe(fc.string({ maxLength: 3000 })),
  },
  { requiredKeys: [] },
);

const side = <T>(doc: fc.Arbitrary<T>) => fc.oneof(doc, fc.constant(undefined), fc.anything());
const write = <T>(doc: fc.Arbitrary<T>) => fc.record({ before: side(doc), after: side(doc), machineId: fc.string({ minLength: 1, maxLength: 40 }) });

function agentWrite(before: unknown, after: unknown): AgentWrite {
  return { eventId: "e1", occurredAt: new Date(0), path: "sites/s/machines/m", params: {}, before, after };
}

/** The pure part of a trigger: parse, detect, build and serialise the payload. */
function expectValidEvents(events: ReturnType<typeof detectMachineEvents>, machineId: string) {
  for (const event of events) {
    expect(EVENT_TYPES).toContain(event.type);
    expect(event.machineId).toBe(machineId);
    const body = serializePayload(buildPayload({ id: "evt_x", detected: event, occurredAt: new Date(0), site: { id: "s", name: "S" } }));
    const parsed = JSON.parse(body);
    expect(parsed).toMatchObject({ id: "evt_x", event: event.type, site: { id: "s" }, data: { machineId } });
    // Agent strings are clipped: a payload stays small whatever the agent wrote.
    expect(body.length).toBeLessThan(20_000);
  }
}

describe("agent docs", () => {
  it("any machine write yields valid events or nothing, never a throw", () => {
    fc.assert(
      fc.property(write(machineDoc), ({ before, after, machineId }) => {
        const docs = parseWrite(machineDocSchema, agentWrite(before, after), silent);
        if (!docs) return;
        expectValidEvents(detectMachineEvents(docs.before, docs.after, machineId), machineId);
      }),
      RUNS,
    );
  });

  it("any process write yields valid events or nothing, never a throw", () => {
    fc.assert(
      fc.property(write(processDoc), ({ before, after, machineId }) => {
        const docs = parseWrite(processDocSchema, agentWrite(before, after), silent);
        if (!docs) return;
        const events = detectProcessEvents(docs.before, docs.after, { machineId, processId: "p" });
        expect(events.every((e) => e.type === "process.crashed")).toBe(true);
        expectValidEvents(events, machineId);
      }),
      RUNS,
    );
  });

  it("a crash is detected whatever else the doc carries, as long as it parses", () => {
    fc.assert(
      fc.property(fc.string({ minLength: 1, maxLength: 256 }), fc.option(fc.integer()), (name, exitCode) => {
        const docs = parseWrite(processDocSchema, agentWrite({ name, status: "running" }, { name, status: "crashed", exitCode }), silent);
        expect(docs).not.toBeNull();
        expect(detectProcessEvents(docs!.before, docs!.after, { machineId: "m", processId: "p" })).toHaveLength(1);
      }),
      RUNS,
    );
  });
});

describe("API inputs", () => {
  const schemas = inputSchemas({ allowLocalHttp: false });
  const eventName = fc.oneof(fc.constantFrom(...EVENT_TYPES), fc.string());
  const url = fc.oneof(
    fc.webUrl({ withQueryParameters: true, withFragments: true }),
    fc.string(),
    fc.constantFrom("https://10.0.0.1/x", "https://[::ffff:127.0.0.1]/", "https://0x7f000001/", "javascript:alert(1)", "https://u:p@example.com/"),
  );
  const headerName = fc.oneof(fc.constantFrom("Host", "X-Owlette-Signature", "Authorization", "X-Token", "content-length"), fc.string());
  const create = fc.record(
    {
      siteId: maybe(fc.string({ maxLength: 300 })),
      name: maybe(fc.string({ maxLength: 120 })),
      url: maybe(url),
      events: maybe(fc.array(eventName, { maxLength: 6 })),
      description: maybe(fc.string({ maxLength: 600 })),
      method: maybe(fc.constantFrom("POST", "PUT", "PATCH", "GET", "post")),
      headers: maybe(fc.dictionary(headerName, maybe(fc.string({ maxLength: 1100 })), { maxKeys: 22 })),
      signatureScheme: maybe(fc.constantFrom("owlette", "sha256", "standard", "timestamped", "md5")),
    },
    { requiredKeys: [] },
  );

  /** Either the parsed input, or an ApiError naming every problem; anything else fails. */
  function outcome<T>(parse: () => T): T | ApiError {
    try {
      return parse();
    } catch (err) {
      expect(err).toBeInstanceOf(ApiError);
      const e = err as ApiError;
      expect(e.code).toBe("invalid_argument");
      expect(e.details.length).toBeGreaterThan(0);
      for (const d of e.details) {
        expect(typeof d.path).toBe("string");
        expect(d.reason.length).toBeGreaterThan(0);
      }
      return e;
    }
  }

  it("a create is either refused with field problems or satisfies every documented limit", () => {
    fc.assert(
      fc.property(fc.oneof({ weight: 5, arbitrary: create }, { weight: 1, arbitrary: fc.anything() }), (input) => {
        const result = outcome(() => parseInput(schemas.createWebhook, input));
        if (result instanceof ApiError) return;
        expect(new URL(result.url).protocol).toBe("https:");
        expect(result.events.length).toBeGreaterThan(0);
        expect(new Set(result.events).size).toBe(result.events.length);
        for (const e of result.events) expect(SUBSCRIBABLE_EVENT_TYPES).toContain(e);
        expect(result.name.length).toBeGreaterThan(0);
        expect(result.name.length).toBeLessThanOrEqual(100);
        expect(customHeaderProblems(result.headers ?? {})).toEqual([]);
      }),
      RUNS,
    );
  });

  it("every other operation's input is parsed or cleanly refused", () => {
    const names = Object.keys(schemas) as (keyof typeof schemas)[];
    fc.assert(
      fc.property(
        fc.constantFrom(...names),
        fc.oneof(
          fc.anything(),
          fc.record(
            {
              siteId: maybe(fc.string()),
              webhookId: maybe(fc.string()),
              deliveryId: maybe(fc.string()),
              keyId: maybe(fc.string()),
              limit: maybe(fc.oneof(fc.integer(), fc.string())),
              cursor: maybe(fc.string()),
              status: maybe(fc.string()),
              overlapSeconds: maybe(fc.oneof(fc.integer(), fc.double(), fc.string())),
              enabled: maybe(fc.boolean()),
            },
            { requiredKeys: [] },
          ),
        ),
        (name, input) => {
          outcome(() => parseInput(schemas[name] as never, input));
        },
      ),
      RUNS,
    );
  });

  it("cursors, API keys and Authorization headers never throw anything but a refusal", () => {
    fc.assert(
      fc.property(fc.string(), fc.base64String(), (text, b64) => {
        for (const value of [text, b64]) {
          const cursor = outcome(() => decodeCursor(value));
          if (!(cursor instanceof ApiError)) expect(typeof cursor.id).toBe("string");
          parseApiKey(value);
          bearerToken(value);
          bearerToken(`Bearer ${value}`);
        }
      }),
      RUNS,
    );
  });
});

describe("REST adapter", () => {
  const principal: Principal = { kind: "api_key", keyId: "k", siteId: "s", access: "write", user: { uid: "u", role: "admin", sites: ["s"] } };
  // The service is out of scope here: this checks routing, body handling and error mapping.
  const service = { run: async () => ({ ok: true }) } as unknown as Service;
  // A route's own success status (200, 201 for a create, 202 for a recover started) or an error's.
  const known = new Set<number>([200, ...ROUTES.map((r) => r.status ?? 200), ...Object.values(API_ERRORS).map((e) => e.http)]);
  const segment = fc.oneof(
    fc.constantFrom("v1", "webhooks", "probe", "deliveries", "retry", "test", "rotate-secret", "event-types", "", "%", "%E0"),
    fc.string({ maxLength: 8 }),
  );
  const request = fc.record({
    method: fc.constantFrom("GET", "POST", "POST", "PATCH", "DELETE", "PUT", "OPTIONS", "get"),
    path: fc.oneof(
      // Mostly real routes with arbitrary ids, so bodies and queries reach the operations.
      {
        weight: 3,
        arbitrary: fc
          .tuple(fc.constantFrom(...ROUTES), fc.string({ maxLength: 12 }))
          .map(([route, id]) => route.pattern.replace(/:\w+/g, encodeURIComponent(id) || "x")),
      },
      { weight: 1, arbitrary: fc.array(segment, { maxLength: 6 }).map((parts) => `/${parts.join("/")}`) },
    ),
    query: fc.dictionary(fc.string({ maxLength: 10 }), fc.oneof(fc.string(), fc.array(fc.string(), { maxLength: 2 }))),
    contentType: fc.constantFrom("application/json", "application/json; charset=utf-8", "text/plain", ""),
    body: fc.option(
      fc.oneof(
        fc.json(),
        fc.string(),
        fc.uint8Array({ maxLength: 64 }).map((b) => Buffer.from(b).toString("latin1")),
      ),
    ),
    authorized: fc.boolean(),
  });

  it("answers every request with a documented status and a JSON error body, never a 500", async () => {
    await fc.assert(
      fc.asyncProperty(request, async (r) => {
        const req: HttpRequest = {
          method: r.method,
          path: r.path,
          headers: { "content-type": r.contentType },
          query: r.query,
          rawBody: r.body === null ? undefined : Buffer.from(r.body, "latin1"),
        };
        const res = await handleRest(req, {
          service,
          log: silent,
          authenticate: async () => {
            if (!r.authorized) throw new ApiError("unauthenticated", "invalid or revoked API key");
            return principal;
          },
        });
        expect(known.has(res.status)).toBe(true);
        expect(res.status).not.toBe(500);
        if (res.status >= 400) expect((res.body as { error: { code: string } }).error.code).toEqual(expect.any(String));
      }),
      RUNS,
    );
  });
});

describe("retries and verification", () => {
  it("every schedule ends: a failing delivery makes exactly as many attempts as the schedule has", () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 30 * 86_400 }), { minLength: 1, maxLength: 20 }),
        fc.array(fc.option(fc.string({ maxLength: 40 })), { maxLength: 25 }),
        (delays, retryAfters) => {
          const schedule = parseRetrySchedule(delays.join(","));
          let attempt = 1;
          for (;;) {
            const retryAfter = parseRetryAfter(retryAfters[attempt] ?? undefined, 0);
            if (retryAfter !== null) expect(retryAfter).toBeGreaterThanOrEqual(0);
            const delay = nextAttemptDelay(schedule, attempt, { retryAfterSeconds: retryAfter });
            if (delay === null) break;
            expect(Number.isFinite(delay)).toBe(true);
            expect(delay).toBeGreaterThanOrEqual(0);
            expect(delay).toBeLessThanOrEqual(Math.max(Math.ceil((schedule[attempt] as number) * 1.1), 3600));
            attempt++;
          }
          expect(attempt).toBe(schedule.length);
        },
      ),
      RUNS,
    );
  });

  it("signature checks refuse garbage without throwing", () => {
    fc.assert(
      fc.property(fc.option(fc.string()), fc.string(), fc.string({ minLength: 1 }), fc.integer(), (header, body, secret, now) => {
        expect(verifyOwletteSignature(secret, body, header ?? undefined)).toBe(false);
        expect(verifySha256(header ?? undefined, body, secret)).toBe(false);
        expect(verifyTimestamped(header ?? undefined, body, secret, now)).toBe(false);
      }),
      RUNS,
    );
  });
});
