import { HttpsError, onCall, onRequest, type CallableRequest } from "firebase-functions/v2/https";
import { SIZING } from "../sizing";
import { principalFromApiKey, principalFromAuth } from "../api/principals";
import { ApiError, API_ERRORS } from "../api/errors";
import { handleRest } from "../api/rest";
import type { OperationName } from "../api/service";
import { managementDeps } from "../wiring";
import { getAuth } from "firebase-admin/auth";

/** `/v1/...`, authenticated by API key. The routing and error mapping live in `api/rest.ts`. */
export const api = onRequest({ timeoutSeconds: 60, cors: false, ...SIZING.management }, async (req, res) => {
  const { service, manage, deps } = managementDeps();
  const response = await handleRest(
    { method: req.method, path: req.path, headers: req.headers, query: req.query as Record<string, unknown>, rawBody: req.rawBody },
    { service, log: deps.log, authenticate: (authorization) => principalFromApiKey(authorization, manage, deps.now()) },
  );
  res.status(response.status).set(response.headers).send(JSON.stringify(response.body));
});

/**
 * One callable per operation for the dashboard, authenticated by the Firebase Auth ID token the
 * client SDK attaches. Refusals become HttpsErrors with the API's own code in `details`.
 */
function callable(op: OperationName) {
  return onCall({ timeoutSeconds: 60, ...SIZING.management }, async (request: CallableRequest<unknown>) => {
    const { service, manage, deps } = managementDeps();
    try {
      await verifiedOnEmulator(request);
      const principal = await principalFromAuth(request.auth, manage);
      return await service.run(op, principal, request.data);
    } catch (err) {
      if (err instanceof ApiError) {
        throw new HttpsError(API_ERRORS[err.code].callable, err.message, {
          code: err.code,
          details: err.details,
          ...(err.retryAfterSeconds !== undefined ? { retryAfterSeconds: err.retryAfterSeconds } : {}),
        });
      }
      deps.log.error("api.internal_error", { op, error: String((err as Error)?.message ?? err) });
      throw new HttpsError("internal", "internal error; try again");
    }
  });
}

/**
 * Deployed, firebase-functions verifies the caller's ID token before the handler runs. The
 * functions emulator skips that (it decodes any token), so on the suite the token is verified
 * here, against the Auth emulator: it must be one it issued, for a user it knows, not revoked.
 */
async function verifiedOnEmulator(request: CallableRequest<unknown>): Promise<void> {
  if (process.env.FUNCTIONS_EMULATOR !== "true" || !process.env.FIREBASE_AUTH_EMULATOR_HOST || !request.auth) return;
  const token = /^Bearer (.+)$/.exec(request.rawRequest.headers.authorization ?? "")?.[1] ?? "";
  try {
    await getAuth().verifyIdToken(token, true);
  } catch {
    throw new ApiError("unauthenticated", "the ID token is not valid, has expired or was revoked");
  }
}

export const listWebhooks = callable("webhooks.list");
export const getWebhook = callable("webhooks.get");
export const createWebhook = callable("webhooks.create");
export const updateWebhook = callable("webhooks.update");
export const deleteWebhook = callable("webhooks.delete");
export const pauseWebhook = callable("webhooks.pause");
export const resumeWebhook = callable("webhooks.resume");
export const enableWebhook = callable("webhooks.enable");
export const disableWebhook = callable("webhooks.disable");
export const rotateWebhookSecret = callable("webhooks.rotateSecret");
export const testWebhook = callable("webhooks.test");
export const probeWebhook = callable("webhooks.probe");
export const listDeliveries = callable("deliveries.list");
export const retryDelivery = callable("deliveries.retry");
export const recoverWebhook = callable("webhooks.recover");
export const getRecovery = callable("recoveries.get");
export const createApiKey = callable("apiKeys.create");
export const listApiKeys = callable("apiKeys.list");
export const revokeApiKey = callable("apiKeys.revoke");
