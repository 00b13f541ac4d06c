import type { PipelineConfig } from "../config";
import type { AttemptResult } from "../domain/attempt-result";
import { deliveryHeaders } from "../domain/request-headers";
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
