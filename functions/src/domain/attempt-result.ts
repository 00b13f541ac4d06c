import type { AttemptOutcomeWord } from "./webhook-vocabulary";

/**
 * Why an attempt got no HTTP status, as the sender tells it. These words stay on the server
 * (structured logs, the fast lane's cut-off): clients see `outcomeWord` of them only.
 */
const DELIVERY_ERROR_WORDS = [
  "timeout",
  "connection_refused",
  "connection_reset",
  "dns_error",
  "tls_error",
  "network_error",
  "blocked_url",
  "invalid_request",
] as const;
export type DeliveryErrorWord = (typeof DELIVERY_ERROR_WORDS)[number];

const isDeliveryErrorWord = (word: string): word is DeliveryErrorWord => (DELIVERY_ERROR_WORDS as readonly string[]).includes(word);

export type AttemptResult =
  | { kind: "response"; status: number; durationMs: number; bodySnippet: string; retryAfter?: string }
  | { kind: "error"; error: DeliveryErrorWord; durationMs: number; detail: string };

/** Only a 2xx counts as delivered; a 3xx is a failure because redirects are never followed. */
export function isSuccess(result: AttemptResult): boolean {
  return result.kind === "response" && result.status >= 200 && result.status < 300;
}

/**
 * A webhook's URL is chosen by its admin, so what is said about a request that got no HTTP
 * answer must not map what lies there: refused, reset, silent, not TLS or an unknown name are
 * all `unreachable`, with no detail and no time (resolved addresses, error codes and timings
 * would tell internal DNS and open ports apart). A URL the policy refuses says so
 * (`blocked_url`), as does a request the sender cannot make (`invalid_request`, the admin's own
 * headers): both are about the webhook's configuration, not about what answers there.
 */
function outcomeWord(error: DeliveryErrorWord): AttemptOutcomeWord {
  return error === "blocked_url" || error === "invalid_request" ? error : "unreachable";
}

/** `lastStatus` as stored and shown: the HTTP status, or the outcome word. */
export function lastStatusOf(result: AttemptResult): number | AttemptOutcomeWord {
  return result.kind === "response" ? result.status : outcomeWord(result.error);
}

/**
 * An attempt as it is recorded on the delivery doc and returned to API callers (test, probe,
 * retry): an HTTP answer keeps its status, round trip and (scrubbed) body snippet; anything
 * else is its outcome word alone.
 */
export function attemptOutcome(result: AttemptResult): {
  status: number | null;
  error: AttemptOutcomeWord | null;
  durationMs: number | null;
  responseSnippet: string | null;
} {
  return result.kind === "response"
    ? { status: result.status, error: null, durationMs: result.durationMs, responseSnippet: result.bodySnippet }
    : { status: null, error: outcomeWord(result.error), durationMs: null, responseSnippet: null };
}

/** The detailed reason, for the server's structured log only (never a client-readable doc or answer). */
export function failureDetail(result: AttemptResult): Record<string, unknown> {
  return result.kind === "error" ? { reason: result.error, detail: result.detail, durationMs: result.durationMs } : {};
}

type ShownAttempt = ReturnType<typeof attemptOutcome>;

/**
 * A stored attempt as clients are shown it through the API. Records an earlier version wrote
 * (kept 30 days) carry the sender's finer word, a time and the error detail as their snippet.
 */
export function shownAttempt(stored: { status?: unknown; error?: unknown; durationMs?: unknown; responseSnippet?: unknown }): ShownAttempt {
  if (typeof stored.status === "number") {
    return {
      status: stored.status,
      error: null,
      durationMs: typeof stored.durationMs === "number" ? stored.durationMs : null,
      responseSnippet: typeof stored.responseSnippet === "string" ? stored.responseSnippet : null,
    };
  }
  return { status: null, error: typeof stored.error === "string" ? asOutcomeWord(stored.error) : null, durationMs: null, responseSnippet: null };
}

/** A stored `lastStatus` as clients are shown it: a finer word an earlier version wrote becomes its outcome word. */
export function shownLastStatus(stored: unknown): number | string | null {
  if (typeof stored === "string") return isDeliveryErrorWord(stored) ? outcomeWord(stored) : stored;
  // 0: the Owlette host's "no HTTP answer" (an adopted dashboard doc keeps its numbers).
  if (stored === 0) return "unreachable";
  return typeof stored === "number" ? stored : null;
}

/** Any stored error word as an outcome word; one this code never wrote is `unreachable` too. */
function asOutcomeWord(word: string): AttemptOutcomeWord {
  return isDeliveryErrorWord(word) ? outcomeWord(word) : "unreachable";
}
