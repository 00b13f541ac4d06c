import { createHmac } from "node:crypto";
import { hmacKey, owletteSignature, SIGNATURE_HEADER } from "./signing";

/**
 * How a webhook's requests are signed, chosen per webhook:
 * - `owlette` (default): `X-Owlette-Signature: <hex>`, HMAC-SHA256 of the body keyed with the
 *   secret string; exactly what the Owlette docs' Node snippet verifies.
 * - `sha256`: `X-Owlette-Signature: sha256=<hex>`, for receivers written for the
 *   GitHub / Hyprwatch / Observer convention.
 * - `standard`: Standard Webhooks: `webhook-id`, `webhook-timestamp`,
 *   `webhook-signature: v1,<base64>` over `id.timestamp.body`, keyed with the base64 bytes after
 *   `whsec_`.
 * - `timestamped`: `Owlette-Signature: t=<unix>,v1=<hex>` over `t.body`, keyed with the secret
 *   string; receivers reject timestamps outside a 5-minute window.
 * - `roost`: the same signature under the header the Owlette host's public API documents,
 *   `Roost-Signature: t=<unix>,v1=<hex>`, for receivers written against it
 *   (request-headers.ts adds its `Roost-Event` and `Roost-Delivery`).
 * - `owlette_v1`: what the Owlette host's dashboard sent, `X-Owlette-Signature: sha256=<hex>`,
 *   exactly one value (its receivers compare the whole header), so the previous secrets'
 *   values travel in `X-Owlette-Signature-Previous` as with `owlette`.
 * The receiver side of every scheme is `receiver/verify.ts`.
 */
import type { SignatureScheme } from "./webhook-vocabulary";
export { SIGNATURE_SCHEMES, type SignatureScheme } from "./webhook-vocabulary";

export const TIMESTAMPED_HEADER = "Owlette-Signature";
export const ROOST_HEADER = "Roost-Signature";
export const PREVIOUS_SIGNATURE_HEADER = "X-Owlette-Signature-Previous";
export const REPLAY_WINDOW_SECONDS = 300;

export interface SigningInput {
  body: string;
  /** The event id, sent as `webhook-id` and signed by the Standard Webhooks scheme. */
  messageId: string;
  timestampSeconds: number;
  /** Valid secrets, newest first: during a rotation overlap, the new one and the old one. */
  secrets: readonly string[];
}

const hmacHex = (secret: string, data: string) => createHmac("sha256", hmacKey(secret)).update(data).digest("hex");

/** `t=<unix>,v1=<hex>[,v1=<hex>...]` over `t.body`: one `v1` per secret, newest first. */
function timestampedValue(input: SigningInput): string {
  const t = input.timestampSeconds;
  return [`t=${t}`, ...input.secrets.map((s) => `v1=${hmacHex(s, `${t}.${input.body}`)}`)].join(",");
}

function standardKey(secret: string): Buffer {
  return Buffer.from(secret.startsWith("whsec_") ? secret.slice(6) : secret, "base64");
}

/**
 * The signature headers for one attempt. Every scheme that allows several signatures carries
 * one per valid secret, so receivers still holding the previous secret keep verifying during a
 * rotation overlap. The `owlette` and `owlette_v1` headers hold exactly one value (the
 * documented snippet and the host's receivers compare the whole header), so they are signed with
 * the newest secret and the previous secrets' values travel in `X-Owlette-Signature-Previous`.
 */
export function signatureHeaders(scheme: SignatureScheme, input: SigningInput): Record<string, string> {
  const [newest, ...older] = input.secrets;
  if (newest === undefined) throw new Error("no signing secret");
  switch (scheme) {
    case "owlette":
      return {
        [SIGNATURE_HEADER]: owletteSignature(newest, input.body),
        ...(older.length > 0 ? { [PREVIOUS_SIGNATURE_HEADER]: older.map((s) => owletteSignature(s, input.body)).join(",") } : {}),
      };
    case "sha256":
      return { [SIGNATURE_HEADER]: input.secrets.map((s) => `sha256=${hmacHex(s, input.body)}`).join(",") };
    case "standard": {
      const signed = `${input.messageId}.${input.timestampSeconds}.${input.body}`;
      return {
        "webhook-id": input.messageId,
        "webhook-timestamp": String(input.timestampSeconds),
        "webhook-signature": input.secrets.map((s) => `v1,${createHmac("sha256", standardKey(s)).update(signed).digest("base64")}`).join(" "),
      };
    }
    case "timestamped":
      return { [TIMESTAMPED_HEADER]: timestampedValue(input) };
    case "roost":
      return { [ROOST_HEADER]: timestampedValue(input) };
    case "owlette_v1":
      return {
        [SIGNATURE_HEADER]: `sha256=${hmacHex(newest, input.body)}`,
        ...(older.length > 0 ? { [PREVIOUS_SIGNATURE_HEADER]: older.map((s) => `sha256=${hmacHex(s, input.body)}`).join(",") } : {}),
      };
  }
}
