/**
 * Drop-in replacement for the Owlette host's webhook sender: the same `fireWebhooks` and
 * `testWebhook`, but instead of calling webhook URLs itself it hands each event and each test
 * request to the Owlette webhook pipeline, which signs, delivers, retries and records them.
 *
 * The hand-over is a Firestore document that no security rule matches, so only the Admin SDK can
 * write it: holding the project's admin credentials is the authentication, and the signing
 * secrets never pass through the host.
 * - `sites/{siteId}/hostReports/{id}`: one event, consumed by the pipeline;
 * - `hostRequests/{id}`: one test request; the pipeline answers by writing `result` into it.
 * Both carry `expireAt`, for a Firestore TTL policy to remove them.
 *
 * The host copies this folder into its own tree, so this file imports nothing but firebase-admin.
 */
import { getApps } from "firebase-admin/app";
import { FieldValue, Timestamp, getFirestore, type Firestore } from "firebase-admin/firestore";

/** The events the host's routes send, all of which the pipeline accepts (its `HOST_SENDER_EVENTS`). */
export const HOST_SENDER_EVENTS = [
  "process.crashed",
  "process.restarted",
  "machine.offline",
  "machine.online",
  "threshold.breached",
  "display.monitor_removed",
  "display.apply_failed",
  "display.auto_revert_fired",
  "display.sync_lost",
  "display.drift",
  "display.monitor_swapped",
  "display.mosaic_disabled",
  "display.apply_refused_mosaic",
  "display.monitor_added",
  "display.apply_succeeded",
] as const;
export type HostSenderEvent = (typeof HOST_SENDER_EVENTS)[number];

export const LIMITS = { idChars: 128, siteNameChars: 200, dataBytes: 16 * 1024, urlChars: 2048 } as const;
const REPORT_TTL_MS = 7 * 24 * 60 * 60 * 1000;
const REQUEST_TTL_MS = 24 * 60 * 60 * 1000;
const DEFAULT_TEST_TIMEOUT_MS = 15_000;

export interface TestResult {
  status: number;
  error?: string;
}
/** Which webhook a test is for, so the pipeline signs with that webhook's secret. */
export interface TestTarget {
  siteId: string;
  webhookId: string;
}
export interface HostSenderOptions {
  /** How long `testWebhook` waits for the pipeline's answer; 15 000 ms unless set. */
  testTimeoutMs?: number;
}
export interface HostSenders {
  fireWebhooks(siteId: string, siteName: string, eventType: string, data: Record<string, unknown>): Promise<number>;
  testWebhook(url: string, secret?: string | null, target?: TestTarget): Promise<TestResult>;
}

// ---------------------------------------------------------------------------------------------
// Pure parts: what is sent and what counts, without Firestore.

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** A short, safe rendering of a bad value for an error message. */
function shown(value: unknown): string {
  if (typeof value === "string") return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
  if (value === null || value === undefined || typeof value !== "object") return String(value);
  return Array.isArray(value) ? "an array" : `an object (${Object.getPrototypeOf(value)?.constructor?.name ?? "no prototype"})`;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== "object" || Array.isArray(value)) return false;
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/** Firestore document ids: a `/` would address another document, and the pipeline caps the length. */
function checkId(field: string, value: unknown): string {
  if (typeof value !== "string" || value === "" || value.length > LIMITS.idChars || value.includes("/")) {
    throw new Error(`${field} must be a non-empty string of at most ${LIMITS.idChars} characters without "/" (got ${shown(value)})`);
  }
  return value;
}

/**
 * `value` as JSON would carry it (toJSON applied, undefined object fields dropped), refusing what
 * JSON.stringify would silently change or lose (functions, NaN, a Map becoming `{}`, undefined in
 * an array becoming null) or cannot write (bigint, cycles), so the pipeline gets exactly what the
 * host meant or the host hears why not.
 */
