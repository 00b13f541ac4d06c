import { agentAlertSchema, readAgentAlert } from "../domain/agent-alert";
import type { Log } from "../log";
import { ingest, type IngestDeps, type IngestOutcome } from "../pipeline/ingest";
import { ApiError, fromZodIssues, invalid } from "./errors";
import { parseBody, type HttpRequest, type HttpResponse } from "./rest";

/** The claims Owlette mints for agents (custom token -> Firebase ID token), snake_case as deployed. */
export interface AgentClaims {
  uid: string;
  role?: unknown;
  site_id?: unknown;
  machine_id?: unknown;
}

export interface AgentAlertDeps extends IngestDeps {
  /** Verifies a Firebase ID token (signature, expiry, project) and returns its claims; throws if it is not valid. */
  verifyIdToken: (token: string) => Promise<AgentClaims>;
}

export const ALERT_PATH = "/agent/alert";

export interface AlertAccepted {
  success: true;
  /** What became of the alert: an event (or one already sent for the same occurrence), suppressed by a limit, or no event for this kind of alert. */
  outcome: IngestOutcome["outcome"] | "ignored";
  eventId?: string | null;
  reason?: string;
}

function bearer(req: HttpRequest): string {
  const raw = req.headers.authorization;
  const value = Array.isArray(raw) ? raw[0] : raw;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(value ?? "");
  if (!match?.[1]) throw new ApiError("unauthenticated", "send the agent's Firebase ID token as `Authorization: Bearer <token>`");
  return match[1];
}

/**
 * `POST {api_base}/agent/alert`, compatible with the deployed Owlette endpoint, so an unchanged
 * agent only needs its `api_base` pointed here. The token must be an agent's (role "agent") for
 * the site and machine the body names. A connection failure (no eventType) and process events
 * become events through the same path as Firestore reports, so a crash reported by its log doc
 * and by this alert is delivered once. Every answer is JSON; a suppressed or ignored alert is a
 * 200 (the agent resends anything else).
 */
export async function handleAgentRequest(req: HttpRequest, deps: AgentAlertDeps): Promise<HttpResponse> {
  const json = { "Content-Type": "application/json; charset=utf-8", "Cache-Control": "no-store" };
  try {
    const path = req.path.replace(/\/+$/, "");
    if (path !== ALERT_PATH) throw new ApiError("not_found", `no such endpoint: ${req.method} ${req.path}; agents POST ${ALERT_PATH}`);
    if (req.method !== "POST") {
      const err = new ApiError("method_not_allowed", `${req.method} is not allowed here; use POST`);
      return { status: err.httpStatus, headers: { ...json, Allow: "POST" }, body: err.toBody() };
    }
    const token = bearer(req);
    let claims: AgentClaims;
    try {
      claims = await deps.verifyIdToken(token);
    } catch {
      throw new ApiError("unauthenticated", "the ID token is not valid or has expired");
    }
    if (claims.role !== "agent") throw new ApiError("permission_denied", 'an agent token (role "agent") is required');
    const parsed = agentAlertSchema.safeParse(parseBody(req));
    if (!parsed.success) throw fromZodIssues(parsed.error.issues);
    const alert = parsed.data;
    if (claims.site_id !== alert.siteId)
      throw new ApiError("permission_denied", "siteId does not match the token's site_id", [{ path: "siteId", reason: "not the token's site" }]);
    if (claims.machine_id !== alert.machineId) {
      throw new ApiError("permission_denied", "machineId does not match the token's machine_id", [{ path: "machineId", reason: "not the token's machine" }]);
    }
    const reading = readAgentAlert(alert);
    if (reading.kind === "invalid") throw invalid([{ path: reading.path, reason: reading.reason }]);
    if (reading.kind === "ignored") return ok({ success: true, outcome: "ignored", reason: reading.reason });
    const [result] = await ingest({ siteId: alert.siteId, channel: "alert", reportId: null, at: deps.now() }, [reading.event], deps);
    deps.log.info("agent.alert", { siteId: alert.siteId, machineId: alert.machineId, type: reading.event.type, outcome: result?.outcome });
    return ok({ success: true, outcome: result?.outcome ?? "ignored", eventId: result?.eventId ?? null });
  } catch (err) {
    if (err instanceof ApiError) {
      const extra: Record<string, string> = err.code === "unauthenticated" ? { "WWW-Authenticate": 'Bearer realm="owlette-agent"' } : {};
      return { status: err.httpStatus, headers: { ...json, ...extra }, body: err.toBody() };
    }
    // Firestore or Cloud Tasks unreachable: the agent keeps the alert and sends it again later.
    logError(deps.log, err);
    return {
      status: 503,
      headers: { ...json, "Retry-After": "30" },
      body: new ApiError("unavailable", "could not record the alert now; send it again later").toBody(),
    };
  }

  function ok(body: AlertAccepted): HttpResponse {
    return { status: 200, headers: json, body };
  }
}

function logError(log: Log, err: unknown) {
  log.error("agent.alert_failed", { error: String((err as Error)?.message ?? err) });
}
