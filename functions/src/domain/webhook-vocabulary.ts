// The closed word lists of webhook and delivery docs, with no imports: the functions and the
// console (a browser bundle, which cannot take node:crypto or zod along) use the same lists.

/**
 * How a webhook's requests are signed (signature-schemes.ts says what each one sends). `roost`
 * and `owlette_v1` are the conventions of the Owlette host's own senders (its public API's and
 * its dashboard's), for receivers written against the host.
 */
export const SIGNATURE_SCHEMES = ["owlette", "sha256", "standard", "timestamped", "roost", "owlette_v1"] as const;
export type SignatureScheme = (typeof SIGNATURE_SCHEMES)[number];

export const HTTP_METHODS = ["POST", "PUT", "PATCH"] as const;
export type HttpMethod = (typeof HTTP_METHODS)[number];

export const DELIVERY_STATUSES = ["pending", "succeeded", "failed", "skipped"] as const;
export type DeliveryStatus = (typeof DELIVERY_STATUSES)[number];

/**
 * What a webhook doc's `lastStatus` or an attempt's `error` says when no HTTP answer came, and all
 * any API caller is told: the probe's words, shared by the test action, retries and delivery
 * records (domain/attempt-result.ts maps the sender's finer reasons onto them).
 */
export const ATTEMPT_OUTCOME_WORDS = ["unreachable", "blocked_url", "invalid_request"] as const;
export type AttemptOutcomeWord = (typeof ATTEMPT_OUTCOME_WORDS)[number];
