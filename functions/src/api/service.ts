import { randomBytes } from "node:crypto";
import { failureDetail, lastStatusOf } from "../domain/attempt-result";
import type { EventType } from "../domain/event-catalog";
import { renderBody } from "../domain/destination-formats";
import { buildTestPayload, serializePayload, siteRefOf } from "../domain/payload";
import { generateSecret } from "../domain/signing";
import { needsAdoption } from "../domain/webhook-shape";
import { upkeepWebhook } from "../data/host-webhook-store";
import { credentialsOf } from "../domain/scrub";
import { ManagementStore, QuotaExceededError, type StoredDoc } from "../data/management-store";
import type { DeliverDeps } from "../delivery/deliver";
import { retryNow } from "../delivery/manual-retry";
import { sendTestEvent } from "../delivery/test-send";
import { sendSigned } from "../delivery/send-signed";
import { requireSiteAccess, type Principal } from "./access";
import { generateApiKey } from "./api-keys";
import { ApiError, invalid } from "./errors";
import { DOC_ID, inputSchemas, parseInput, type InputSchemas } from "./inputs";
import { webhookQuota } from "./quota";
import { apiKeyView, attemptView, deliveryView, webhookView } from "./views";
import { ABUSE_LIMITS, secondsLeftInWindow, type AbuseBucket } from "./abuse-limits";

export type ServiceDeps = Pick<DeliverDeps, "store" | "send" | "resolve" | "config" | "now" | "log"> & {
  manage: ManagementStore;
};

const UNAVAILABLE = {
  event_expired: "the event has expired and can no longer be sent",
  secret_missing: "the webhook has no signing secret",
  routing_key_missing: "the pagerduty webhook has no routing key; set routingKey first",
} as const;

/** Deliveries shown with a webhook (`get`); the full history pages through `deliveries.list`. */
export const RECENT_DELIVERIES = 10;

type Handler = (principal: Principal, input: unknown) => Promise<unknown>;

/**
 * The management API: every operation validates its input, checks the caller's access to the
 * site, then acts. The callable and REST adapters are thin shells around these handlers, so
 * the dashboard and automation get the same rules, limits and errors.
 */
