import { isIP } from "node:net";
import { AGENT_LIMITS } from "./agent-docs";
import { checkDestinationUrl } from "./destination-url";
import { blockedAddressReason } from "./ip-policy";

/**
 * Name suffixes that never lead to a public host (RFC 6761 `localhost`, RFC 6762 `local`,
 * RFC 8375 `home.arpa`, ICANN's private-use `internal`): a link there points into someone's
 * own network.
 */
const PRIVATE_NAMES = ["localhost", "local", "internal", "home.arpa"];

/**
 * The screenshot link of a crash as payloads carry it, or undefined to leave it out. An agent
 * writes it, and receivers and the people reading an alert follow it, so only what can be a
 * public image link goes on: an absolute `https` URL, without credentials, within the agent
 * limit once normalised, whose host is a public address or a name with a dot outside the
 * private-use names. Anything else (`javascript:`, `data:`, `http:`, `https://10.0.0.5/`,
 * `https://metadata.google.internal/`, `https://intranet/`) is dropped, never the crash with it.
 * Names are not resolved: the pipeline never fetches the link, and a receiver's resolver is
 * not ours anyway.
 */
export function safeScreenshotUrl(raw: unknown): string | undefined {
  if (typeof raw !== "string" || raw.length > AGENT_LIMITS.url) return undefined;
  const checked = checkDestinationUrl(raw, { allowLocalHttp: false });
  if (!checked.ok) return undefined;
  const { href, hostname } = checked.url;
  if (href.length > AGENT_LIMITS.url) return undefined;
  const host = hostname
    .replace(/^\[|\]$/g, "")
    .replace(/\.$/, "")
    .toLowerCase();
  if (isIP(host)) return blockedAddressReason(host) === null ? href : undefined;
  if (!host.includes(".")) return undefined;
  return PRIVATE_NAMES.some((name) => host === name || host.endsWith(`.${name}`)) ? undefined : href;
}
