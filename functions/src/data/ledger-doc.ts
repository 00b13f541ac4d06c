import { FieldValue, Timestamp, type DocumentData } from "firebase-admin/firestore";
import { emptyLedger, type FlapMark, type Ledger, type LedgerAnswer } from "../domain/emission-ledger";

/**
 * The ledger doc (`sites/{siteId}/emissionLimits/ledger`, domain/emission-ledger.ts).
 *
 * - `window`, `counts`: the admissions of the current hour, `counts` a JSON string (one field
 *   however many keys: no index entry per key, never near a document's 20,000-field limit),
 *   written only by a decision that lets an event out, conditioned on the doc being as it read it.
 * - `held`: a map, per subject's hashed key `{n, atMs}`: held-back counts, incremented atomically
 *   by refusals without reading or conditioning anything (a refusal is certain: a limit full in
 *   its window stays full), removed by the event that says them.
 * - `overflow`: held back beyond the distinct subjects `held` keeps.
 * - `flapping`: a map, per flapping subject's hashed key `{sinceMs, machine}`, written by an
 *   episode's start and end (data/flap-store.ts) in a transaction; decisions only read it.
 */
export function readLedger(data: DocumentData | undefined): Ledger | null {
  if (!data) return null;
  const counts = parseCounts(data.counts);
  const held = typeof data.held === "object" && data.held !== null ? (data.held as Record<string, unknown>) : {};
  const pending = Object.fromEntries(
    Object.entries(held).flatMap(([k, v]) => {
      const n = (v as { n?: unknown } | null)?.n;
      const atMs = (v as { atMs?: unknown } | null)?.atMs;
      return typeof n === "number" && n > 0 && typeof atMs === "number" ? [[k, { n, atMs }]] : [];
    }),
  );
  const window = typeof data.window === "number" ? data.window : -1;
  const overflow = typeof data.overflow === "number" ? data.overflow : 0;
  return { ...emptyLedger(window), counts: window >= 0 ? counts : {}, pending, overflow, flapping: readFlapping(data.flapping) };
}

/** `flapping`: a map, per subject's hashed key `{sinceMs, machine}` (domain/flapping.ts); anything else is left out. */
function readFlapping(raw: unknown): Record<string, FlapMark> {
  if (typeof raw !== "object" || raw === null) return {};
  return Object.fromEntries(
    Object.entries(raw as Record<string, unknown>).flatMap(([k, v]) => {
      const sinceMs = (v as { sinceMs?: unknown } | null)?.sinceMs;
      const machine = (v as { machine?: unknown } | null)?.machine;
      return typeof sinceMs === "number" && typeof machine === "string" ? [[k, { sinceMs, machine }]] : [];
    }),
  );
}

/** The fields a decision that lets an event out writes: the new counts, and the held-back counts it said (or that expired) removed. */
export function admissionFields(stored: Ledger | null, next: Ledger): Record<string, unknown> {
  const removed = Object.keys(stored?.pending ?? {}).filter((k) => !(k in next.pending));
  return {
    window: next.window,
    counts: JSON.stringify(next.counts),
    updatedAt: Timestamp.now(),
    ...Object.fromEntries(removed.map((k) => [`held.${k}`, FieldValue.delete()])),
  };
}

/**
 * What a refusal writes (merged, conditioned on nothing): one more held back under its subject,
 * or in `overflow`. A count dropped unsaid after 30 days starts again at 1.
 */
export function refusalFields(stored: Ledger | null, answer: Pick<LedgerAnswer, "heldUnder" | "next">): Record<string, unknown> {
  if (answer.next.overflow > (stored?.overflow ?? 0)) return { overflow: FieldValue.increment(1) };
  const k = answer.heldUnder;
  const held = k ? answer.next.pending[k] : undefined;
  if (!k || !held) return {};
  const restarted = (stored?.pending[k]?.n ?? 0) >= held.n;
  return { held: { [k]: { n: restarted ? 1 : FieldValue.increment(1), atMs: held.atMs } } };
}

/**
 * The same refusal as an update of the ledger as read (field paths, so other subjects' counts
 * stay): for a decider that is not the claimant, whose refusal must fail if an admission moved
 * the ledger since its read. With nothing to count, it writes the hour again: the condition is
 * the point.
 */
export function refusalUpdate(stored: Ledger | null, answer: Pick<LedgerAnswer, "heldUnder" | "next">): Record<string, unknown> {
  const fields = refusalFields(stored, answer);
  const held = fields.held as Record<string, Record<string, unknown>> | undefined;
  if (held) return Object.fromEntries(Object.entries(held).flatMap(([k, v]) => Object.entries(v).map(([f, x]) => [`held.${k}.${f}`, x])));
  return Object.keys(fields).length > 0 ? fields : { window: answer.next.window };
}

function parseCounts(raw: unknown): Record<string, number> {
  if (typeof raw !== "string") return {};
  try {
    const parsed: unknown = JSON.parse(raw);
    if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) return {};
    return Object.fromEntries(Object.entries(parsed).filter((e): e is [string, number] => typeof e[1] === "number" && Number.isFinite(e[1]) && e[1] >= 0));
  } catch {
    return {};
  }
}