export function jsonCopy(value: unknown, path = "data", ancestors: object[] = []): Json {
  if (value !== null && typeof value === "object" && typeof (value as { toJSON?: unknown }).toJSON === "function") {
    value = (value as { toJSON: () => unknown }).toJSON(); // a Date becomes its ISO string
  }
  if (value === null || typeof value === "string" || typeof value === "boolean") return value;
  if (typeof value === "number") {
    if (Number.isFinite(value)) return value;
    throw new Error(`${path} is ${value}, which JSON cannot carry`);
  }
  if (typeof value === "object" && (Array.isArray(value) || isPlainObject(value))) {
    if (ancestors.includes(value)) throw new Error(`${path} refers back to itself`);
    const inside = [...ancestors, value];
    if (Array.isArray(value)) {
      return value.map((item, i) => {
        if (item === undefined) throw new Error(`${path}[${i}] is undefined, which JSON would turn into null`);
        return jsonCopy(item, `${path}[${i}]`, inside);
      });
    }
    const copy: { [key: string]: Json } = {};
    for (const [key, item] of Object.entries(value)) if (item !== undefined) copy[key] = jsonCopy(item, `${path}.${key}`, inside);
    return copy;
  }
  throw new Error(`${path} is ${shown(value)}, not a JSON value (use a string, number, boolean, null, array or plain object)`);
}

export interface CheckedReport {
  event: HostSenderEvent;
  siteName: string;
  data: { [key: string]: Json };
}

/** The checks `fireWebhooks` makes before writing anything; each refusal names the field. */
export function checkReport(siteId: unknown, siteName: unknown, eventType: unknown, data: unknown): CheckedReport {
  checkId("siteId", siteId);
  if (typeof siteName !== "string" || siteName.length > LIMITS.siteNameChars) {
    throw new Error(`siteName must be a string of at most ${LIMITS.siteNameChars} characters (got ${shown(siteName)})`);
  }
  if (!(HOST_SENDER_EVENTS as readonly unknown[]).includes(eventType)) {
    throw new Error(`unknown event ${shown(eventType)}; the pipeline accepts: ${HOST_SENDER_EVENTS.join(", ")}`);
  }
  const event = eventType as HostSenderEvent;
  const copy = jsonCopy(data);
  if (copy === null || typeof copy !== "object" || Array.isArray(copy)) throw new Error(`data must be a plain object (got ${shown(data)})`);
  const bytes = Buffer.byteLength(JSON.stringify(copy), "utf8");
  if (bytes > LIMITS.dataBytes) throw new Error(`data is ${bytes} bytes as JSON; at most ${LIMITS.dataBytes} are accepted`);
  const machine = copy.machine;
  if (!isPlainObject(machine)) throw new Error(`data.machine must be an object with an id (got ${shown(machine)})`);
  checkId("data.machine.id", machine.id);
  if (event === "process.crashed" || event === "process.restarted") {
    const proc = copy.process;
    const name = isPlainObject(proc) ? proc.name : undefined;
    if (typeof name !== "string" || name === "") throw new Error(`data.process.name must be a non-empty string for ${event} (got ${shown(name)})`);
  }
  return { event, siteName, data: copy };
}

/**
 * The names a webhook may have subscribed under to receive this event: the host's own name, plus
 * the names earlier Owlette dashboards stored for the same thing. The host reports a failed
 * process start as `process.restarted`, and a connection failure as `machine.offline` without
 * the `lastSeen` that its offline sweep adds.
 */
export function subscriptionNames(event: HostSenderEvent, data: Record<string, unknown>): string[] {
  if (event === "process.restarted") return [event, "process.start_failed"];
  if (event === "machine.offline") {
    const lastSeen = isPlainObject(data.machine) ? data.machine.lastSeen : undefined;
    if (lastSeen === undefined || lastSeen === null) return [event, "connection_failure"];
  }
  return [event];
}

/** Threshold and display events: nothing else reports them (a crash also comes from the agent's log doc). */
export function onlyTheHostReports(event: string): boolean {
  return event === "threshold.breached" || event.startsWith("display.");
}

/** Whether a subscribed webhook doc is active, as either generation of Owlette marks it off. */
export function countsAsActive(doc: Record<string, unknown>): boolean {
  return (doc.deletedAt === undefined || doc.deletedAt === null) && doc.paused !== true && doc.enabled !== false;
}

