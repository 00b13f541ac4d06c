import { randomBytes } from "node:crypto";
import { failureDetail, lastStatusOf } from "../domain/attempt-result";
import { renderBody } from "../domain/destination-formats";
import { buildTestPayload, serializePayload, siteRefOf } from "../domain/payload";
import { generateSecret } from "../domain/signing";
import { credentialsOf } from "../domain/scrub";
import { sendTestEvent } from "../delivery/test-send";
import { sendSigned } from "../delivery/send-signed";
import { ApiError } from "./errors";
import { parseInput } from "./inputs";
import { UNAVAILABLE, webhookNotFound, type Handler, type ServiceContext } from "./service-context";
import { attemptView } from "./views";

/** Test sends: a test event to a webhook, and a probe of a URL that is not a webhook yet. */
export function sendOperations({ deps, schemas, access, changeable }: ServiceContext) {
  return {
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
  } satisfies Record<string, Handler>;
}
