import type { Firestore } from "firebase-admin/firestore";
import { hasExpiredSecrets, withoutExpired } from "../domain/secret-rotation";
import { fromSecretSet, parseOrNull, toSecretSet } from "./parse";
import { paths } from "./paths";
import { secretDocSchema, type SecretDoc } from "./webhook-docs";

/** A webhook's signing secrets. */
export class SecretStore {
  constructor(private readonly db: Firestore) {}

  async loadSecret(ids: { siteId: string; webhookId: string }): Promise<SecretDoc | null> {
    return parseOrNull(secretDocSchema, (await this.db.doc(paths.webhookSecret(ids.siteId, ids.webhookId)).get()).data());
  }

  /** Drops rotated-out secrets whose overlap has ended. */
  async purgeExpiredSecrets(siteId: string, webhookId: string, now = new Date()): Promise<void> {
    const ref = this.db.doc(paths.webhookSecret(siteId, webhookId));
    await this.db.runTransaction(async (tx) => {
      const doc = parseOrNull(secretDocSchema, (await tx.get(ref)).data());
      const set = doc && toSecretSet(doc);
      if (!set || !hasExpiredSecrets(set, now.getTime())) return;
      tx.update(ref, { previous: fromSecretSet(withoutExpired(set, now.getTime())).previous });
    });
  }
}
