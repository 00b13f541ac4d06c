import type { Format } from "./destination-formats";
import type { HostShape } from "./host-vocabulary";

/**
 * Whose webhook doc this is, and whether it is delivered to. Besides the pipeline's own docs, a
 * `sites/{s}/webhooks` collection holds the Owlette host's (domain/host-adoption.ts):
 * - the dashboard (v1): `{name, url, events, enabled, secret, lastTriggered, lastStatus, failCount}`;
 * - the public API: `{schemaVersion, url, hostname, events, description, signingSecret, paused,
 *   deletedAt, failureCount, lastDeliveryStatus, lastDeliveryAt}`.
 * Both hold their signing secret in the client-readable doc until the pipeline adopts them.
 */
type Doc = Record<string, unknown>;

/** The flag an earlier version of the pipeline set on host docs instead of adopting them; cleared at adoption. */
export const NEEDS_MIGRATION = "needs_migration";

const SECRET_FIELDS = ["secret", "signingSecret", "previousSigningSecret"] as const;
const isSet = (v: unknown) => v !== undefined && v !== null;

/** One of the host's shapes (adopted or not), or null for the pipeline's own doc. */
export function hostShapeOf(d: Doc): HostShape | null {
  if (d.hostShape === "dashboard" || d.hostShape === "api") return d.hostShape;
  if ("signingSecret" in d || "schemaVersion" in d || "previousSigningSecret" in d) return "api";
  if ("secret" in d) return "dashboard";
  // The pipeline always writes a boolean `enabled`; the public API writes `paused` instead.
  return typeof d.enabled === "boolean" ? null : "api";
}

export const isAdopted = (d: Doc) => d.hostShape === "dashboard" || d.hostShape === "api";

/** A signing secret sits in the client-readable doc (a new host doc, or a rotation by the host). */
export const holdsSecret = (d: Doc) => SECRET_FIELDS.some((f) => typeof d[f] === "string" && d[f] !== "");

/** A host doc not taken over yet, or one the host just wrote a secret into. */
export function needsAdoption(d: Doc): boolean {
  return (hostShapeOf(d) !== null && !isAdopted(d)) || holdsSecret(d);
}

/**
 * - `deliverable`: enabled, adopted or the pipeline's own;
 * - `off`: disabled, paused or deleted (as either the pipeline or the host writes it);
 * - `legacy_active`: a host doc that would be delivered to, to be adopted first.
 */
export function webhookShape(d: Doc): "deliverable" | "off" | "legacy_active" {
  if (isSet(d.deletedAt) || d.paused === true) return "off";
  if (needsAdoption(d)) return d.enabled === false ? "off" : "legacy_active";
  return d.enabled === true ? "deliverable" : "off";
}

/** As the host's sender picks a native format: from the URL. */
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
