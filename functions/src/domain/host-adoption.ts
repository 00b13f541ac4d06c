import { formatFromUrl, holdsSecret, hostShapeOf, isAdopted, NEEDS_MIGRATION } from "./webhook-shape";
import { keepsUrlSecret, redactUrl, type Format } from "./destination-formats";
import { failureKey } from "./webhook-health";
import { MAX_PREVIOUS_SECRETS } from "./secret-rotation";
import type { HostShape } from "./host-vocabulary";

/**
 * Webhook docs the Owlette host writes, taken over by the pipeline on write (see
 * triggers/on-webhook-written.ts), so nothing the host's users set up waits for a CLI step:
 * - the dashboard (v1): `{name, url, events, enabled, secret, lastTriggered, lastStatus, failCount}`,
 *   whose receivers verify `X-owlette-Signature: sha256=<hex>`;
 * - the public API: `{schemaVersion, url, hostname, events, description, signingSecret, paused,
 *   deletedAt, failureCount, lastDeliveryStatus, lastDeliveryAt}`, rotated by writing a new
 *   `signingSecret` beside `previousSigningSecret` and `previousSecretValidUntil` (epoch ms),
 *   whose receivers verify `Roost-Signature: t=<unix>,v1=<hex>`.
 * The host keeps writing these docs after the adoption (edits, pause, rotation, soft delete),
 * and its dashboard keeps reading them; every later write is taken up the same way. The plan is
 * pure: the data layer reads the doc and its secret doc in one transaction and applies it.
 */

type Doc = Record<string, unknown>;

/** A field to delete (the data layer writes FieldValue.delete()). */
export const REMOVE = Symbol("remove");
export type Patch = Record<string, unknown>;

/** The server-only secret doc as the plan needs it (times in ms). */
export interface SecretState {
  current: string;
  previous: { secret: string; expiresAtMs: number }[];
  url?: string | undefined;
}

export interface UpkeepPlan {
  webhook: Patch;
  /** The secret doc after the plan (null: left as it is). */
  secret: SecretState | null;
  /** A secret made because the doc held none: receivers need it (shown once by the CLI). */
  newSecret: boolean;
  /** What happened, for the log and the CLI: `adopted`, `secret_moved`, `rotated`, `url_moved`, `paused`, `resumed`, `foreign_write`, `mirrored`. */
  findings: string[];
}

/** How long the host's rotation keeps the previous secret valid when it does not say. */
export const HOST_ROTATION_GRACE_MS = 24 * 3_600_000;

const SECRET_FIELDS = ["secret", "signingSecret", "previousSigningSecret"] as const;
/** What the host's `fireWebhooks` writes after each attempt. */
const HOST_SENDER_FIELDS = ["lastTriggered", "lastStatus", "failCount", "enabled"] as const;
const isSet = (v: unknown) => v !== undefined && v !== null;
const text = (v: unknown) => (typeof v === "string" ? v : "");

/** The format the host's own sender used: Slack and Discord natively by URL, else its envelope. */
export function hostFormat(shape: HostShape, url: string): Format {
  const native = formatFromUrl(url);
  if (native !== "owlette") return native;
  return shape === "dashboard" ? "owlette_v1" : "owlette_api";
}

const schemeOf = (shape: HostShape) => (shape === "dashboard" ? "owlette_v1" : "roost");

/** A Firestore Timestamp, a Date, an ISO string or Unix seconds / ms, in ms. */
export function millisOf(v: unknown): number | null {
  if (v instanceof Date) return v.getTime();
  if (typeof v === "object" && v !== null && typeof (v as { toMillis?: unknown }).toMillis === "function") return (v as { toMillis(): number }).toMillis();
  if (typeof v === "string") {
    const ms = Date.parse(v);
    return Number.isFinite(ms) ? ms : null;
  }
  if (typeof v === "number" && Number.isFinite(v) && v > 0) return v < 1e12 ? v * 1000 : v;
  return null;
}

const countOf = (v: unknown) => (typeof v === "number" && Number.isFinite(v) && v >= 0 ? Math.min(Math.floor(v), 1000) : 0);

/** The host's status as the host's dashboard shows it: a number, 0 for "no HTTP answer". */
export function hostStatus(lastStatus: unknown): number | null {
  if (lastStatus === null || lastStatus === undefined) return null;
  return typeof lastStatus === "number" ? lastStatus : 0;
}

/**
 * The pipeline's health record is `failCount` with one `failStreak` key per counted failure
 * (domain/webhook-health.ts); every write of the pipeline keeps the two equal. A count the host
 * carried over at adoption gets keys of its own, dated then.
 */
function carriedStreak(count: number, atMs: number): string[] {
  return Array.from({ length: count }, (_, i) => failureKey(atMs - count + i, "adopted", i + 1));
}

