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
const DENIED_PREFIXES = ["x-owlette-", "webhook-"];
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

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
    if (!TOKEN.test(name) || name.length > CUSTOM_HEADER_LIMITS.nameLength) {
      problems.push({ header: name, reason: "not a valid header name" });
    } else if (DENIED.has(lower) || DENIED_PREFIXES.some((p) => lower.startsWith(p))) {
      problems.push({ header: name, reason: "reserved: set by the pipeline" });
    } else if (seen.has(lower)) {
      problems.push({ header: name, reason: "duplicate header name" });
    }
    seen.add(lower);
    if (typeof value !== "string" || /[\r\n\0]/.test(value) || value.length > CUSTOM_HEADER_LIMITS.valueLength) {
      problems.push({ header: name, reason: "value must be a single line of at most 1024 characters" });
    }
  }
  return problems;
}
