import type { EventType } from "../domain/event-catalog";
import { QuotaExceededError } from "../data/management-store";
import { ApiError } from "./errors";
import { parseInput } from "./inputs";
import { webhookQuota } from "./quota";
import { actorOf, webhookNotFound, type Handler, type ServiceContext } from "./service-context";
import { deliveryView, webhookView } from "./views";

/** Deliveries shown with a webhook (`get`); the full history pages through `deliveries.list`. */
export const RECENT_DELIVERIES = 10;

/** Listing, reading, creating, changing, deleting and switching webhooks on and off. */
export function webhookOperations(ctx: ServiceContext) {
  const { deps, manage, schemas, access, webhookOr404, changeable, found } = ctx;
  return {
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

    "webhooks.pause": switchTo(ctx, false, "paused"),
    "webhooks.resume": switchTo(ctx, true, "paused"),
    "webhooks.disable": switchTo(ctx, false, "manual"),
    "webhooks.enable": switchTo(ctx, true, "manual"),
  } satisfies Record<string, Handler>;
}

function switchTo({ deps, manage, schemas, access, changeable, found }: ServiceContext, enabled: boolean, reason: "paused" | "manual"): Handler {
  return async (principal, raw) => {
    const input = parseInput(schemas.webhook, raw);
    await access(principal, input.siteId, "admin", "writes");
    await changeable(input.siteId, input.webhookId);
    return found(input.siteId, input.webhookId, await manage.setEnabled(input.siteId, input.webhookId, enabled, reason, deps.now()));
  };
}
