import type { Firestore } from "firebase-admin/firestore";
import { ManagementStore, paths } from "../../src/seam";
import type { Receiver } from "../../../scripts/lib/receiver";

/**
 * A site for the presence harnesses: its doc, and `webhooks` webhooks subscribed to
 * machine.offline and machine.online, each answered 200 by a local receiver at
 * `/<prefix>/<siteId>/<n>`. Returns the receivers' paths.
 */
export async function presenceSite(
  db: Firestore,
  receiver: Receiver,
  siteId: string,
  opts: { name: string; prefix: string; webhooks: number },
): Promise<string[]> {
  await db.doc(paths.site(siteId)).set({ name: opts.name, owner: "o" });
  const hookPaths = Array.from({ length: opts.webhooks }, (_, i) => `/${opts.prefix}/${siteId}/${i}`);
  for (const path of hookPaths) {
    const { secret } = await new ManagementStore(db).createWebhook(siteId, {
      name: path,
      url: receiver.url(path),
      events: ["machine.offline", "machine.online"],
      createdBy: "t",
    });
    receiver.register(path, secret, () => 200);
  }
  return hookPaths;
}