/**
 * Whether a doc the query found gets this event from the pipeline: active, and for a connection
 * failure subscribed under `machine.offline` only, a dashboard (v1) doc, whose receivers got
 * connection failures under that name (the pipeline's own `machine.offline` means outages alone).
 */
export function takesReport(doc: Record<string, unknown>, names: readonly string[]): boolean {
  if (!countsAsActive(doc)) return false;
  const events = Array.isArray(doc.events) ? doc.events : [];
  if (names.includes("connection_failure") && !events.includes("connection_failure")) return doc.hostShape === "dashboard" || typeof doc.secret === "string";
  return true;
}

/** Why `url` cannot be tested, or undefined when it can. */
export function testUrlProblem(url: unknown): string | undefined {
  if (typeof url !== "string" || url.length > LIMITS.urlChars) return `url must be a string of at most ${LIMITS.urlChars} characters (got ${shown(url)})`;
  let protocol: string;
  try {
    protocol = new URL(url).protocol;
  } catch {
    return `url is not an absolute URL (got ${shown(url)})`;
  }
  return protocol === "http:" || protocol === "https:" ? undefined : `url must be http or https (got ${shown(protocol)})`;
}

/** Why `target` cannot be sent, or undefined when it can (or is absent). */
export function testTargetProblem(target: unknown): string | undefined {
  if (target === undefined) return undefined;
  try {
    if (!isPlainObject(target)) throw new Error(`target must be {siteId, webhookId} (got ${shown(target)})`);
    checkId("target.siteId", target.siteId);
    checkId("target.webhookId", target.webhookId);
    return undefined;
  } catch (e) {
    return messageOf(e);
  }
}

/** The pipeline's answer in a request doc's `result`, or undefined when it is not a valid answer. */
export function testResultFrom(value: unknown): TestResult | undefined {
  if (!isPlainObject(value) || typeof value.status !== "number" || !Number.isInteger(value.status)) return undefined;
  return typeof value.error === "string" ? { status: value.status, error: value.error } : { status: value.status };
}

