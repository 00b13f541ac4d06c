import { Timestamp, type Firestore } from "firebase-admin/firestore";
import { reserveStart, type SharePolicy } from "../domain/slow-lane-share";
import { paths } from "./paths";

/** A pacing doc outlives its last reservation by a day, then the TTL policy removes it. */
const KEEP_MS = 86_400_000;

/** The sites' slow-lane pacing: one small server-only doc per site that uses the slow lane. */
export class LaneShareStore {
  constructor(readonly db: Firestore) {}

  /**
   * Reserves the site's next slow-lane start (now, or a later instant its attempt waits for) in
   * one transaction: one read, one write. Concurrent attempts of one site each get their own.
   */
  async reserveSlowStart(siteId: string, now: Date, policy: SharePolicy): Promise<number> {
    const ref = this.db.doc(paths.slowLaneShare(siteId));
    return this.db.runTransaction(async (tx) => {
      const tat = (await tx.get(ref)).get("tatMs");
      const reserved = reserveStart(typeof tat === "number" && Number.isFinite(tat) ? tat : null, now.getTime(), policy);
      tx.set(ref, { tatMs: reserved.tatMs, expireAt: Timestamp.fromMillis(reserved.tatMs + KEEP_MS) });
      return reserved.startMs;
    });
  }
}
