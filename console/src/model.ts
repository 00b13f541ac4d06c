// What the console shows, computed from the docs it reads: pure functions, unit-tested
// (functions/test/unit/console-model.test.ts). No DOM, no Firebase here.
import { HOST_REPORTED_EVENT_TYPES, SUBSCRIBABLE_EVENT_TYPES } from "../../functions/src/domain/event-catalog";
import { AUTO_DISABLE_AFTER, FAILING_STREAK } from "../../functions/src/domain/webhook-health";
import { FORMATS } from "../../functions/src/domain/destination-formats";
import { DELIVERY_STATUSES, HTTP_METHODS, SIGNATURE_SCHEMES } from "../../functions/src/domain/webhook-vocabulary";

export { AUTO_DISABLE_AFTER, DELIVERY_STATUSES, FORMATS, HTTP_METHODS, SIGNATURE_SCHEMES, SUBSCRIBABLE_EVENT_TYPES };

/** A webhook doc as the rules let members read it (sites/{s}/webhooks/{w}). Times in ms. */
export interface WebhookView {
  id: string;
  name: string;
  url: string;
  description?: string | null;
  events: string[];
  enabled: boolean;
  disabledReason: string | null;
  failCount: number;
  /** Keys of the failures counted in failCount (`<ms>:<deliveryId>:<attempt>`), oldest first. */
  failStreak: string[];
  lastStatus: number | string | null;
  lastDeliveryAtMs: number | null;
  signatureScheme: string;
  method: string;
  format: string;
  headerNames: string[];
  createdAtMs: number | null;
  /** Soft-deleted by the Owlette host (`deletedAt`): not delivered to, and not listed. */
  deleted: boolean;
  /** Another program wrote this webhook's health (the host's own sender, not cut over yet). */
  foreignWrite: { atMs: number | null; fields: string[]; count: number } | null;
}

export interface AttemptView {
  attempt: number;
  atMs: number | null;
  status: number | null;
  error: string | null;
  durationMs: number | null;
  responseSnippet: string | null;
  manual: boolean;
}

export interface DeliveryView {
  id: string;
  eventId: string;
  eventType: string;
  status: string;
  skippedReason: string | null;
  attempts: AttemptView[];
  nextAttempt: number | null;
  nextAttemptAtMs: number | null;
  createdAtMs: number | null;
}

export interface Profile {
  role: string;
  sites: string[];
}

type Data = Record<string, unknown>;
const ms = (v: unknown): number | null => {
  if (v && typeof v === "object" && "toMillis" in v && typeof (v as { toMillis: unknown }).toMillis === "function")
    return (v as { toMillis(): number }).toMillis();
  return null;
};
const str = (v: unknown, fallback = ""): string => (typeof v === "string" ? v : fallback);
const strOrNull = (v: unknown): string | null => (typeof v === "string" ? v : null);
const numOrNull = (v: unknown): number | null => (typeof v === "number" && Number.isFinite(v) ? v : null);

/**
 * Whether the new-webhook form starts with this event ticked: the pipeline's own events are; the
 * host's threshold and display events (eleven more, most of them a site never sees) are opt-in.
 */
export function checkedByDefault(type: string): boolean {
  return !(HOST_REPORTED_EVENT_TYPES as readonly string[]).includes(type);
}

/**
 * A webhook doc, tolerant of the docs the Owlette host writes: a doc not adopted yet (no
 * `enabled`, for a few seconds after the host wrote it), `paused` (which stops deliveries
 * whatever `enabled` says), `deletedAt`, and a host's 0 for "no answer" in `lastStatus`.
 */
export function webhookView(id: string, d: Data): WebhookView {
  const lastStatus = d.lastStatus === 0 ? "unreachable" : d.lastStatus;
  const paused = d.paused === true;
  const foreign = d.foreignWrite && typeof d.foreignWrite === "object" ? (d.foreignWrite as Data) : null;
  return {
    id,
    name: str(d.name, id),
    url: str(d.url),
    description: strOrNull(d.description),
    events: Array.isArray(d.events) ? d.events.filter((e): e is string => typeof e === "string") : [],
    enabled: d.enabled === true && !paused,
    // As the fan-out reads it: `paused` names the state only of a doc that is on otherwise; one the
    // pipeline switched off keeps its reason (the host's public-API docs mirror it into `paused`).
    disabledReason:
      paused && d.enabled !== false ? "paused" : (strOrNull(d.disabledReason) ?? (paused ? "paused" : d.enabled === undefined ? "adopting" : null)),
    failCount: numOrNull(d.failCount) ?? 0,
    failStreak: Array.isArray(d.failStreak) ? d.failStreak.filter((k): k is string => typeof k === "string") : [],
    lastStatus: typeof lastStatus === "number" || typeof lastStatus === "string" ? lastStatus : null,
    lastDeliveryAtMs: ms(d.lastDeliveryAt),
    signatureScheme: str(d.signatureScheme, "owlette"),
    method: str(d.method, "POST"),
    format: str(d.format, "owlette"),
    headerNames: Array.isArray(d.headerNames) ? d.headerNames.filter((e): e is string => typeof e === "string") : [],
    createdAtMs: ms(d.createdAt),
    deleted: d.deletedAt !== undefined && d.deletedAt !== null,
    foreignWrite: foreign
      ? {
          atMs: ms(foreign.at),
          fields: Array.isArray(foreign.fields) ? foreign.fields.filter((f): f is string => typeof f === "string") : [],
          count: numOrNull(foreign.count) ?? 1,
        }
      : null,
  };
}

