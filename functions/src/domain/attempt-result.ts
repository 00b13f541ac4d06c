/** Short, stable words for failures that have no HTTP status; shown as `lastStatus`. */
export type DeliveryErrorWord =
  "timeout" | "connection_refused" | "connection_reset" | "dns_error" | "tls_error" | "network_error" | "blocked_url" | "invalid_request";

export type AttemptResult =
  | { kind: "response"; status: number; durationMs: number; bodySnippet: string; retryAfter?: string }
  | { kind: "error"; error: DeliveryErrorWord; durationMs: number; detail: string };

/** Only a 2xx counts as delivered; a 3xx is a failure because redirects are never followed. */
export function isSuccess(result: AttemptResult): boolean {
  return result.kind === "response" && result.status >= 200 && result.status < 300;
}

export function lastStatusOf(result: AttemptResult): number | DeliveryErrorWord {
  return result.kind === "response" ? result.status : result.error;
}
