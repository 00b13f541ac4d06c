import { lookup } from "node:dns/promises";
import { isIP } from "node:net";
import { checkDestinationUrl } from "../domain/destination-url";
import { blockedAddressReason } from "../domain/ip-policy";

export type Resolver = (hostname: string) => Promise<string[]>;

export const systemResolver: Resolver = async (hostname) => (await lookup(hostname, { all: true, verbatim: true })).map((a) => a.address);

export type Destination = { ok: true; url: URL; address: string } | { ok: false; error: "blocked_url" | "dns_error"; reason: string };

/**
 * SSRF guard. Resolves the webhook's host once, refuses it when any of its addresses is
 * loopback, private, link-local, CGNAT, unique-local or another non-public range (including
 * IPv4-mapped, NAT64 and 6to4 forms), and returns the checked address so the request connects
 * to exactly that address: no second lookup that DNS rebinding could answer differently.
 * IP-literal encodings (decimal, hex, octal) are normalised by the URL parser before the check.
 */
export async function resolveDestination(raw: string, opts: { allowLocalHttp: boolean; resolve: Resolver }): Promise<Destination> {
  const checked = checkDestinationUrl(raw, { allowLocalHttp: opts.allowLocalHttp });
  if (!checked.ok) return { ok: false, error: "blocked_url", reason: checked.reason };
  const url = checked.url;
  const host = url.hostname.replace(/^\[|\]$/g, "");
  // The emulator's local receivers: plain http to loopback, allowed only there.
  if (url.protocol === "http:") return { ok: true, url, address: host === "localhost" ? "127.0.0.1" : host };

  let addresses: string[];
  if (isIP(host)) {
    addresses = [host];
  } else {
    try {
      addresses = await opts.resolve(host);
    } catch (err) {
      return { ok: false, error: "dns_error", reason: `cannot resolve ${host}: ${(err as NodeJS.ErrnoException).code ?? "error"}` };
    }
  }
  if (addresses.length === 0) return { ok: false, error: "dns_error", reason: `${host} has no addresses` };
  for (const address of addresses) {
    const why = blockedAddressReason(address);
    if (why) return { ok: false, error: "blocked_url", reason: `${host} resolves to ${address} (${why})` };
  }
  return { ok: true, url, address: addresses[0] as string };
}