/** What the console says about another sender writing a webhook's health; null when none did. */
export function foreignWriteNotice(w: Pick<WebhookView, "foreignWrite">): string | null {
  const f = w.foreignWrite;
  if (!f) return null;
  const when = f.atMs === null ? "" : `, last on ${new Date(f.atMs).toISOString().replace("T", " ").slice(0, 16)} UTC`;
  return (
    `Another program wrote this webhook's ${f.fields.join(", ") || "health"} ${f.count === 1 ? "once" : `${f.count} times`}${when}: ` +
    "most likely the Owlette host's own sender, still running. The pipeline put its own values back. " +
    "Replace the host's sender with the drop-in (README, Cutover) to stop it."
  );
}

export function deliveryView(id: string, d: Data): DeliveryView {
  const attempts = Array.isArray(d.attempts) ? (d.attempts as Data[]) : [];
  return {
    id,
    eventId: str(d.eventId),
    eventType: str(d.eventType, "?"),
    status: str(d.status, "pending"),
    skippedReason: strOrNull(d.skippedReason),
    attempts: attempts.map((a, i) => ({
      attempt: numOrNull(a.attempt) ?? i + 1,
      atMs: ms(a.at),
      status: numOrNull(a.status),
      error: strOrNull(a.error),
      durationMs: numOrNull(a.durationMs),
      responseSnippet: strOrNull(a.responseSnippet),
      manual: a.manual === true,
    })),
    nextAttempt: numOrNull(d.nextAttempt),
    nextAttemptAtMs: ms(d.nextAttemptAt),
    createdAtMs: ms(d.createdAt),
  };
}

export type Tone = "ok" | "warn" | "bad" | "muted";

/** The webhook's state in words, and how it should look. */
export function webhookState(w: Pick<WebhookView, "enabled" | "disabledReason">): { label: string; detail: string; tone: Tone } {
  if (w.enabled) return { label: "Enabled", detail: "delivering", tone: "ok" };
  switch (w.disabledReason) {
    case "paused":
      return { label: "Paused", detail: "paused by an admin: events are not delivered until resumed", tone: "warn" };
    case "auto":
      return { label: "Disabled", detail: `switched off after ${AUTO_DISABLE_AFTER} consecutive failures`, tone: "bad" };
    case "gone":
      return { label: "Disabled", detail: "the receiver answered 410 Gone", tone: "bad" };
    case "adopting":
      return { label: "Being adopted", detail: "written by the Owlette host a moment ago: delivered once adopted (within seconds)", tone: "warn" };
    case "needs_migration":
      return { label: "Being adopted", detail: "written by the Owlette host: adopted at its next change or event", tone: "warn" };
    case "manual":
      return { label: "Disabled", detail: "disabled by an admin", tone: "muted" };
    default:
      return { label: "Disabled", detail: w.disabledReason ? `disabled (${w.disabledReason})` : "disabled", tone: "muted" };
  }
}

/**
 * The site page's notice for a webhook the pipeline switched off by itself (its failures, its
 * receiver's 410): what happened, in one sentence; null for any other state. Such a webhook
 * gets nothing until someone switches it on, so it must not wait to be noticed in the list.
 */
export function disabledNotice(w: Pick<WebhookView, "name" | "enabled" | "disabledReason">): string | null {
  if (w.enabled || (w.disabledReason !== "auto" && w.disabledReason !== "gone")) return null;
  return `${w.name} is off: ${webhookState(w).detail}. It gets no events until it is enabled again.`;
}

/** A webhook failing in a row, still on: said above the list from the streak that is told to the site (`webhook.failing`). */
export function failingNotice(w: Pick<WebhookView, "name" | "enabled" | "failCount" | "lastStatus">): string | null {
  if (!w.enabled || w.failCount < FAILING_STREAK) return null;
  return `${w.name} is failing: ${w.failCount} deliveries in a row failed (last: ${statusText(w.lastStatus)}). It is switched off after ${AUTO_DISABLE_AFTER}; check its receiver.`;
}

/** `lastStatus` or an attempt's outcome in words: "200", "503", "timeout", "—". */
export function statusText(status: number | string | null | undefined, error?: string | null): string {
  if (typeof status === "number") return String(status);
  if (typeof status === "string" && status) return status.replace(/_/g, " ");
  if (error) return error.replace(/_/g, " ");
  return "—";
}