/** Did this write come from another sender (the host's `fireWebhooks`, still running)? Its count is not the pipeline's. */
export function foreignHealth(d: Doc): boolean {
  if (hostShapeOf(d) !== null && !isAdopted(d)) return false;
  const streak = Array.isArray(d.failStreak) ? d.failStreak.length : 0;
  return typeof d.failCount === "number" && d.failCount !== streak;
}

/**
 * The write changed `lastTriggered` to a time that is not the pipeline's own (its last delivery
 * or test: a dashboard doc's delivery writes `lastTriggered` too): the host's sender's stamp.
 */
function stampedByAnother(before: Doc | null, written: Doc | null): boolean {
  if (!before || !written || same(before.lastTriggered, written.lastTriggered)) return false;
  const own = Math.max(millisOf(written.lastDeliveryAt) ?? 0, millisOf(written.lastTestAt) ?? 0);
  return millisOf(written.lastTriggered) !== own;
}

/** Health fields in the host's names and types, beside the pipeline's (what the host's dashboard shows). */
function hostHealth(d: Doc): Patch {
  if (d.hostShape === "api") {
    return { failureCount: typeof d.failCount === "number" ? d.failCount : 0, lastDeliveryStatus: hostStatus(d.lastStatus) };
  }
  if (d.hostShape === "dashboard") {
    const delivered = millisOf(d.lastDeliveryAt);
    const tested = millisOf(d.lastTestAt);
    const last = Math.max(delivered ?? 0, tested ?? 0);
    return {
      ...(typeof d.lastStatus === "string" ? { lastStatus: hostStatus(d.lastStatus) } : {}),
      ...(last > 0 ? { lastTriggered: new Date(last) } : {}),
    };
  }
  return {};
}

/** Equal values; times (a Timestamp, a Date) by their instant. */
function same(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  const timeA = typeof a === "object" && a !== null ? millisOf(a) : null;
  return timeA !== null && timeA === (typeof b === "object" && b !== null ? millisOf(b) : null);
}

function differs(d: Doc, patch: Patch): Patch {
  const out: Patch = {};
  for (const [k, v] of Object.entries(patch)) if (!same(d[k], v)) out[k] = v;
  return out;
}

/**
 * Cheap check on the written doc alone (no read): whether the trigger has anything to do. Most
 * writes to a webhook doc are the pipeline's own health writes on its own docs: nothing.
 */
export function upkeepNeeded(before: Doc | null, after: Doc): boolean {
  const shape = hostShapeOf(after);
  if (foreignHealth(after) && stampedByAnother(before, after)) return true;
  if (shape === null) return false;
  if (!isAdopted(after) || holdsSecret(after)) return true;
  if (before && (before.paused !== after.paused || before.enabled !== after.enabled || before.url !== after.url)) return true;
  return Object.keys(differs(after, hostHealth(after))).length > 0;
}

/**
 * What one write of a webhook doc calls for, computed from the doc as it is now (`doc`), its
 * secret doc, and the write that triggered it (`before` / `written`, to tell who changed what):
 * 1. adoption of a host doc: its shape, scheme and format, its state (`paused`, `deletedAt`) as
 *    `enabled` / `disabledReason`, its failure count with a streak of the same length;
 * 2. secrets out of the client-readable doc into the server-only one; a new `signingSecret` is
 *    a rotation, the secret it replaces signing beside it until `previousSecretValidUntil`;
 * 3. a credential URL (Slack, Discord) out of the doc, shown redacted;
 * 4. `paused` written by the host stops or resumes; `enabled` changed by the pipeline is shown
 *    as `paused` (the host's API reads it);
 * 5. another sender's health write undone: the pipeline's count and status are put back and the
 *    doc says so (`foreignWrite`);
 * 6. the health fields in the host's names, kept equal to the pipeline's.
 * Null when nothing is to be done.
 */
export function planUpkeep(input: {
  doc: Doc;
  before: Doc | null;
  written: Doc | null;
  secret: SecretState | null;
  nowMs: number;
  generateSecret: () => string;
}): UpkeepPlan | null {
  const d = draftOf(input);
  if (d.shape !== null && !isAdopted(d.doc)) adopt(d);
  if (d.shape !== null) moveSecrets(d);
  if (d.shape !== null) followUrl(d);
  // Another sender's health write: a count that is not the pipeline's, stamped with the
  // `lastTriggered` the host's fireWebhooks always writes.
  const foreign = foreignHealth(d.view) && stampedByAnother(d.before, d.written);
  followPause(d, foreign);
  if (foreign) undoForeignWrite(d);
  mirrorHostHealth(d);
  if (Object.keys(d.patch).length === 0 && d.secret === input.secret) return null;
  return { webhook: d.patch, secret: d.secret === input.secret ? null : d.secret, newSecret: d.newSecret, findings: d.findings };
}

