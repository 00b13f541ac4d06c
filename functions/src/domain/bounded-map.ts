/**
 * Sets `key` in a map that keeps at most `max` entries: when full, the oldest insertion goes.
 * The per-instance caches (signing keys, secrets, slow webhooks) stay bounded this way.
 */
export function setBounded<K, V>(map: Map<K, V>, key: K, value: V, max: number): void {
  if (!map.has(key) && map.size >= max) map.delete(map.keys().next().value as K);
  map.set(key, value);
}
