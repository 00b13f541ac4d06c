import { needsAdoption } from "../domain/webhook-shape";
import { upkeepWebhook } from "../data/host-webhook-store";
import type { ManagementStore, StoredDoc } from "../data/management-store";
import type { DeliverDeps } from "../delivery/deliver";
import type { RecoverDeps } from "../pipeline/recover";
import { requireSiteAccess, type Principal } from "./access";
import { ApiError } from "./errors";
import { inputSchemas, type InputSchemas } from "./inputs";
import { webhookView } from "./views";
import { ABUSE_LIMITS, secondsLeftInWindow, type AbuseBucket } from "./abuse-limits";

export type ServiceDeps = Pick<DeliverDeps, "store" | "send" | "resolve" | "config" | "now" | "log"> & {
  manage: ManagementStore;
  /** Recover (pipeline/recover.ts): absent where only other operations run (the CLI's key command). */
  recoveries?: RecoverDeps["recoveries"];
  enqueueRecovery?: RecoverDeps["enqueueRecovery"];
};

export type Handler = (principal: Principal, input: unknown) => Promise<unknown>;

export const UNAVAILABLE = {
  event_expired: "the event has expired and can no longer be sent",
  secret_missing: "the webhook has no signing secret",
  routing_key_missing: "the pagerduty webhook has no routing key; set routingKey first",
  record_unreadable: "the delivery record cannot be read",
} as const;

export const webhookNotFound = (webhookId: string) => new ApiError("not_found", `webhook ${webhookId} not found`);

export function actorOf(principal: Principal): string {
  if (principal.kind === "api_key") return `api_key:${principal.keyId}`;
  return principal.kind === "user" ? principal.user.uid : "agent";
}

export function userOnly(principal: Principal) {
  if (principal.kind !== "user") throw new ApiError("permission_denied", "API keys are managed from the dashboard, not with an API key");
  return principal.user;
}

/** What every operation module works from: the deps, the input schemas and the shared access helpers. */
export type ServiceContext = ReturnType<typeof createServiceContext>;

/** The shared helpers over one set of deps; no operation lives here. */
export function createServiceContext(deps: ServiceDeps) {
  const schemas: InputSchemas = inputSchemas({ allowLocalHttp: deps.config.allowLocalHttp });
  const { manage } = deps;

  /**
   * The caller's access to the site; with a bucket, one use of the site's per-minute ceiling
   * (counted only for callers with access, so a stranger cannot spend a site's budget).
   */
  async function access(principal: Principal, siteId: string, needed: "read" | "admin", bucket?: AbuseBucket) {
    const site = await manage.loadSite(siteId);
    requireSiteAccess(principal, siteId, site, needed);
    if (bucket) {
      const now = deps.now();
      const limit = ABUSE_LIMITS[bucket];
      if (!(await manage.countUse(siteId, bucket, limit, ABUSE_LIMITS.windowSeconds, now))) {
        const retryAfter = secondsLeftInWindow(now.getTime());
        const what = { sends: "tests and probes", writes: "webhook changes", keys: "API key changes" }[bucket];
        throw new ApiError("rate_limited", `site ${siteId} is over ${limit} ${what} a minute; try again in ${retryAfter} s`, [], retryAfter);
      }
    }
    return site ?? {};
  }

  /** Read access is required; returns whether the caller is also a site admin. */
  async function hasAdmin(principal: Principal, siteId: string, bucket?: AbuseBucket): Promise<boolean> {
    const site = await access(principal, siteId, "read", bucket);
    try {
      requireSiteAccess(principal, siteId, site, "admin");
      return true;
    } catch {
      return false;
    }
  }

  async function webhookOr404(siteId: string, webhookId: string): Promise<StoredDoc> {
    const doc = await manage.getWebhook(siteId, webhookId);
    if (!doc) throw webhookNotFound(webhookId);
    return doc;
  }

  /**
   * A webhook the Owlette host wrote is adopted (its write's trigger does it within seconds; a
   * change asked for meanwhile does it first), so every change applies to the adopted doc.
   */
  async function changeable(siteId: string, webhookId: string): Promise<StoredDoc> {
    const doc = await webhookOr404(siteId, webhookId);
    if (!needsAdoption(doc.data)) return doc;
    await upkeepWebhook(deps.store.db, { siteId, webhookId }, null, deps.now());
    return webhookOr404(siteId, webhookId);
  }

  const found = (siteId: string, webhookId: string, doc: StoredDoc | null) => {
    if (!doc) throw webhookNotFound(webhookId);
    return { webhook: webhookView(siteId, doc) };
  };

  return { deps, manage, schemas, access, hasAdmin, webhookOr404, changeable, found };
}