function messageOf(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

function checkTimeout(ms: unknown): number {
  if (typeof ms !== "number" || !Number.isFinite(ms) || ms <= 0) throw new Error(`testTimeoutMs must be a positive number of milliseconds (got ${shown(ms)})`);
  return ms;
}

// ---------------------------------------------------------------------------------------------
// The senders, on a given Firestore (tests pass an emulator's).

export function createHostSenders(db: Firestore, options: HostSenderOptions = {}): HostSenders {
  const timeoutMs = checkTimeout(options.testTimeoutMs ?? DEFAULT_TEST_TIMEOUT_MS);

  // `async`, so that a refusal is a rejected promise: the host's callers `.catch(console.error)`.
  async function fireWebhooks(siteId: string, siteName: string, eventType: string, data: Record<string, unknown>): Promise<number> {
    const report = checkReport(siteId, siteName, eventType, data);
    const names = subscriptionNames(report.event, report.data);
    const count = async () => {
      const subscribed = await db.collection(`sites/${siteId}/webhooks`).where("events", "array-contains-any", names).get();
      return subscribed.docs.filter((doc) => takesReport(doc.data(), names)).length;
    };
    const handOver = () =>
      db.collection(`sites/${siteId}/hostReports`).add({
        ...report,
        reportedAt: FieldValue.serverTimestamp(),
        expireAt: Timestamp.fromMillis(Date.now() + REPORT_TTL_MS),
      });
    // Threshold and display events only the host reports: none is handed over when no webhook takes it.
    if (onlyTheHostReports(report.event)) {
      const subscribed = await count();
      if (subscribed > 0) await handOver();
      return subscribed;
    }
    // Crashes and connection failures are handed over first, whatever the count: a failed count
    // must not make a caller that retries hand the same event over twice.
    await handOver();
    return count().catch(() => 0);
  }

  // Never throws, as the host's own never did: every failure is `{status: 0, error}`.
  // The secret is ignored on purpose: the pipeline signs with the copy it keeps server-only.
  async function testWebhook(url: string, _secret?: string | null, target?: TestTarget): Promise<TestResult> {
    const problem = testUrlProblem(url) ?? testTargetProblem(target);
    if (problem !== undefined) return { status: 0, error: problem };
    const request = {
      kind: "test",
      url,
      ...(target ? { siteId: target.siteId, webhookId: target.webhookId } : {}),
      requestedAt: FieldValue.serverTimestamp(),
      expireAt: Timestamp.fromMillis(Date.now() + REQUEST_TTL_MS),
    };
    const ref = db.collection("hostRequests").doc();

    return new Promise<TestResult>((resolve) => {
      let unsubscribe: (() => void) | undefined;
      let done = false;
      const finish = (result: TestResult) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        unsubscribe?.();
        resolve(result);
      };
      // The clock starts before the write, so a Firestore that does not answer is bounded too.
      const timer = setTimeout(() => finish({ status: 0, error: `the webhook pipeline did not answer within ${timeoutMs / 1000} s` }), timeoutMs);

      ref.set(request).then(
        () => {
          if (done) return;
          try {
            // The first snapshot is the doc as it stands, so an answer written before we listen is not missed.
            unsubscribe = ref.onSnapshot(
              (snap) => {
                const raw: unknown = snap.get("result");
                if (raw === undefined || raw === null) return;
                finish(testResultFrom(raw) ?? { status: 0, error: `the webhook pipeline answered with a malformed result: ${shown(raw)}` });
              },
              (e) => finish({ status: 0, error: `lost the webhook pipeline's answer: ${messageOf(e)}` }),
            );
            if (done) unsubscribe();
          } catch (e) {
            finish({ status: 0, error: `could not wait for the webhook pipeline's answer: ${messageOf(e)}` });
          }
        },
        (e: unknown) => finish({ status: 0, error: `could not hand the test to the webhook pipeline: ${messageOf(e)}` }),
      );
    });
  }

  return { fireWebhooks, testWebhook };
}

// ---------------------------------------------------------------------------------------------
// The host's two functions, on the default app unless configured otherwise.

export interface OwletteHostSettings extends HostSenderOptions {
  /** The Firestore to write to; the default firebase-admin app's unless set. */
  db?: Firestore;
}

let settings: OwletteHostSettings = {};

/** Optional: another Firestore than the default app's, or another test timeout. Later calls override earlier ones field by field. */
export function configureOwletteHost(options: OwletteHostSettings): void {
  if (options.testTimeoutMs !== undefined) checkTimeout(options.testTimeoutMs);
  settings = { ...settings, ...options };
}

function configuredSenders(): HostSenders {
  // Looked up per call, not at import: the host initialises its app in a module of its own,
  // which may load after this one.
  let db = settings.db;
  if (db === undefined) {
    if (!getApps().some((app) => app.name === "[DEFAULT]")) {
      throw new Error("owlette-host: no default firebase-admin app is initialised; call initializeApp() before sending, or configureOwletteHost({ db })");
    }
    db = getFirestore();
  }
  return createHostSenders(db, settings);
}

/**
 * Hands `eventType` for `siteId` to the webhook pipeline. Resolves with the number of active
 * webhooks subscribed to it; rejects, naming the field, when the input is refused (nothing is written then).
 */
export async function fireWebhooks(siteId: string, siteName: string, eventType: string, data: Record<string, unknown>): Promise<number> {
  return configuredSenders().fireWebhooks(siteId, siteName, eventType, data);
}

/**
 * Asks the webhook pipeline to send a signed test to `url` and resolves with the receiver's HTTP
 * status (0 and `error` when there was none). `secret` is accepted for the host's call shape and
 * never used or stored; `target` names the webhook so the pipeline signs with its secret.
 */
export async function testWebhook(url: string, secret?: string | null, target?: TestTarget): Promise<TestResult> {
  let senders: HostSenders;
  try {
    senders = configuredSenders();
  } catch (e) {
    return { status: 0, error: messageOf(e) };
  }
  return senders.testWebhook(url, secret, target);
}
