import { REGION } from "../../functions/src/seam";
import { CliError } from "./output";

export interface ApiTarget {
  api?: string | undefined;
  key?: string | undefined;
  /** The demo's key, from the running suite's file. */
  suiteKey?: string | undefined;
}

/**
 * The REST API base URL: `--api`, else OWLETTE_API_URL, else the running emulator suite
 * (FUNCTIONS_EMULATOR_ORIGIN and GCLOUD_PROJECT, as `scripts/emulators.mjs` sets them).
 */
export function apiBase(target: ApiTarget): string {
  const explicit = target.api ?? process.env.OWLETTE_API_URL;
  if (explicit) return explicit.replace(/\/+$/, "");
  const origin = process.env.FUNCTIONS_EMULATOR_ORIGIN;
  const project = process.env.GCLOUD_PROJECT;
  if (origin && project) return `${origin}/${project}/${REGION}/api`;
  throw new CliError(
    "no API URL: start the emulator suite (npm start or npm run emulators), or pass --api https://<region>-<project>.cloudfunctions.net/api, or set OWLETTE_API_URL",
  );
}

export function client(target: ApiTarget) {
  const base = apiBase(target);
  const key = target.key ?? process.env.OWLETTE_API_KEY ?? target.suiteKey;
  if (!key) throw new CliError("no API key: pass --key owk_... or set OWLETTE_API_KEY (npm start makes one for its demo site, which the CLI uses by itself)");
  return async function request<T = any>(method: string, path: string, body?: unknown): Promise<T> {
    let res: Response;
    try {
      res = await fetch(`${base}${path}`, {
        method,
        headers: { Authorization: `Bearer ${key}`, ...(body !== undefined ? { "Content-Type": "application/json" } : {}) },
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      });
    } catch (err) {
      const cause = (err as { cause?: { code?: string; message?: string; errors?: { code?: string }[] } }).cause;
      throw new CliError(`cannot reach ${base}: ${cause?.code ?? cause?.errors?.[0]?.code ?? cause?.message ?? (err as Error).message}`);
    }
    const text = await res.text();
    let json: any;
    try {
      json = JSON.parse(text);
    } catch {
      throw new CliError(`${method} ${path}: HTTP ${res.status} (not JSON)`);
    }
    if (!res.ok) {
      const problems: string[] = (json?.error?.details ?? []).map((d: { path: string; reason: string }) => (d.path ? `${d.path}: ${d.reason}` : d.reason));
      const what = problems.length > 0 ? problems.join("; ") : (json?.error?.message ?? `HTTP ${res.status}`);
      throw new CliError(`${what} (${res.status}${json?.error?.code ? ` ${json.error.code}` : ""})`);
    }
    return json as T;
  };
}