export function createService(deps: ServiceDeps) {
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

  function switchTo(enabled: boolean, reason: "paused" | "manual"): Handler {
    return async (principal, raw) => {
      const input = parseInput(schemas.webhook, raw);
      await access(principal, input.siteId, "admin", "writes");
      await changeable(input.siteId, input.webhookId);
      return found(input.siteId, input.webhookId, await manage.setEnabled(input.siteId, input.webhookId, enabled, reason, deps.now()));
    };
  }

  function userOnly(principal: Principal) {
    if (principal.kind !== "user") throw new ApiError("permission_denied", "API keys are managed from the dashboard, not with an API key");
    return principal.user;
  }

  const operations = {
    "webhooks.list": async (principal, raw) => {
      const input = parseInput(schemas.site, raw);
      await access(principal, input.siteId, "read");
      const docs = await manage.listWebhooks(input.siteId);
      return { data: docs.map((d) => webhookView(input.siteId, d)) };
    },

    "webhooks.get": async (principal, raw) => {
      const input = parseInput(schemas.webhook, raw);
      await access(principal, input.siteId, "read");
      const doc = await webhookOr404(input.siteId, input.webhookId);
      const recent = await manage.listDeliveries(input.siteId, input.webhookId, { limit: RECENT_DELIVERIES });
      return { webhook: webhookView(input.siteId, doc), recentDeliveries: recent.docs.map(deliveryView) };
    },

    "webhooks.create": async (principal, raw) => {
      const input = parseInput(schemas.createWebhook, raw);
      const site = await access(principal, input.siteId, "admin", "writes");
      const { siteId, events, ...rest } = input;
      const quota = webhookQuota(site);
      try {
        const created = await manage.createWebhook(
          siteId,
          { ...rest, events: events as EventType[], createdBy: actorOf(principal) },
          { quota, now: deps.now() },
        );
        deps.log.info("webhook.created", { siteId, webhookId: created.id, by: actorOf(principal) });
        // The only response that ever carries this secret.
        return { webhook: webhookView(siteId, { id: created.id, data: created.data }), secret: created.secret };
      } catch (err) {
        if (err instanceof QuotaExceededError) {
          throw new ApiError("quota_exceeded", `site ${siteId} has reached its webhook quota of ${err.quota}; delete a webhook or upgrade the plan`);
        }
        throw err;
      }
    },

    "webhooks.update": async (principal, raw) => {
      const input = parseInput(schemas.updateWebhook, raw);
      await access(principal, input.siteId, "admin", "writes");
      await changeable(input.siteId, input.webhookId);
      const { siteId, webhookId, events, ...fields } = input;
      const patch = { ...fields, ...(events ? { events: events as EventType[] } : {}) };
      return found(siteId, webhookId, await manage.updateWebhook(siteId, webhookId, patch, deps.now()));
    },

    "webhooks.delete": async (principal, raw) => {
      const input = parseInput(schemas.webhook, raw);
      await access(principal, input.siteId, "admin", "writes");
      const result = await manage.deleteWebhook(input.siteId, input.webhookId, deps.now());
      if (!result.deleted) throw webhookNotFound(input.webhookId);
      deps.log.info("webhook.deleted", { siteId: input.siteId, webhookId: input.webhookId, pendingSkipped: result.pendingSkipped });
      return { id: input.webhookId, deleted: true, pendingDeliveriesSkipped: result.pendingSkipped };
    },

    "webhooks.pause": switchTo(false, "paused"),
    "webhooks.resume": switchTo(true, "paused"),
    "webhooks.disable": switchTo(false, "manual"),
    "webhooks.enable": switchTo(true, "manual"),

    "webhooks.rotateSecret": async (principal, raw) => {
      const input = parseInput(schemas.rotateSecret, raw);
      await access(principal, input.siteId, "admin", "writes");
      await changeable(input.siteId, input.webhookId);
      const now = deps.now();
      const secret = await manage.rotateSecret(input.siteId, input.webhookId, input.overlapSeconds, now);
      if (!secret) throw webhookNotFound(input.webhookId);
      deps.log.info("webhook.secret_rotated", { siteId: input.siteId, webhookId: input.webhookId, overlapSeconds: input.overlapSeconds });
      return {
        webhookId: input.webhookId,
        // The only response that ever carries this secret.
        secret,
        previousSecretExpiresAt: input.overlapSeconds > 0 ? new Date(now.getTime() + input.overlapSeconds * 1000).toISOString() : null,
      };
    },

    "webhooks.test": async (principal, raw) => {
      const input = parseInput(schemas.webhook, raw);
      const site = await access(principal, input.siteId, "admin", "sends");
      await changeable(input.siteId, input.webhookId);
      const sent = await sendTestEvent(input, siteRefOf(input.siteId, site), deps);
      if (sent.kind === "not_found") throw webhookNotFound(input.webhookId);
      if (sent.kind === "routing_key_missing") throw new ApiError("conflict", UNAVAILABLE.routing_key_missing);
      return { eventId: sent.eventId, result: attemptView(sent.result) };
    },

    "webhooks.probe": async (principal, raw) => {
      const input = parseInput(schemas.probe, raw);
      const site = await access(principal, input.siteId, "admin", "sends");
      const at = deps.now();
      const id = `evt_probe_${randomBytes(12).toString("hex")}`;
      // A throwaway secret, returned so the receiver's verification can be checked with it.
      const secret = generateSecret();
      const scheme = input.signatureScheme ?? "owlette";
      const body = renderBody(input.format ?? "owlette", serializePayload(buildTestPayload({ id, site: siteRefOf(input.siteId, site), webhookId: null, at })), {
        routingKey: input.routingKey,
      });
      const result = await sendSigned(
        {
          url: input.url,
          method: input.method ?? "POST",
          scheme,
          secrets: [secret],
          body,
          eventId: id,
          eventType: "webhook.test",
          deliveryId: id.replace(/^evt_/, "dlv_"),
          attempt: 1,
          custom: input.headers ?? {},
          at,
        },
        deps,
        credentialsOf({ secrets: [secret], headers: input.headers ?? {}, routingKey: input.routingKey }),
      );
      deps.log.info("webhook.probed", { siteId: input.siteId, lastStatus: lastStatusOf(result), ...failureDetail(result) });
      return { eventId: id, signatureScheme: scheme, secret, result: attemptView(result) };
    },

    "deliveries.list": async (principal, raw) => {
      const input = parseInput(schemas.listDeliveries, raw);
      await access(principal, input.siteId, "read");
      await webhookOr404(input.siteId, input.webhookId);
      const after = input.cursor === undefined ? undefined : decodeCursor(input.cursor);
      const page = await manage.listDeliveries(input.siteId, input.webhookId, {
        limit: input.limit,
        ...(after ? { after } : {}),
        ...(input.status ? { status: input.status } : {}),
      });
      const last = page.docs[page.docs.length - 1];
      return { data: page.docs.map(deliveryView), nextCursor: page.more && last ? encodeCursor(last) : null };
    },

    "deliveries.retry": async (principal, raw) => {
      const input = parseInput(schemas.delivery, raw);
      await access(principal, input.siteId, "admin", "writes");
      await changeable(input.siteId, input.webhookId);
      const existing = await manage.getDelivery(input.siteId, input.webhookId, input.deliveryId);
      const eventId = existing?.data.eventId;
      if (!existing || typeof eventId !== "string") throw new ApiError("not_found", `delivery ${input.deliveryId} not found`);
      const outcome = await retryNow({ ...input, eventId }, deps);
      switch (outcome.outcome) {
        case "not_found":
          throw new ApiError("not_found", `delivery ${input.deliveryId} not found`);
        case "already_succeeded":
          throw new ApiError("conflict", "delivery already succeeded; nothing to retry");
        case "webhook_disabled":
          throw new ApiError("conflict", "webhook is disabled; enable or resume it before retrying");
        case "unavailable":
          throw new ApiError("conflict", UNAVAILABLE[outcome.reason]);
        case "attempted": {
          const doc = await manage.getDelivery(input.siteId, input.webhookId, input.deliveryId);
          return { delivery: doc ? deliveryView(doc) : null, result: { ...attemptView(outcome.result), attempt: outcome.attempt } };
        }
      }
    },

    "apiKeys.create": async (principal, raw) => {
      const user = userOnly(principal);
      const input = parseInput(schemas.createApiKey, raw);
      await access(principal, input.siteId, input.access === "write" ? "admin" : "read", "keys");
      const live = (await manage.listApiKeys(input.siteId)).filter((k) => !k.data.revokedAt).length;
      if (live >= MAX_API_KEYS_PER_SITE) {
        throw new ApiError("quota_exceeded", `site ${input.siteId} has ${live} API keys, the most it may have; revoke one first`);
      }
      const keyId = manage.newApiKeyId();
      const { key, hash, prefix } = generateApiKey(keyId);
      const now = deps.now();
      const data = await manage.createApiKey(keyId, { siteId: input.siteId, uid: user.uid, name: input.name, access: input.access, hash, prefix }, now);
      deps.log.info("api_key.created", { siteId: input.siteId, keyId, access: input.access, by: user.uid });
      const view = apiKeyView({ id: keyId, data });
      // The only response that ever carries the key.
      return { apiKey: view, key };
    },

    "apiKeys.list": async (principal, raw) => {
      const user = userOnly(principal);
      const input = parseInput(schemas.site, raw);
      const isAdmin = await hasAdmin(principal, input.siteId);
      const docs = await manage.listApiKeys(input.siteId, isAdmin ? undefined : user.uid);
      return { data: docs.map(apiKeyView) };
    },

    "apiKeys.revoke": async (principal, raw) => {
      const user = userOnly(principal);
      const input = parseInput(schemas.apiKey, raw);
      const isAdmin = await hasAdmin(principal, input.siteId, "keys");
      const key = await manage.loadApiKey(input.keyId);
      if (!key || key.siteId !== input.siteId || (!isAdmin && key.uid !== user.uid)) {
        throw new ApiError("not_found", `API key ${input.keyId} not found`);
      }
      if (!key.revokedAt) await manage.revokeApiKey(input.keyId, deps.now());
      deps.log.info("api_key.revoked", { siteId: input.siteId, keyId: input.keyId, by: user.uid });
      return { id: input.keyId, revoked: true };
    },
  } satisfies Record<string, Handler>;

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

  return {
    operations,
    async run(name: keyof typeof operations, principal: Principal, input: unknown): Promise<unknown> {
      return (operations[name] as Handler)(principal, input);
    },
  };
}

