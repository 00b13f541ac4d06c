import { getAuth } from "firebase-admin/auth";
import { SIZING } from "../sizing";
import { onRequest } from "firebase-functions/v2/https";
import { handleAgentRequest, type AgentAlertDeps } from "../api/agent-alert";
import { ingestDeps } from "../wiring";

let deps: AgentAlertDeps | undefined;

/**
 * The agent endpoint, `{api_base}/agent/alert` with `api_base` =
 * `https://<region>-<project>.cloudfunctions.net/agentApi`. Agents' traffic has its own
 * function, apart from the management API. The routing, checks and answers are in api/agent-alert.ts.
 */
export const agentApi = onRequest({ timeoutSeconds: 30, cors: false, ...SIZING.agentApi }, async (req, res) => {
  deps ??= { ...ingestDeps(), verifyIdToken: (token) => getAuth().verifyIdToken(token) };
  const response = await handleAgentRequest(
    { method: req.method, path: req.path, headers: req.headers, query: req.query as Record<string, unknown>, rawBody: req.rawBody },
    deps,
  );
  res.status(response.status).set(response.headers).send(JSON.stringify(response.body));
});