export function statusTone(status: number | string | null | undefined): Tone {
  if (typeof status === "number") return status >= 200 && status < 300 ? "ok" : "bad";
  return status ? "bad" : "muted";
}

export function deliveryTone(status: string): Tone {
  return status === "succeeded" ? "ok" : status === "failed" ? "bad" : status === "pending" ? "warn" : "muted";
}

/** "just now", "5 s ago", "3 min ago", "2 h ago", "4 d ago"; "in 30 s" for the future. */
export function relativeTime(atMs: number | null, nowMs: number): string {
  if (atMs === null) return "never";
  const diff = Math.round((nowMs - atMs) / 1000);
  const abs = Math.abs(diff);
  const text =
    abs < 5
      ? ""
      : abs < 60
        ? `${abs} s`
        : abs < 3600
          ? `${Math.floor(abs / 60)} min`
          : abs < 86400
            ? `${Math.floor(abs / 3600)} h`
            : `${Math.floor(abs / 86400)} d`;
  if (!text) return "just now";
  return diff >= 0 ? `${text} ago` : `in ${text}`;
}

/** Whether the signed-in user may change webhooks of this site (the callables decide; the UI follows). */
export function canAct(profile: Profile | null, uid: string, site: { id: string; owner?: string | null }): boolean {
  if (!profile) return false;
  if (profile.role === "superadmin") return true;
  return profile.role === "admin" && (profile.sites.includes(site.id) || site.owner === uid);
}

/** "Authorization: Bearer x" lines into a header map; problems name the line. */
export function parseHeaderLines(text: string): { headers: Record<string, string>; problems: string[] } {
  const headers: Record<string, string> = {};
  const problems: string[] = [];
  text.split(/\r?\n/).forEach((line, i) => {
    if (!line.trim()) return;
    const at = line.indexOf(":");
    const name = at > 0 ? line.slice(0, at).trim() : "";
    if (!name || !/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(name)) {
      problems.push(`line ${i + 1}: expected "Name: value"`);
      return;
    }
    headers[name] = line.slice(at + 1).trim();
  });
  return { headers, problems };
}

export interface HourBucket {
  /** Start of the hour, ms. */
  startMs: number;
  succeeded: number;
  failed: number;
  pending: number;
  skipped: number;
  /** Median round-trip time of the attempts made in this hour, ms (null: none). */
  medianMs: number | null;
  attempts: number;
}

/** The last 24 hours by hour: deliveries by outcome (by when they were created), attempt latency (by when made). */
export function lastDayByHour(deliveries: DeliveryView[], nowMs: number): HourBucket[] {
  const hour = 3_600_000;
  const firstStart = Math.floor(nowMs / hour) * hour - 23 * hour;
  const buckets: HourBucket[] = Array.from({ length: 24 }, (_, i) => ({
    startMs: firstStart + i * hour,
    succeeded: 0,
    failed: 0,
    pending: 0,
    skipped: 0,
    medianMs: null,
    attempts: 0,
  }));
  const durations: number[][] = buckets.map(() => []);
  const index = (atMs: number | null) => (atMs === null ? -1 : Math.floor((atMs - firstStart) / hour));
  for (const d of deliveries) {
    const i = index(d.createdAtMs);
    const bucket = buckets[i];
    if (bucket) {
      if (d.status === "succeeded" || d.status === "failed" || d.status === "pending" || d.status === "skipped") bucket[d.status]++;
    }
    for (const a of d.attempts) {
      const j = index(a.atMs);
      // Round trips of HTTP answers only (records written before outcome words kept error times).
      if (buckets[j] && a.status !== null && a.durationMs !== null) durations[j]?.push(a.durationMs);
    }
  }
  buckets.forEach((b, i) => {
    const list = (durations[i] ?? []).sort((x, y) => x - y);
    b.attempts = list.length;
    if (list.length > 0) {
      const mid = Math.floor(list.length / 2);
      b.medianMs = list.length % 2 ? (list[mid] as number) : Math.round(((list[mid - 1] as number) + (list[mid] as number)) / 2);
    }
  });
  return buckets;
}

/** A callable's error in a sentence (the API's own message when it sent one). */
export function errorText(err: unknown): string {
  const e = err as { code?: string; message?: string; details?: { code?: string; retryAfterSeconds?: number } };
  const code = (e.code ?? "").replace(/^functions\//, "").replace(/^firestore\//, "");
  if (code === "permission-denied") return "You do not have permission to do that.";
  if (code === "resource-exhausted" && e.details?.retryAfterSeconds)
    return `${e.message ?? "Too many requests"} (try again in ${e.details.retryAfterSeconds} s)`;
  return e.message ? e.message.replace(/^Firebase: /, "") : String(err);
}

/**
 * The embed route is exactly `/embed` (the view in the hash): the one path Hosting lets the
 * origins an operator lists frame (firebase.json). Any other path renders with the header and
 * may be framed by the console's own origin only.
 */
export const EMBED_PATH = "/embed";
export function isEmbedPath(pathname: string): boolean {
  return pathname === EMBED_PATH;
}
