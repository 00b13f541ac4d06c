import type { DocumentReference } from "firebase-admin/firestore";

/** Every Firestore path the pipeline touches, in one place. */
export const paths = {
  user: (uid: string) => `users/${uid}`,
  /** Server-only: API key hashes. */
  apiKeys: () => "apiKeys",
  apiKey: (keyId: string) => `apiKeys/${keyId}`,
  site: (siteId: string) => `sites/${siteId}`,
  machines: (siteId: string) => `sites/${siteId}/machines`,
  machine: (siteId: string, machineId: string) => `sites/${siteId}/machines/${machineId}`,
  /** Server-only: the sweep's record of a silent machine (domain/presence.ts). The machine doc is the agent's. */
  presence: (siteId: string, machineId: string) => `sites/${siteId}/presence/${machineId}`,
  /** Server-only: the sweep's floors, one per site (domain/sweep-floor.ts). */
  sweepState: () => "pipelineState/sweep",
  webhooks: (siteId: string) => `sites/${siteId}/webhooks`,
  webhook: (siteId: string, webhookId: string) => `sites/${siteId}/webhooks/${webhookId}`,
  /** Server-only: no security rule matches it, so no client can read or write it. */
  webhookSecret: (siteId: string, webhookId: string) => `sites/${siteId}/webhooks/${webhookId}/private/signing`,
  deliveries: (siteId: string, webhookId: string) => `sites/${siteId}/webhooks/${webhookId}/deliveries`,
  delivery: (siteId: string, webhookId: string, deliveryId: string) => `sites/${siteId}/webhooks/${webhookId}/deliveries/${deliveryId}`,
  event: (siteId: string, eventId: string) => `sites/${siteId}/events/${eventId}`,
  events: (siteId: string) => `sites/${siteId}/events`,
  /** Server-only: one recover action's plan and progress (domain/recovery.ts). */
  recoveries: (siteId: string, webhookId: string) => `sites/${siteId}/webhooks/${webhookId}/recoveries`,
  recovery: (siteId: string, webhookId: string, recoveryId: string) => `sites/${siteId}/webhooks/${webhookId}/recoveries/${recoveryId}`,
  /** Server-only: what agents reported, one doc per occurrence (see domain/emission-policy.ts). */
  occurrence: (siteId: string, occurrenceId: string) => `sites/${siteId}/occurrences/${occurrenceId}`,
  occurrences: (siteId: string) => `sites/${siteId}/occurrences`,
  /** Server-only: the flap a replaced claim leaves behind for the flapping count (domain/flapping.ts). */
  replacedFlap: (siteId: string, occurrenceId: string, flapAtMs: number) => `sites/${siteId}/occurrences/${occurrenceId}~${flapAtMs}`,
  /** Server-only: the site's emission ledger, every limit's count and held-back count in one doc (domain/emission-ledger.ts). */
  emissionLedger: (siteId: string) => `sites/${siteId}/emissionLimits/ledger`,
  /** Server-only: an episode of flapping of one machine or process (domain/flapping.ts). */
  flap: (siteId: string, flapDocId: string) => `sites/${siteId}/flaps/${flapDocId}`,
  logs: (siteId: string) => `sites/${siteId}/logs`,
  /** Server-only: the management API's per-site rate-limit windows. */
  rateLimit: (siteId: string, docId: string) => `sites/${siteId}/rateLimits/${docId}`,
  /** Server-only: events the host's sender handed over (integrations/owlette-host), one doc each. */
  hostReports: (siteId: string) => `sites/${siteId}/hostReports`,
  hostReport: (siteId: string, reportId: string) => `sites/${siteId}/hostReports/${reportId}`,
  /** Server-only: the host's test button's requests, answered on the doc. */
  hostRequest: (requestId: string) => `hostRequests/${requestId}`,
  /** Server-only: the site's pacing in the slow delivery lane (domain/slow-lane-share.ts). */
  slowLaneShare: (siteId: string) => `sites/${siteId}/laneShares/slow`,
};

/** Days an event, and each delivery record, are kept before the TTL policy removes them. */
export const RETENTION_DAYS = 30;

export function expiryFrom(at: Date, days = RETENTION_DAYS): Date {
  return new Date(at.getTime() + days * 86_400_000);
}

/** A collection-group query on `machines` also sees other `machines` collections (the host's `config/{s}/machines/{m}`): only `sites/{s}/machines/{m}` are fleet machines. */
export function isSiteMachine(ref: DocumentReference): boolean {
  return ref.parent.parent?.parent.id === "sites" && ref.parent.parent.parent.parent === null;
}
