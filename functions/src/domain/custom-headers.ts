/** Limits on the custom headers a webhook may send (receiver auth tokens and the like). */
export const CUSTOM_HEADER_LIMITS = { count: 20, nameLength: 64, valueLength: 1024 } as const;

/**
 * Headers the pipeline owns: framing (Content-Type, Content-Length, Host), hop-by-hop headers,
 * and every signature and id header. A custom header must never replace them.
 */
const DENIED = new Set([
  "content-type",
  "content-length",
  "content-encoding",
  "host",
  "user-agent",
  "connection",
  "keep-alive",
  "proxy-authenticate",
  "proxy-authorization",
  "proxy-connection",
  "te",
  "trailer",
  "trailers",
  "transfer-encoding",
  "upgrade",
  "expect",
  "owlette-signature",
]);
const DENIED_PREFIXES = ["x-owlette-", "webhook-", "roost-"];
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
/**
 * What Node's HTTP client will put in a header value (it throws ERR_INVALID_CHAR on the rest),
 * less the C1 controls: a tab, printable ASCII and printable Latin-1. No CR, LF, NUL, DEL, BEL,
 * U+2028, €, emoji.
 */
const SENDABLE_VALUE = /^[\t\x20-\x7e\xa0-\xff]*$/;
/** Keys that JavaScript objects treat specially: refused rather than dropped on the way. */
const UNSAFE_KEYS = new Set(["__proto__", "constructor", "prototype"]);

export type HeaderProblem = { header: string; reason: string };

/** Problems with a set of custom headers; an empty list means they are acceptable. */
export function customHeaderProblems(headers: Record<string, string>): HeaderProblem[] {
  const problems: HeaderProblem[] = [];
  const entries = Object.entries(headers);
  if (entries.length > CUSTOM_HEADER_LIMITS.count) {
    problems.push({ header: "*", reason: `at most ${CUSTOM_HEADER_LIMITS.count} custom headers` });
  }
  const seen = new Set<string>();
  for (const [name, value] of entries) {
    const lower = name.toLowerCase();
    if (UNSAFE_KEYS.has(lower)) {
      problems.push({ header: name, reason: "not usable as a header name here" });
    } else if (!TOKEN.test(name) || name.length > CUSTOM_HEADER_LIMITS.nameLength) {
      problems.push({ header: name, reason: "not a valid header name" });
    } else if (DENIED.has(lower) || DENIED_PREFIXES.some((p) => lower.startsWith(p))) {
      problems.push({ header: name, reason: "reserved: set by the pipeline" });
    } else if (seen.has(lower)) {
      problems.push({ header: name, reason: "duplicate header name" });
    }
    seen.add(lower);
    if (typeof value !== "string" || /[\r\n\0]/.test(value) || value.length > CUSTOM_HEADER_LIMITS.valueLength) {
      problems.push({ header: name, reason: "value must be a single line of at most 1024 characters" });
    } else if (!SENDABLE_VALUE.test(value)) {
      problems.push({ header: name, reason: "value must be printable Latin-1 (tab, space to ~, or ¡ to ÿ): HTTP cannot carry other characters in a header" });
    }
  }
  return problems;
}
