import { Timestamp, type DocumentReference, type DocumentSnapshot } from "firebase-admin/firestore";
import { nameOf, type PresenceStore } from "../data/presence-store";
import type { ReturnWatchStore } from "../data/return-watch-store";
import { isBackFrom, onlineEvent } from "../domain/presence";
import type { Log } from "../log";
import { ingest, type IngestDeps } from "./ingest";

/** Returns answered at most in one pass; more are answered by the next (the oldest heartbeats first). */
const RETURNS_PER_PASS = 300;
const AT_ONCE = 20;

export interface ReturnsDeps extends IngestDeps {
  presence: PresenceStore;
  watch: ReturnWatchStore;
}

export interface ReturnsResult {
  /** Flagged machines read: found back by the query, or silent again with a mark they had beaten. */
  read: number;
  /** machine.online reports made (each one mark answered and cleared). */
  answered: number;
  /** Flags removed from machines that were not marked (a heartbeat won the sweep's race, a flag written by someone else). */
  unflagged: number;
  failed: number;
}

/**
 * The sweep presence mode's answer to returns (domain/presence-mode.ts): flagged machines with a
 * heartbeat newer than the cutoff, and `beaten` (machines the pass found silent again with a mark
 * their heartbeat is newer than: back and gone between two passes). Each one's mark becomes
 * machine.online as the machine trigger would report it, then the mark and the flag go. Safe to
 * run again: the answer's event id follows from the mark.
 */
export async function answerReturns(deps: ReturnsDeps, cutoff: Date, beaten: DocumentReference[] = [], log?: Log): Promise<ReturnsResult> {
  const found: DocumentSnapshot[] = await deps.watch.findReturned(cutoff, RETURNS_PER_PASS);
  const seen = new Set(found.map((d) => d.ref.path));
  const again = beaten.filter((ref) => !seen.has(ref.path));
  if (again.length > 0) found.push(...(await deps.presence.db.getAll(...again)));
  const result: ReturnsResult = { read: found.length, answered: 0, unflagged: 0, failed: 0 };
  for (let i = 0; i < found.length; i += AT_ONCE) {
    const outcomes = await Promise.allSettled(found.slice(i, i + AT_ONCE).map((machine) => answerOne(deps, machine)));
    outcomes.forEach((outcome, j) => {
      if (outcome.status === "fulfilled") {
        if (outcome.value === "answered") result.answered++;
        if (outcome.value === "unflagged") result.unflagged++;
        return;
      }
      result.failed++;
      log?.warn("sweep.return_failed", { doc: found[i + j]!.ref.path, error: String((outcome.reason as Error)?.message ?? outcome.reason).slice(0, 200) });
    });
  }
  return result;
}

/**
 * One machine: its mark answered if its heartbeat is newer, its flag removed once nothing is left
 * to answer. A machine back but reporting itself stopped (`online: false`) is answered when its
 * agent next reports online, as the machine trigger does.
 */
async function answerOne(deps: ReturnsDeps, machine: DocumentSnapshot): Promise<"answered" | "unflagged" | "none"> {
  if (!machine.exists || machine.get("online") !== true) return "none";
  const siteId = machine.ref.parent.parent!.id;
  const machineId = machine.id;
  const heartbeat = machine.get("lastHeartbeat");
  if (!(heartbeat instanceof Timestamp)) return "none";
  const mark = await deps.presence.loadMark(siteId, machineId);
  if (mark && !isBackFrom(mark, heartbeat)) return "none";
  if (mark) {
    const name = nameOf(machine) ?? undefined;
    const reportId = `return:${siteId}/${machineId}@${mark.staleSince.toMillis()}`;
    await ingest({ siteId, channel: "sweep", reportId, at: deps.now() }, [onlineEvent(mark, machineId, name, heartbeat)], deps);
    // Cleared only once machine.online is in: a pass that fails between finds the mark again, and its answer is a duplicate.
    await deps.presence.clearMark(siteId, machineId, mark.staleSince, mark.version);
  }
  // Kept if the doc changed since it was read (a pass flagging it again for a new silence).
  await deps.watch.unflag(machine.ref, machine.updateTime);
  return mark ? "answered" : "unflagged";
}
