import type { AttemptResult } from "./attempt-result";

export const REDACTED = "[redacted]";

/**
 * What a receiver echoes back (request headers in a debug page, the URL) must not put the
 * webhook's credentials where site members read them: the stored response snippet. Every
 * credential is replaced (header values of 4 characters or more), as written and as JSON would
 * escape it, and so is the token of a `Scheme token` header value (`Bearer …`, `Basic …`) on
 * its own, since echoes split them.
 */
export function credentialsOf(input: {
  secrets: readonly string[];
  headers: Record<string, string>;
  routingKey?: string | undefined;
  url?: string | undefined;
}): string[] {
  const values = new Set<string>();
  for (const s of input.secrets) values.add(s);
  for (const v of Object.values(input.headers)) {
    // Shorter values are not credentials (`X-Env: 1`), and replacing them would garble the snippet.
    if (v.length < MIN_HEADER_CREDENTIAL) continue;
    values.add(v);
    const token = /^\S+\s+(\S{8,})$/.exec(v.trim())?.[1];
    if (token) values.add(token);
  }
  if (input.routingKey) values.add(input.routingKey);
  if (input.url) {
    // A Slack or Discord URL is a credential; so are the long path segments that make it one.
    values.add(input.url);
    try {
      for (const seg of new URL(input.url).pathname.split("/")) if (seg.length >= 16) values.add(seg);
    } catch {
      // not a URL: the whole value is enough
    }
  }
  // As a receiver echoing JSON would write them, too.
  for (const v of [...values]) {
    const escaped = JSON.stringify(v).slice(1, -1);
    if (escaped !== v) values.add(escaped);
  }
  return [...values].filter((v) => v.length > 0).sort((a, b) => b.length - a.length);
}

/** Header values shorter than this are left in snippets. */
export const MIN_HEADER_CREDENTIAL = 4;

export function scrub(text: string, credentials: readonly string[]): string {
  let out = text;
  for (const c of credentials) if (out.includes(c)) out = out.split(c).join(REDACTED);
  return out;
}

/** The attempt as it may be stored and shown: its snippet and error detail scrubbed. */
export function scrubResult(result: AttemptResult, credentials: readonly string[]): AttemptResult {
  if (credentials.length === 0) return result;
  return result.kind === "response"
    ? { ...result, bodySnippet: scrub(result.bodySnippet, credentials) }
    : { ...result, detail: scrub(result.detail, credentials) };
}
