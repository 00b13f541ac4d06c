import { signInWithClaims } from "../../../scripts/lib/agent-auth";
import { unsignedIdToken } from "../../../scripts/lib/owlette-agent";
import { REGION } from "../../src/config";

export interface HttpResult<T = any> {
  status: number;
  headers: Headers;
  body: T;
}

function origin(): string {
  const value = process.env.FUNCTIONS_EMULATOR_ORIGIN;
  if (!value) throw new Error("FUNCTIONS_EMULATOR_ORIGIN is not set: run through `npm run test:emulator`");
  return `${value}/${process.env.GCLOUD_PROJECT}/${REGION}`;
}

async function parse(res: Response): Promise<HttpResult> {
  const text = await res.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // not JSON: keep the text
  }
  return { status: res.status, headers: res.headers, body };
}

/** A call to the REST API as automation would make it. */
export async function rest(
  method: string,
  path: string,
  opts: { key?: string; body?: unknown; rawBody?: string; contentType?: string } = {},
): Promise<HttpResult> {
  const headers: Record<string, string> = {};
  if (opts.key) headers.Authorization = `Bearer ${opts.key}`;
  let body: string | undefined;
  if (opts.rawBody !== undefined) body = opts.rawBody;
  else if (opts.body !== undefined) body = JSON.stringify(opts.body);
  if (body !== undefined) headers["Content-Type"] = opts.contentType ?? "application/json";
  return parse(await fetch(`${origin()}/api${path}`, { method, headers, ...(body !== undefined ? { body } : {}) }));
}

/**
 * A real ID token from the suite's Auth emulator, as the dashboard's client SDK gets one (with
 * `claims`, as Owlette mints agents' `role`, `site_id`). Callables verify it against the Auth emulator.
 */
export async function idToken(uid: string, claims: Record<string, unknown> = {}): Promise<string> {
  return (await signInWithClaims(uid, claims)).idToken;
}

/** A token nobody issued: right project, right shape, unsigned. */
export function forgedIdToken(uid: string, claims: Record<string, unknown> = {}): string {
  return unsignedIdToken(process.env.GCLOUD_PROJECT as string, uid, claims);
}

/** A callable as the dashboard's client SDK calls it. `error.details.code` is the API's code. */
export async function call(
  name: string,
  data: unknown,
  token?: string,
): Promise<HttpResult<{ result?: any; error?: { status: string; message: string; details?: any } }>> {
  const headers: Record<string, string> = { "Content-Type": "application/json" };
  if (token) headers.Authorization = `Bearer ${token}`;
  return parse(await fetch(`${origin()}/${name}`, { method: "POST", headers, body: JSON.stringify({ data }) }));
}
