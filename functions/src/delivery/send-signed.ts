import type { PipelineConfig } from "../config";
import type { AttemptResult } from "../domain/attempt-result";
import { deliveryHeaders } from "../domain/request-headers";
import { renderBody } from "../domain/destination-formats";
import { activeSecrets } from "../domain/secret-rotation";
import { credentialsOf, scrubResult } from "../domain/scrub";
import { toSecretSet } from "../data/store";
import type { HttpMethod, SecretDoc, WebhookDoc } from "../data/webhook-docs";
import type { Sender } from "./http-sender";
import { resolveDestination, type Resolver } from "./resolve-destination";

/** Response bytes kept on the delivery record for debugging. */
export const RESPONSE_SNIPPET_BYTES = 1024;

export interface SendDeps {
  send: Sender;
  resolve: Resolver;
  config: Pick<PipelineConfig, "allowLocalHttp" | "deliveryTimeoutMs">;
}

/**
 * One signed request, through the SSRF guard: every send goes this way (a saved webhook's
 * through `sendToWebhook`; the probe's directly). A refused destination is an attempt result like any
 * other failure (`blocked_url`, `dns_error`), never an exception.
 */
export async function sendSigned(
  input: Omit<Parameters<typeof deliveryHeaders>[0], "timestampSeconds"> & {
    url: string;
    method: HttpMethod;
    /** Send time: the signed timestamp of the timestamped schemes. */
    at: Date;
  },
  deps: SendDeps,
): Promise<AttemptResult> {
  const destination = await resolveDestination(input.url, {
    allowLocalHttp: deps.config.allowLocalHttp,
    resolve: deps.resolve,
  });
  if (!destination.ok) return { kind: "error", error: destination.error, durationMs: 0, detail: destination.reason };
  return deps.send({
    url: destination.url,
    address: destination.address,
    method: input.method,
    headers: deliveryHeaders({ ...input, timestampSeconds: Math.floor(input.at.getTime() / 1000) }),
    body: input.body,
    timeoutMs: deps.config.deliveryTimeoutMs,
    snippetBytes: RESPONSE_SNIPPET_BYTES,
  });
}

/** A `pagerduty` webhook without its routing key cannot be sent to. */
export function missingRoutingKey(webhook: WebhookDoc, secret: SecretDoc): boolean {
  return webhook.format === "pagerduty" && !secret.routingKey;
}

/**
 * One event to a saved webhook, as its configuration says: the real URL (kept server-side for
 * Slack and Discord), method, signature scheme with every secret valid at `at`, body format,
 * custom headers. Scheduled attempts, manual retries and the test action all send this way.
 */
export async function sendToWebhook(
  target: { webhook: WebhookDoc; secret: SecretDoc },
  message: { body: string; eventId: string; eventType: string; deliveryId: string; attempt: number },
  at: Date,
  deps: SendDeps,
): Promise<AttemptResult> {
  const { webhook, secret } = target;
  const secrets = activeSecrets(toSecretSet(secret), at.getTime());
  const result = await sendSigned(
    {
      ...message,
      url: secret.url ?? webhook.url,
      method: webhook.method,
      scheme: webhook.signatureScheme,
      secrets,
      body: renderBody(webhook.format, message.body, { routingKey: secret.routingKey }),
      custom: secret.headers,
      at,
    },
    deps,
  );
  // Whatever the receiver echoes, its credentials never reach the client-readable record.
  return scrubResult(result, credentialsOf({ secrets: [secret.current, ...secret.previous.map((p) => p.secret)], headers: secret.headers, routingKey: secret.routingKey, url: secret.url }));
}
