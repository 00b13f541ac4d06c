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
 * The receiver side of every scheme is `receiver/verify.ts`.
 */
import type { SignatureScheme } from "./webhook-vocabulary";
export { SIGNATURE_SCHEMES, type SignatureScheme } from "./webhook-vocabulary";

export const TIMESTAMPED_HEADER = "Owlette-Signature";
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

function standardKey(secret: string): Buffer {
  return Buffer.from(secret.startsWith("whsec_") ? secret.slice(6) : secret, "base64");
}

/**
 * The signature headers for one attempt. Every scheme that allows several signatures carries
 * one per valid secret, so receivers still holding the previous secret keep verifying during a
 * rotation overlap. The Owlette header holds exactly one hex digest (the documented snippet
 * compares the whole value), so it is signed with the newest secret and the previous secrets'
 * digests travel in `X-Owlette-Signature-Previous`.
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
    case "timestamped": {
      const t = input.timestampSeconds;
      const v1 = input.secrets.map((s) => `v1=${hmacHex(s, `${t}.${input.body}`)}`).join(",");
      return { [TIMESTAMPED_HEADER]: `t=${t},${v1}` };
    }
  }
}
