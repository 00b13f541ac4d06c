import type { AppOptions } from "firebase-admin/app";

/**
 * Options for initializeApp. Under the Cloud Tasks emulator the SDK still wants a service
 * account to name in each task's OIDC token; without one it asks the cloud metadata server
 * (169.254.169.254), which does not exist locally. Naming an account keeps it off the network.
 */
export function appOptions(env = process.env): AppOptions | undefined {
  if (!env.CLOUD_TASKS_EMULATOR_HOST) return undefined;
  return {
    serviceAccountId: "emulated-service-acct@email.com",
    ...(env.GCLOUD_PROJECT ? { projectId: env.GCLOUD_PROJECT } : {}),
  };
}
