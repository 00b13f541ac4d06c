import { createHash } from "node:crypto";
import { firstRefusal, SITE_OFFLINE_KEY, type Decision, type LimitSpec } from "./emission-policy";
import { FLAPPING } from "./flapping";

/**
 * A site's emission ledger: every limit's count in the current one-hour window and every count
 * held back since its subject's last event, in one document, so that deciding an occurrence is
 * one read and one write (limits exact, each held-back count said once; data/emission-store.ts).
 *
 * Keys are stored hashed (20 hex digits, 80 bits: no agent can make its process name collide
 * with another key): process names are the agent's free text, and a ledger at its largest
 * (MAX_LEDGER_KEYS) stays under a document's 1 MiB.
 */
export interface Ledger {
  /** The window the counts are of (`windowOf(at, HOUR_MS)`). */
  window: number;
  /** Admissions per limit key in `window`. Only admitted events count (see decideInLedger). */
  counts: Record<string, number>;
  /** Events held back per subject (or the site's offline bound) since its last event out. */
  pending: Record<string, { n: number; atMs: number }>;
  /** Held-back events beyond MAX_PENDING_KEYS distinct subjects: counted, said in the log only. */
  overflow: number;
  /**
   * Subjects flapping now (domain/flapping.ts), per hashed subject key: when the episode began and
   * its machine's hashed id. Their events are held back until the episode ends.
   */
  flapping: Record<string, FlapMark>;
}

export interface FlapMark {
  sinceMs: number;
  machine: string;
}

/** The most limit keys one window tracks; an event needing more is held back like one over its limit. */
export const MAX_LEDGER_KEYS = 20_000;
/** The most subjects with a held-back count; beyond, counts go to `overflow`. */
export const MAX_PENDING_KEYS = 2_000;
/** A held-back count no event has said in this long is dropped (as the per-subject docs' TTL did). */
export const PENDING_KEPT_MS = 30 * 86_400_000;
/** The pseudo-limit that refuses an event when the ledger is full. */
export const LEDGER_FULL_KEY = "ledger-full";
/** The pseudo-limit that refuses an event of a subject flapping now. */
export const FLAPPING_KEY = "flapping";

export const ledgerKey = (key: string) => createHash("sha256").update(key).digest("hex").slice(0, 20);

export const emptyLedger = (window: number): Ledger => ({ window, counts: {}, pending: {}, overflow: 0, flapping: {} });

export interface LedgerQuestion {
  /** The limits the event must pass, finest first (limitsFor). */
  limits: readonly LimitSpec[];
  /** The window of the occurrence's first report. */
  window: number;
  /** The key its held-back count is kept under (suppressionKey), if any. */
  subjectKey: string | null;
  /** machine.offline: the site-wide key whose count its page reports (`siteSuppressed`). */
  siteKey: string | null;
  atMs: number;
  /** An event that counts toward flapping (domain/flapping.ts): held back while its subject (`subjectKey`) flaps. */
  flaps?: boolean;
}

export interface LedgerAnswer {
  decision: Decision;
  /** The limit that refused it, if one did. */
  refused: LimitSpec | null;
  /** Held back of its subject since the last event out (emitted only). */
  suppressedBefore: number;
  /** machine.offline: the site's pages counted over its bound since its last page (emitted only). */
  siteSuppressed: number;
  /** A refusal: the (hashed) key its held-back count went under, or null when it went to `overflow` or nowhere. */
  heldUnder: string | null;
  next: Ledger;
}

/**
 * The limits asked as `firstRefusal` asks them (finest first, a reserve before its limit), over the
 * ledger's counts. A refused event spends nothing: the limits give the same answers to every
 * later event of the window as if it had (a limit only fills within a window), and the ledger
 * grows only with what went out. An occurrence decided after its window turned counts in the
 * ledger's current one.
 */
export function decideInLedger(stored: Ledger | null, q: LedgerQuestion): LedgerAnswer {
  const base = rolled(stored, q.window, q.atMs);
  const counts = { ...base.counts };
  let refused: LimitSpec | null = null;
  // A flapping subject's events wait for its episode's end, spending nothing.
  if (q.flaps && q.subjectKey && flagHolds(base.flapping[ledgerKey(q.subjectKey)], q.atMs))
    refused = { scope: "subject", key: FLAPPING_KEY, limit: 0, windowMs: 0 };
  refused ??= firstRefusal(q.limits, (limit) => take(counts, limit));
  if (!refused && Object.keys(counts).length > MAX_LEDGER_KEYS) refused = { scope: "site", key: LEDGER_FULL_KEY, limit: 0, windowMs: 0 };
  if (refused) {
    const counted = refused.key === SITE_OFFLINE_KEY;
    const under = counted ? SITE_OFFLINE_KEY : q.subjectKey;
    const next = holdBack(base, under, q.atMs);
    const heldUnder = under && next.overflow === base.overflow ? ledgerKey(under) : null;
    return {
      decision: counted ? "counted" : "suppressed",
      refused,
      suppressedBefore: 0,
      siteSuppressed: 0,
      heldUnder,
      next,
    };
  }
  const pending = { ...base.pending };
  const said = (key: string | null) => {
    if (!key) return 0;
    const n = pending[ledgerKey(key)]?.n ?? 0;
    delete pending[ledgerKey(key)];
    return n;
  };
  const suppressedBefore = said(q.subjectKey);
  const siteSuppressed = said(q.siteKey);
  return {
    decision: "emitted",
    refused: null,
    suppressedBefore,
    siteSuppressed,
    heldUnder: null,
    next: { ...base, counts, pending },
  };
}

/** A flag holds its subject's events back for at most FLAPPING.maxEpisodeMs (a backstop for a flag whose episode is lost). */
export const flagHolds = (mark: FlapMark | undefined, atMs: number): mark is FlapMark => mark !== undefined && atMs - mark.sinceMs < FLAPPING.maxEpisodeMs;

/** Spends one admission of `limit` if it has one left. */
function take(counts: Record<string, number>, limit: LimitSpec): boolean {
  const key = ledgerKey(limit.key);
  const n = counts[key] ?? 0;
  if (n >= limit.limit) return false;
  counts[key] = n + 1;
  return true;
}

function holdBack(base: Ledger, key: string | null, atMs: number): Ledger {
  if (!key) return base;
  const k = ledgerKey(key);
  const known = base.pending[k];
  if (!known && Object.keys(base.pending).length >= MAX_PENDING_KEYS) return { ...base, overflow: base.overflow + 1 };
  return { ...base, pending: { ...base.pending, [k]: { n: (known?.n ?? 0) + 1, atMs } } };
}

/** The ledger as of `window`: counts of an earlier window dropped, held-back counts kept (those older than PENDING_KEPT_MS dropped). */
function rolled(stored: Ledger | null, window: number, atMs: number): Ledger {
  if (!stored) return emptyLedger(window);
  const pending = Object.fromEntries(Object.entries(stored.pending).filter(([, p]) => atMs - p.atMs < PENDING_KEPT_MS));
  if (stored.window >= window) return { ...stored, pending };
  return { window, counts: {}, pending, overflow: stored.overflow, flapping: stored.flapping };
}