/** A plan being made: the doc as the plan leaves it (`view`), the writes so far, the secret doc after them. */
interface Draft {
  doc: Doc;
  before: Doc | null;
  written: Doc | null;
  shape: HostShape | null;
  nowMs: number;
  now: Date;
  view: Doc;
  patch: Patch;
  findings: string[];
  secret: SecretState | null;
  newSecret: boolean;
  generateSecret: () => string;
  set: (k: string, v: unknown) => void;
  /** Raised once per plan that changes the secret doc: instances' cached copies are stale. */
  bumpSecretVersion: () => void;
}

function draftOf(input: Parameters<typeof planUpkeep>[0]): Draft {
  const { doc, nowMs } = input;
  const d: Draft = {
    doc,
    before: input.before,
    written: input.written,
    shape: hostShapeOf(doc),
    nowMs,
    now: new Date(nowMs),
    view: { ...doc },
    patch: {},
    findings: [],
    secret: input.secret,
    newSecret: false,
    generateSecret: input.generateSecret,
    set: (k, v) => {
      d.patch[k] = v;
      if (v === REMOVE) delete d.view[k];
      else d.view[k] = v;
    },
    bumpSecretVersion: () => {
      if (d.patch.secretVersion === undefined) d.set("secretVersion", (typeof doc.secretVersion === "number" ? doc.secretVersion : 0) + 1);
    },
  };
  return d;
}

/** 1. A host doc taken in: its shape, scheme and format, its state as `enabled`, its failure count with a streak. */
function adopt(d: Draft): void {
  const { doc, set } = d;
  const shape = d.shape as HostShape;
  d.findings.push("adopted");
  const paused = doc.paused === true || isSet(doc.deletedAt);
  const wasOn = typeof doc.enabled === "boolean" ? doc.enabled : true;
  const url = text(doc.url);
  let host = "webhook";
  try {
    host = new URL(url).hostname || host;
  } catch {
    // keep the placeholder
  }
  const failCount = countOf(shape === "dashboard" ? doc.failCount : doc.failureCount);
  set("hostShape", shape);
  set("name", (text(doc.name) || text(doc.description) || text(doc.hostname) || host).slice(0, 100));
  if (!("description" in doc)) set("description", "");
  set("enabled", wasOn && !paused);
  set("disabledReason", paused ? "paused" : wasOn ? null : "manual");
  set("failCount", failCount);
  set("failStreak", carriedStreak(failCount, d.nowMs));
  set("lastStatus", shape === "dashboard" ? (doc.lastStatus ?? null) : (doc.lastDeliveryStatus ?? null));
  const last = millisOf(shape === "dashboard" ? doc.lastTriggered : doc.lastDeliveryAt);
  set("lastDeliveryAt", last === null ? null : new Date(last));
  set("signatureScheme", schemeOf(shape));
  set("method", "POST");
  set("format", hostFormat(shape, url));
  set("headerNames", []);
  set("adoptedAt", d.now);
  // The earlier flag of `cli webhooks migrate` (before adoption on write): the doc is delivered to now.
  if (doc.disabledReason === NEEDS_MIGRATION) set("disabledReason", paused ? "paused" : wasOn ? null : "manual");
  if ("needsMigrationSince" in doc) set("needsMigrationSince", REMOVE);
}

/**
 * 2. Secrets out of the client-readable doc into the server-only one; a new `signingSecret` is
 * a rotation, the secret it replaces signing beside it until `previousSecretValidUntil`.
 */
function moveSecrets(d: Draft): void {
  const { doc, nowMs } = d;
  if (holdsSecret(doc)) {
    const given = text(doc.signingSecret) || text(doc.secret);
    const previous = text(doc.previousSigningSecret);
    const validUntil = millisOf(doc.previousSecretValidUntil) ?? nowMs + HOST_ROTATION_GRACE_MS;
    if (!d.secret) {
      d.secret = { current: given || d.generateSecret(), previous: [] };
      d.newSecret = !given;
      if (previous && previous !== d.secret.current && validUntil > nowMs) d.secret.previous.push({ secret: previous, expiresAtMs: validUntil });
      d.findings.push("secret_moved");
    } else if (given && given !== d.secret.current) {
      // The host rotated: the secret it replaced (ours, since it no longer holds one) keeps signing
      // until its grace ends, and so does one the host names as previous (two rotations before
      // this trigger ran: the middle secret was handed out too).
      const replaced = [d.secret.current, previous].filter((p, i, all) => p && p !== given && all.indexOf(p) === i);
      const kept = d.secret.previous.filter((p) => p.expiresAtMs > nowMs && p.secret !== given && !replaced.includes(p.secret));
      const previousSet = [...replaced.map((p) => ({ secret: p, expiresAtMs: validUntil })), ...kept].slice(0, MAX_PREVIOUS_SECRETS);
      d.secret = { ...d.secret, current: given, previous: previousSet };
      d.findings.push("rotated");
    } else d.findings.push("secret_moved");
    for (const f of SECRET_FIELDS) if (f in doc) d.set(f, REMOVE);
    d.bumpSecretVersion();
  } else if (!d.secret && !isAdopted(doc)) {
    d.secret = { current: d.generateSecret(), previous: [] };
    d.newSecret = true;
    d.bumpSecretVersion();
  }
}

