import type { Principal } from "./access";
import { apiKeyOperations } from "./api-key-operations";
import { deliveryOperations } from "./delivery-operations";
import { recoveryOperations } from "./recovery-operations";
import { secretOperations } from "./secret-operations";
import { sendOperations } from "./send-operations";
import { createServiceContext, type Handler, type ServiceDeps } from "./service-context";
import { webhookOperations } from "./webhook-operations";

export type { ServiceDeps } from "./service-context";
export { RECENT_DELIVERIES } from "./webhook-operations";
export { MAX_API_KEYS_PER_SITE } from "./api-key-operations";
export { decodeCursor, encodeCursor } from "./cursors";

/**
 * The management API: every operation validates its input, checks the caller's access to the
 * site, then acts. The callable and REST adapters are thin shells around these handlers, so
 * the dashboard and automation get the same rules, limits and errors.
 */
export function createService(deps: ServiceDeps) {
  const ctx = createServiceContext(deps);
  const operations = {
    ...webhookOperations(ctx),
    ...secretOperations(ctx),
    ...sendOperations(ctx),
    ...deliveryOperations(ctx),
    ...recoveryOperations(ctx),
    ...apiKeyOperations(ctx),
  } satisfies Record<string, Handler>;

  return {
    operations,
    async run(name: keyof typeof operations, principal: Principal, input: unknown): Promise<unknown> {
      return (operations[name] as Handler)(principal, input);
    },
  };
}

export type Service = ReturnType<typeof createService>;
export type OperationName = keyof Service["operations"];
