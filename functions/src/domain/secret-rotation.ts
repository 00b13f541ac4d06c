/** How long a rotated-out secret keeps signing, by default: receivers get a day to switch. */
export const DEFAULT_ROTATION_OVERLAP_SECONDS = 24 * 3600;

export interface SecretSet {
  current: string;
  previous: { secret: string; expiresAtMs: number }[];
}

/**
 * Rotated-out secrets that keep signing during their overlap, at most: a receiver checks
 * every signature it gets, and headers have a size limit (300 rotations once made 301).
 */
export const MAX_PREVIOUS_SECRETS = 2;

/** Secrets that sign at `nowMs`, newest first: the current one and at most two previous ones. */
export function activeSecrets(set: SecretSet, nowMs: number): string[] {
  const older = set.previous
    .filter((p) => p.expiresAtMs > nowMs)
    .sort((a, b) => b.expiresAtMs - a.expiresAtMs)
    .slice(0, MAX_PREVIOUS_SECRETS)
    .map((p) => p.secret);
  return [set.current, ...older];
}

export function hasExpiredSecrets(set: SecretSet, nowMs: number): boolean {
  return set.previous.some((p) => p.expiresAtMs <= nowMs);
}

/** The same set without rotated-out secrets whose overlap has ended. */
export function withoutExpired(set: SecretSet, nowMs: number): SecretSet {
  return { current: set.current, previous: set.previous.filter((p) => p.expiresAtMs > nowMs) };
}

/**
 * The secret set after a rotation: the new secret signs from now on and the old one keeps
 * signing alongside it for `overlapSeconds` (0: it stops at once). Expired secrets are purged,
 * and at most MAX_PREVIOUS_SECRETS previous ones are kept.
 */
export function rotateSecrets(set: SecretSet, newSecret: string, nowMs: number, overlapSeconds: number): SecretSet {
  if (overlapSeconds <= 0) return { current: newSecret, previous: [] };
  // The newest previous secrets stay; older ones stop signing at once.
  const kept = withoutExpired(set, nowMs)
    .previous.sort((a, b) => b.expiresAtMs - a.expiresAtMs)
    .slice(0, MAX_PREVIOUS_SECRETS - 1);
  return {
    current: newSecret,
    previous: [{ secret: set.current, expiresAtMs: nowMs + overlapSeconds * 1000 }, ...kept],
  };
}
