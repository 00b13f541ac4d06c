import type { PipelineConfig } from "../config";
import type { AttemptResult } from "../domain/attempt-result";
import { deliveryHeaders } from "../domain/request-headers";
import type { SignatureScheme } from "../domain/signature-schemes";
import type { HttpMethod } from "../data/webhook-docs";
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
 * One signed request, through the SSRF guard: scheduled attempts, manual retries, the test
 * action and the probe all send this way. A refused destination is an attempt result like any
 * other failure (`blocked_url`, `dns_error`), never an exception.
 */
export async function sendSigned(
  input: {
    url: string;
    method: HttpMethod;
    scheme: SignatureScheme;
    secrets: readonly string[];
    body: string;
    eventId: string;
    eventType: string;
    deliveryId: string;
    attempt: number;
    custom: Record<string, string>;
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
    headers: deliveryHeaders({
      scheme: input.scheme,
      secrets: input.secrets,
      body: input.body,
      eventId: input.eventId,
      eventType: input.eventType,
      deliveryId: input.deliveryId,
      attempt: input.attempt,
      timestampSeconds: Math.floor(input.at.getTime() / 1000),
      custom: input.custom,
    }),
    body: input.body,
    timeoutMs: deps.config.deliveryTimeoutMs,
    snippetBytes: RESPONSE_SNIPPET_BYTES,
  });
}
