import type { PipelineConfig } from "../config";
import type { AttemptResult } from "../domain/attempt-result";
import { deliveryHeaders } from "../domain/request-headers";
import { renderBody } from "../domain/destination-formats";
import { activeSecrets } from "../domain/secret-rotation";
import { credentialsOf, scrubResult } from "../domain/scrub";
import { toSecretSet } from "../data/parse";
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
  /** Credentials a receiver might echo, replaced in the kept snippet (see domain/scrub.ts). */
  credentials: readonly string[] = [],
): Promise<AttemptResult> {
  const destination = await resolveDestination(input.url, {
    allowLocalHttp: deps.config.allowLocalHttp,
    resolve: deps.resolve,
  });
  if (!destination.ok) return { kind: "error", error: destination.error, durationMs: 0, detail: destination.reason };
  const result = await deps.send({
    url: destination.url,
    address: destination.address,
    method: input.method,
    headers: deliveryHeaders({ ...input, timestampSeconds: Math.floor(input.at.getTime() / 1000) }),
    body: input.body,
    timeoutMs: deps.config.deliveryTimeoutMs,
    // Read past the kept length, so a credential straddling the cut is whole when scrubbed.
    snippetBytes: RESPONSE_SNIPPET_BYTES + (credentials.length > 0 ? SCRUB_MARGIN_BYTES : 0),
  });
  const scrubbed = scrubResult(result, credentials);
  return scrubbed.kind === "response" ? { ...scrubbed, bodySnippet: scrubbed.bodySnippet.slice(0, RESPONSE_SNIPPET_BYTES) } : scrubbed;
}

/** The longest credential a receiver could echo: a custom header value or a credential URL. */
const SCRUB_MARGIN_BYTES = 4096;

/** A `pagerduty` webhook without its routing key cannot be sent to. */
export function missingRoutingKey(webhook: Pick<WebhookDoc, "format">, secret: SecretDoc): boolean {
  return webhook.format === "pagerduty" && !secret.routingKey;
}

/**
 * One event to a saved webhook, as its configuration says: the real URL (kept server-side for
 * Slack and Discord), method, signature scheme with every secret valid at `at`, body format,
 * custom headers. Scheduled attempts, manual retries and the test action all send this way.
 */
export async function sendToWebhook(
  target: { webhook: Pick<WebhookDoc, "url" | "method" | "signatureScheme" | "format">; secret: SecretDoc },
  message: { body: string; eventId: string; eventType: string; deliveryId: string; attempt: number },
  at: Date,
  deps: SendDeps,
): Promise<AttemptResult> {
  const { webhook, secret } = target;
  const secrets = activeSecrets(toSecretSet(secret), at.getTime());
  // Whatever the receiver echoes, its credentials never reach the client-readable record.
  const credentials = credentialsOf({
    secrets: [secret.current, ...secret.previous.map((p) => p.secret)],
    headers: secret.headers,
    routingKey: secret.routingKey,
    url: secret.url,
  });
  return sendSigned(
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
    credentials,
  );
}
