import type { Format } from "./destination-formats";
import { isSubscribableEventType, type EventType } from "./event-catalog";

/**
 * Webhook docs that deployed Owlette projects already hold:
 * - the dashboard (v1): `{name, url, events, enabled, secret, createdAt, createdBy, lastTriggered,
 *   lastStatus, failCount}`, signed `X-owlette-Signature: sha256=<hex>` with `secret`;
 * - the public API (developer preview): `{url, events, description, paused, signingSecret,
 *   failureCount, lastDeliveryAt, lastDeliveryStatus, deletedAt}`.
 * Their secret sits in the client-readable doc, so they are not delivered to until
 * `cli webhooks migrate` moves it into the server-only doc; meanwhile they say so
 * (`disabledReason: "needs_migration"`), leaving `enabled` as it is: the earlier Owlette, which
 * may still be running beside this pipeline, reads it.
 */
export const NEEDS_MIGRATION = "needs_migration";

type Doc = Record<string, unknown>;

/** Written by an earlier Owlette and not migrated yet (or flagged as such). */
export function needsMigration(d: Doc): boolean {
  return "secret" in d || "signingSecret" in d || typeof d.enabled !== "boolean" || d.disabledReason === NEEDS_MIGRATION;
}

const isSet = (v: unknown) => v !== undefined && v !== null;

/**
 * - `deliverable`: this pipeline's doc, enabled;
 * - `off`: disabled, paused or deleted (as either generation writes it), or already flagged;
 * - `legacy_active`: a deployed project's doc that would be delivered to, still to be migrated.
 */
export function webhookShape(d: Doc): "deliverable" | "off" | "legacy_active" {
  if (isSet(d.deletedAt)) return "off";
  if (d.disabledReason === NEEDS_MIGRATION) return "off";
  const active = typeof d.enabled === "boolean" ? d.enabled : d.paused !== true;
  if (!active) return "off";
  return needsMigration(d) ? "legacy_active" : "deliverable";
}

/** As the deployed dashboard picks a native format: from the URL. */
export function formatFromUrl(url: string): Format {
  let host = "";
  let path = "";
  try {
    ({ hostname: host, pathname: path } = new URL(url));
  } catch {
    return "owlette";
  }
  if (host === "hooks.slack.com") return "slack";
  if ((host === "discord.com" || host === "discordapp.com") && path.startsWith("/api/webhooks/")) return "discord";
  return "owlette";
}

/** Event names the deployed dashboard uses for ours. */
const RENAMED: Record<string, EventType> = { "process.restarted": "process.start_failed" };

export interface MigrationPlan {
  action: "migrate" | "delete";
  /** The signing secret to move into the server-only doc; null when the doc holds none (a new one is made). */
  secret: string | null;
  format: Format;
  url: string;
  /** Fields the webhook doc gets (secrets and legacy names are removed beside them: `removes`). */
  fields: {
    name: string;
    description: string;
    events: EventType[];
    enabled: boolean;
    disabledReason: "paused" | "manual" | null;
    failCount: number;
    lastStatus: unknown;
    /** When it last delivered, in ms: legacy docs hold a Timestamp, an ISO string or a number. */
    lastDeliveryAtMs: number | null;
    signatureScheme: "sha256";
    method: "POST";
    format: Format;
    headerNames: string[];
  };
  removes: string[];
  /** What an operator should know (events this pipeline does not send, a new secret). */
  notes: string[];
}

/** A Firestore Timestamp, an ISO string, or a Unix time in seconds or milliseconds. */
function millisOf(v: unknown): number | null {
  if (typeof v === "object" && v !== null && typeof (v as { toMillis?: unknown }).toMillis === "function") return (v as { toMillis(): number }).toMillis();
  if (typeof v === "string") {
    const ms = Date.parse(v);
    return Number.isFinite(ms) ? ms : null;
  }
  if (typeof v === "number" && Number.isFinite(v) && v > 0) return v < 1e12 ? v * 1000 : v;
  return null;
}

const countOf = (v: unknown) => (typeof v === "number" && Number.isFinite(v) && v >= 0 ? Math.floor(v) : null);

const LEGACY_FIELDS = ["secret", "signingSecret", "paused", "failureCount", "lastDeliveryStatus", "lastTriggered", "needsMigrationSince"];

/** What the migration does to one doc; null for a doc of this pipeline. Pure: the CLI prints it (dry run) or applies it. */
export function planMigration(d: Doc): MigrationPlan | null {
  if (!needsMigration(d)) return null;
  const url = typeof d.url === "string" ? d.url : "";
  const secret = typeof d.secret === "string" && d.secret ? d.secret : typeof d.signingSecret === "string" && d.signingSecret ? d.signingSecret : null;
  const format = formatFromUrl(url);
  const notes: string[] = [];
  const events: EventType[] = [];
  for (const e of Array.isArray(d.events) ? d.events : []) {
    const name = typeof e === "string" ? (RENAMED[e] ?? e) : "";
    if (isSubscribableEventType(name)) {
      if (!events.includes(name)) events.push(name);
    } else notes.push(`event ${String(e)} is not sent by this pipeline: dropped`);
  }
  if (!secret) notes.push("no secret in the doc: a new one is made (shown once); receivers need it");
  const wasActive = typeof d.enabled === "boolean" ? d.enabled : d.paused !== true;
  const paused = d.paused === true;
  const text = (v: unknown) => (typeof v === "string" ? v : "");
  let host = "webhook";
  try {
    host = new URL(url).hostname || host;
  } catch {
    // keep the placeholder
  }
  const fields: MigrationPlan["fields"] = {
    name: (text(d.name) || text(d.description) || host).slice(0, 100),
    description: text(d.description).slice(0, 500),
    events,
    enabled: wasActive && !paused,
    disabledReason: paused ? "paused" : wasActive ? null : "manual",
    failCount: countOf(d.failCount) ?? countOf(d.failureCount) ?? 0,
    lastStatus: d.lastStatus ?? d.lastDeliveryStatus ?? null,
    lastDeliveryAtMs: millisOf(d.lastTriggered) ?? millisOf(d.lastDeliveryAt),
    // What deployed receivers verify: X-owlette-Signature: sha256=<hex> over the body with this secret.
    signatureScheme: "sha256",
    method: "POST",
    format,
    headerNames: [],
  };
  if (isSet(d.deletedAt)) {
    const gone = { ...fields, enabled: false };
    return { action: "delete", secret, format, url, fields: gone, removes: [], notes: ["deleted in the earlier Owlette (deletedAt): removed"] };
  }
  if (events.length === 0) notes.push("no event this pipeline sends: it stays subscribed to nothing until edited");
  return { action: "migrate", secret, format, url, fields, removes: LEGACY_FIELDS.filter((f) => f in d), notes };
}
