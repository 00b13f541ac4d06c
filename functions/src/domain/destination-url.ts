export type UrlCheck = { ok: true; url: URL } | { ok: false; reason: string };

const LOOPBACK_HOSTS = new Set(["127.0.0.1", "localhost", "[::1]"]);

/**
 * Where a webhook may point. Production accepts only https URLs without credentials; plain
 * http to a loopback receiver is accepted only when `allowLocalHttp` is set, which the
 * configuration allows in the emulator alone.
 */
export function checkDestinationUrl(raw: string, opts: { allowLocalHttp: boolean }): UrlCheck {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return { ok: false, reason: "not a valid URL" };
  }
  if (url.username || url.password) {
    return { ok: false, reason: "credentials in the URL are not allowed; use a custom header" };
  }
  if (url.protocol === "https:") return { ok: true, url };
  if (url.protocol === "http:" && opts.allowLocalHttp && LOOPBACK_HOSTS.has(url.hostname)) {
    return { ok: true, url };
  }
  return { ok: false, reason: "URL must use https" };
}