export type Service = ReturnType<typeof createService>;
export type OperationName = keyof Service["operations"];

/** API keys a site may have at once (revoked ones do not count). */
export const MAX_API_KEYS_PER_SITE = 25;

const webhookNotFound = (webhookId: string) => new ApiError("not_found", `webhook ${webhookId} not found`);

function actorOf(principal: Principal): string {
  if (principal.kind === "api_key") return `api_key:${principal.keyId}`;
  return principal.kind === "user" ? principal.user.uid : "agent";
}

/** Firestore Timestamps run from year 1 to year 9999. */
const TIMESTAMP_MIN_MS = -62_135_596_800_000;
const TIMESTAMP_MAX_MS = 253_402_300_799_999;

/** Cursors are opaque to callers: base64url of the last item's `createdAt` and id. */
export function encodeCursor(doc: StoredDoc): string {
  const createdAt = doc.data.createdAt as { toMillis?: () => number } | undefined;
  return Buffer.from(JSON.stringify([createdAt?.toMillis?.() ?? 0, doc.id])).toString("base64url");
}

export function decodeCursor(cursor: string): { createdAtMs: number; id: string } {
  try {
    const [createdAtMs, id] = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8")) as unknown[];
    // Within Firestore's Timestamp range, and an id Firestore accepts: a forged cursor is a 400, not a 500.
    const inRange = typeof createdAtMs === "number" && Number.isInteger(createdAtMs) && createdAtMs >= TIMESTAMP_MIN_MS && createdAtMs <= TIMESTAMP_MAX_MS;
    if (inRange && typeof id === "string" && DOC_ID.test(id) && id.length <= 256) return { createdAtMs, id };
  } catch {
    // fall through to the refusal below
  }
  throw invalid([{ path: "cursor", reason: "not a cursor returned by this API" }]);
}