/**
 * 3. A URL written by the host (at creation, or by an edit: the doc shows it in full) or by the
 * pipeline: a credential moves server-side, a plain URL replaces a credential kept there, and
 * a format the host's sender would have picked by URL follows the URL as it did there.
 */
function followUrl(d: Draft): void {
  const { before, written, view } = d;
  const shape = d.shape as HostShape;
  const url = text(view.url);
  const shownForSecret = d.secret?.url !== undefined && url === redactUrl(d.secret.url);
  if (!url || shownForSecret) return;
  const edited = before !== null && written !== null && before.url !== written.url && view.url === written.url;
  if (edited && isAdopted(d.doc) && view.format === hostFormat(shape, text(before.url))) d.set("format", hostFormat(shape, url));
  const format = (view.format as Format | undefined) ?? "owlette";
  if (keepsUrlSecret(format, url)) {
    d.secret = { ...(d.secret ?? { current: d.generateSecret(), previous: [] }), url };
    d.set("url", redactUrl(url));
    d.bumpSecretVersion();
    d.findings.push("url_moved");
  } else if (d.secret?.url !== undefined) {
    d.secret = { current: d.secret.current, previous: d.secret.previous };
    d.bumpSecretVersion();
    d.findings.push("url_moved");
  }
}

/**
 * 4. Pause and resume: who changed what in the write that triggered this, on a doc that has
 * `paused`. A switch-off by another sender is not the pipeline's: it is undone, never shown as a pause.
 */
function followPause(d: Draft, foreign: boolean): void {
  const { before, written, view, set } = d;
  if (!isAdopted(d.doc) || !before || !written || !("paused" in view)) return;
  const hostPaused = before.paused !== written.paused && view.paused === written.paused;
  const pipelineSwitched = !hostPaused && !foreign && before.enabled !== written.enabled && view.enabled === written.enabled;
  if (hostPaused && view.paused === true && view.enabled !== false) {
    set("enabled", false);
    set("disabledReason", "paused");
    d.findings.push("paused");
  } else if (hostPaused && view.paused === false && view.enabled === false && !isSet(view.deletedAt)) {
    set("enabled", true);
    set("disabledReason", null);
    set("failCount", 0);
    set("failStreak", []);
    d.findings.push("resumed");
  } else if (pipelineSwitched && typeof view.enabled === "boolean" && view.paused !== !view.enabled) {
    set("paused", !view.enabled);
    d.findings.push("mirrored");
  }
}

/**
 * 5. Another sender's health write undone and said (`foreignWrite`). Only a write with its stamp
 * is: a count off for any other reason (a doc an earlier version wrote, a hand edit) is left as it is.
 */
function undoForeignWrite(d: Draft): void {
  const { before, written, view, set } = d;
  const changed = before && written ? HOST_SENDER_FIELDS.filter((f) => !same(before[f], written[f])) : [];
  const streak = Array.isArray(view.failStreak) ? view.failStreak.length : 0;
  set("failCount", streak);
  if (changed.includes("lastStatus") && same(view.lastStatus, written?.lastStatus)) set("lastStatus", before?.lastStatus ?? null);
  // Switched off by the other sender's count (it writes no reason): the pipeline's own count says otherwise.
  if (changed.includes("enabled") && written?.enabled === false && view.enabled === false && !isSet(view.disabledReason)) set("enabled", true);
  // Its time of a send that never happened: the dashboard docs' is kept equal to the pipeline's below; others have none.
  if (view.hostShape !== "dashboard" && "lastTriggered" in view) set("lastTriggered", REMOVE);
  const seen = view.foreignWrite as { count?: unknown } | undefined;
  set("foreignWrite", { at: d.now, fields: changed, count: (typeof seen?.count === "number" ? seen.count : 0) + 1 });
  d.findings.push("foreign_write");
}

/** 6. The health fields in the host's names, kept equal to the pipeline's. */
function mirrorHostHealth(d: Draft): void {
  if (!isAdopted(d.view)) return;
  const mirror = differs(d.view, hostHealth(d.view));
  if (Object.keys(mirror).length === 0) return;
  for (const [k, v] of Object.entries(mirror)) d.set(k, v);
  if (d.findings.length === 0) d.findings.push("mirrored");
}
