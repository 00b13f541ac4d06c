import { SUBSCRIBABLE_EVENT_TYPES } from "../domain/event-catalog";
import type { Log } from "../log";
import type { Principal } from "./access";
import { ApiError } from "./errors";
import type { OperationName, Service } from "./service";

type Method = "GET" | "POST" | "PATCH" | "DELETE";

interface Route {
  method: Method;
  pattern: string;
  op: OperationName | "eventTypes";
  status?: number;
}

/** The REST surface, `/v1/...`: the site is the API key's, so no path names it. */
export const ROUTES: readonly Route[] = [
  { method: "GET", pattern: "/v1/event-types", op: "eventTypes" },
  { method: "GET", pattern: "/v1/webhooks", op: "webhooks.list" },
  { method: "POST", pattern: "/v1/webhooks", op: "webhooks.create", status: 201 },
  { method: "POST", pattern: "/v1/webhooks/probe", op: "webhooks.probe" },
  { method: "GET", pattern: "/v1/webhooks/:webhookId", op: "webhooks.get" },
  { method: "PATCH", pattern: "/v1/webhooks/:webhookId", op: "webhooks.update" },
  { method: "DELETE", pattern: "/v1/webhooks/:webhookId", op: "webhooks.delete" },
  { method: "POST", pattern: "/v1/webhooks/:webhookId/pause", op: "webhooks.pause" },
  { method: "POST", pattern: "/v1/webhooks/:webhookId/resume", op: "webhooks.resume" },
  { method: "POST", pattern: "/v1/webhooks/:webhookId/enable", op: "webhooks.enable" },
  { method: "POST", pattern: "/v1/webhooks/:webhookId/disable", op: "webhooks.disable" },
  { method: "POST", pattern: "/v1/webhooks/:webhookId/test", op: "webhooks.test" },
  { method: "POST", pattern: "/v1/webhooks/:webhookId/rotate-secret", op: "webhooks.rotateSecret" },
  { method: "GET", pattern: "/v1/webhooks/:webhookId/deliveries", op: "deliveries.list" },
  { method: "POST", pattern: "/v1/webhooks/:webhookId/deliveries/:deliveryId/retry", op: "deliveries.retry" },
  { method: "POST", pattern: "/v1/webhooks/:webhookId/recover", op: "webhooks.recover", status: 202 },
  { method: "GET", pattern: "/v1/webhooks/:webhookId/recoveries/:recoveryId", op: "recoveries.get" },
];

export type RouteMatch =
  { kind: "match"; route: Route; params: Record<string, string> } | { kind: "method_not_allowed"; allow: Method[] } | { kind: "not_found" };

export function matchRoute(method: string, path: string): RouteMatch {
  const parts = path.replace(/\/+$/, "").split("/");
  const allow: Method[] = [];
  for (const route of ROUTES) {
    const want = route.pattern.split("/");
    if (want.length !== parts.length) continue;
    const params: Record<string, string> = {};
    const same = want.every((seg, i) => {
      const got = parts[i] as string;
      if (!seg.startsWith(":")) return seg === got;
      try {
        params[seg.slice(1)] = decodeURIComponent(got);
      } catch {
        return false;
      }
      return got.length > 0;
    });
    if (!same) continue;
    if (route.method === method) return { kind: "match", route, params };
    allow.push(route.method);
  }
  return allow.length > 0 ? { kind: "method_not_allowed", allow } : { kind: "not_found" };
}

export interface HttpRequest {
  method: string;
  path: string;
  headers: Record<string, string | string[] | undefined>;
  query: Record<string, unknown>;
  rawBody: Buffer | undefined;
}

export interface HttpResponse {
  status: number;
  headers: Record<string, string>;
  body: unknown;
}

/** Bodies are small JSON objects; anything bigger is refused before parsing. */
export const MAX_BODY_BYTES = 64 * 1024;

function header(req: HttpRequest, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** The request body as an object: absent is `{}`, anything but a JSON object is a 400 or 415. */
export function parseBody(req: HttpRequest): Record<string, unknown> {
  const raw = req.rawBody;
  if (!raw || raw.length === 0) return {};
  if (raw.length > MAX_BODY_BYTES) throw new ApiError("invalid_json", `request body is larger than ${MAX_BODY_BYTES} bytes`);
  const type = (header(req, "content-type") ?? "").split(";")[0]?.trim().toLowerCase();
  if (type !== "application/json") throw new ApiError("unsupported_media_type", "send the body as JSON with `Content-Type: application/json`");
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw.toString("utf8"));
  } catch (err) {
    throw new ApiError("invalid_json", `body is not valid JSON: ${(err as Error).message}`);
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    throw new ApiError("invalid_json", "body must be a JSON object");
  }
  return parsed as Record<string, unknown>;
}

/** Query strings carry single values; a repeated parameter is a mistake, not a list. */
function queryInput(query: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(query)) {
    if (typeof v !== "string") throw new ApiError("invalid_argument", `query parameter ${k} must appear once`, [{ path: k, reason: "must appear once" }]);
    out[k] = v;
  }
  return out;
}

/**
 * The REST adapter: route, authenticate, assemble the operation's input from query, body and
 * path, run it, and turn every refusal into `{ "error": { code, message, details } }`.
 */
export async function handleRest(
  req: HttpRequest,
  ctx: { service: Service; authenticate: (authorization: string | undefined) => Promise<Principal>; log: Log },
): Promise<HttpResponse> {
  const json = { "Content-Type": "application/json; charset=utf-8", "Cache-Control": "no-store" };
  try {
    const matched = matchRoute(req.method, req.path);
    if (matched.kind === "not_found") throw new ApiError("not_found", `no such endpoint: ${req.method} ${req.path}`);
    if (matched.kind === "method_not_allowed") {
      const err = new ApiError("method_not_allowed", `${req.method} is not allowed here; use ${matched.allow.join(", ")}`);
      return { status: err.httpStatus, headers: { ...json, Allow: matched.allow.join(", ") }, body: err.toBody() };
    }
    const principal = await ctx.authenticate(header(req, "authorization"));
    if (principal.kind !== "api_key") throw new ApiError("unauthenticated", "the REST API takes API keys");
    const { route, params } = matched;
    if (route.op === "eventTypes") {
      return { status: 200, headers: json, body: { data: SUBSCRIBABLE_EVENT_TYPES } };
    }
    const input = {
      ...(req.method === "GET" || req.method === "DELETE" ? queryInput(req.query) : parseBody(req)),
      ...params,
      siteId: principal.siteId,
    };
    const body = await ctx.service.run(route.op, principal, input);
    return { status: route.status ?? 200, headers: json, body };
  } catch (err) {
    if (err instanceof ApiError) {
      const extra: Record<string, string> = {
        ...(err.code === "unauthenticated" ? { "WWW-Authenticate": 'Bearer realm="owlette"' } : {}),
        ...(err.retryAfterSeconds !== undefined ? { "Retry-After": String(err.retryAfterSeconds) } : {}),
      };
      return { status: err.httpStatus, headers: { ...json, ...extra }, body: err.toBody() };
    }
    ctx.log.error("api.internal_error", { method: req.method, path: req.path, error: String((err as Error)?.message ?? err) });
    return { status: 500, headers: json, body: new ApiError("internal", "internal error; try again").toBody() };
  }
}
