import { getApps, initializeApp } from "firebase-admin/app";
import { getAuth } from "firebase-admin/auth";
import { appOptions, REGION } from "../../functions/src/seam";
import { agentUid, OwletteAgent } from "./owlette-agent";

/**
 * Signs an agent in the way Owlette's token exchange does: a custom token with the claims
 * `role: "agent"`, `site_id`, `machine_id`, `version`, exchanged at the Auth emulator for a
 * Firebase ID token (`accounts:signInWithCustomToken`). The token is refreshed before it expires.
 */
export async function signInAgent(siteId: string, machineId: string): Promise<() => Promise<string>> {
  let cached: { token: string; expiresAt: number } | undefined;
  return async () => {
    if (cached && cached.expiresAt - Date.now() > 300_000) return cached.token;
    const { idToken, expiresInSeconds } = await signInWithClaims(agentUid(siteId, machineId), {
      role: "agent",
      site_id: siteId,
      machine_id: machineId,
      version: "2.12.4",
    });
    cached = { token: idToken, expiresAt: Date.now() + expiresInSeconds * 1000 };
    return cached.token;
  };
}

/**
 * A Firebase ID token from the suite's Auth emulator: a custom token for `uid` carrying `claims`,
 * exchanged at `accounts:signInWithCustomToken` as the client SDKs (and Owlette's agents) do.
 */
export async function signInWithClaims(uid: string, claims: Record<string, unknown> = {}): Promise<{ idToken: string; expiresInSeconds: number }> {
  const authHost = process.env.FIREBASE_AUTH_EMULATOR_HOST;
  if (!authHost) throw new Error("FIREBASE_AUTH_EMULATOR_HOST is not set: run inside the emulator suite");
  if (getApps().length === 0) initializeApp(appOptions());
  const custom = await getAuth().createCustomToken(uid, claims);
  const res = await fetch(`http://${authHost}/identitytoolkit.googleapis.com/v1/accounts:signInWithCustomToken?key=emulator`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ token: custom, returnSecureToken: true }),
  });
  const body = (await res.json()) as { idToken?: string; expiresIn?: string; error?: { message?: string } };
  if (!res.ok || !body.idToken) throw new Error(`sign-in failed: ${body.error?.message ?? res.status}`);
  return { idToken: body.idToken, expiresInSeconds: Number(body.expiresIn ?? 3600) };
}

/** `{api_base}` of the suite's agent endpoint: what an agent's config would point at. */
export function suiteApiBase(): string {
  const origin = process.env.FUNCTIONS_EMULATOR_ORIGIN;
  if (!origin) throw new Error("FUNCTIONS_EMULATOR_ORIGIN is not set: run inside the emulator suite");
  return `${origin}/${process.env.GCLOUD_PROJECT}/${REGION}/agentApi`;
}

/** A deployed-shape agent signed in against the running suite. */
export async function suiteAgent(siteId: string, machineId: string): Promise<OwletteAgent> {
  const firestoreHost = process.env.FIRESTORE_EMULATOR_HOST;
  const projectId = process.env.GCLOUD_PROJECT;
  if (!firestoreHost || !projectId) throw new Error("FIRESTORE_EMULATOR_HOST / GCLOUD_PROJECT are not set: run inside the emulator suite");
  return new OwletteAgent({ projectId, siteId, machineId, firestoreHost, apiBase: suiteApiBase(), token: await signInAgent(siteId, machineId) });
}
