import { generateApiKey } from "./api-keys";
import { ApiError } from "./errors";
import { parseInput } from "./inputs";
import { userOnly, type Handler, type ServiceContext } from "./service-context";
import { apiKeyView } from "./views";

/** API keys a site may have at once (revoked ones do not count). */
export const MAX_API_KEYS_PER_SITE = 25;

/** API keys, made, listed and revoked by dashboard users only. */
export function apiKeyOperations({ deps, manage, schemas, access, hasAdmin }: ServiceContext) {
  return {
    "apiKeys.create": async (principal, raw) => {
      const user = userOnly(principal);
      const input = parseInput(schemas.createApiKey, raw);
      await access(principal, input.siteId, input.access === "write" ? "admin" : "read", "keys");
      const live = (await manage.listApiKeys(input.siteId)).filter((k) => !k.data.revokedAt).length;
      if (live >= MAX_API_KEYS_PER_SITE) {
        throw new ApiError("quota_exceeded", `site ${input.siteId} has ${live} API keys, the most it may have; revoke one first`);
      }
      const keyId = manage.newApiKeyId();
      const { key, hash, prefix } = generateApiKey(keyId);
      const now = deps.now();
      const data = await manage.createApiKey(keyId, { siteId: input.siteId, uid: user.uid, name: input.name, access: input.access, hash, prefix }, now);
      deps.log.info("api_key.created", { siteId: input.siteId, keyId, access: input.access, by: user.uid });
      const view = apiKeyView({ id: keyId, data });
      // The only response that ever carries the key.
      return { apiKey: view, key };
    },

    "apiKeys.list": async (principal, raw) => {
      const user = userOnly(principal);
      const input = parseInput(schemas.site, raw);
      const isAdmin = await hasAdmin(principal, input.siteId);
      const docs = await manage.listApiKeys(input.siteId, isAdmin ? undefined : user.uid);
      return { data: docs.map(apiKeyView) };
    },

    "apiKeys.revoke": async (principal, raw) => {
      const user = userOnly(principal);
      const input = parseInput(schemas.apiKey, raw);
      const isAdmin = await hasAdmin(principal, input.siteId, "keys");
      const key = await manage.loadApiKey(input.keyId);
      if (!key || key.siteId !== input.siteId || (!isAdmin && key.uid !== user.uid)) {
        throw new ApiError("not_found", `API key ${input.keyId} not found`);
      }
      if (!key.revokedAt) await manage.revokeApiKey(input.keyId, deps.now());
      deps.log.info("api_key.revoked", { siteId: input.siteId, keyId: input.keyId, by: user.uid });
      return { id: input.keyId, revoked: true };
    },
  } satisfies Record<string, Handler>;
}
