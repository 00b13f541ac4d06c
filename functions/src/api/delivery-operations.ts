import { retryNow } from "../delivery/manual-retry";
import { decodeCursor, encodeCursor } from "./cursors";
import { ApiError } from "./errors";
import { parseInput } from "./inputs";
import { UNAVAILABLE, type Handler, type ServiceContext } from "./service-context";
import { attemptView, deliveryView } from "./views";

/** A webhook's delivery history, and retrying one delivery now. */
export function deliveryOperations({ deps, manage, schemas, access, webhookOr404, changeable }: ServiceContext) {
  return {
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
        case "on_schedule":
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
  } satisfies Record<string, Handler>;
}
