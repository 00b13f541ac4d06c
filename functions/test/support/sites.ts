import { paths } from "../../src/data/paths";
import type { Store } from "../../src/data/store";
import type { Receiver } from "../../../scripts/lib/receiver";
import { call, idToken, rest } from "./api-client";
import { uniqueId } from "./emulator";

export interface Site {
  siteId: string;
  admin: string;
  member: string;
  adminKey: string;
  memberKey: string;
}

/** A site with an admin and a member, each holding an API key made through the dashboard callable. */
export async function newSite(store: Store, fields: Record<string, unknown> = {}): Promise<Site> {
  const siteId = uniqueId("site");
  const admin = `admin-${siteId}`;
  const member = `member-${siteId}`;
  await Promise.all([
    store.db.doc(paths.site(siteId)).set({ name: "API Site", owner: admin, ...fields }),
    store.db.doc(paths.user(admin)).set({ role: "admin", sites: [siteId] }),
    store.db.doc(paths.user(member)).set({ role: "member", sites: [siteId] }),
  ]);
  const adminKey = await call("createApiKey", { siteId, name: "automation", access: "write" }, await idToken(admin));
  const memberKey = await call("createApiKey", { siteId, name: "reporting", access: "read" }, await idToken(member));
  if (adminKey.status !== 200 || memberKey.status !== 200) throw new Error(`API keys not made: ${adminKey.status} ${memberKey.status}`);
  return { siteId, admin, member, adminKey: adminKey.body.result.key, memberKey: memberKey.body.result.key };
}

/** A webhook created through the REST API, pointing at its own path on the receiver. */
export async function createHook(receiver: Receiver, site: Site, body: Record<string, unknown> = {}) {
  const path = `/api/${uniqueId("hook")}`;
  const res = await rest("POST", "/v1/webhooks", {
    key: site.adminKey,
    body: { name: "Ops alerts", url: receiver.url(path), events: ["process.crashed"], ...body },
  });
  if (res.status !== 201) throw new Error(`webhook not created: ${res.status} ${JSON.stringify(res.body)}`);
  receiver.register(path, res.body.secret);
  return { id: res.body.webhook.id as string, secret: res.body.secret as string, path };
}
