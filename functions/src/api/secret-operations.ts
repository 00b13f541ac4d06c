import { parseInput } from "./inputs";
import { webhookNotFound, type Handler, type ServiceContext } from "./service-context";

/** Rotating a webhook's signing secret. */
export function secretOperations({ deps, manage, schemas, access, changeable }: ServiceContext) {
  return {
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
  } satisfies Record<string, Handler>;
}
