/**
 * What an instance remembers of rarely changing docs (a site's settings, a machine's name) for
 * a short while, so that an event costs no read of them on a warm instance. Bounded: the oldest
 * entry goes first.
 */
export class ReadCache<T> {
  private readonly entries = new Map<string, { value: Promise<T>; atMs: number }>();

  constructor(
    private readonly maxAgeMs: number,
    private readonly maxEntries = 1_000,
  ) {}

  get(key: string, load: () => Promise<T>, nowMs = Date.now()): Promise<T> {
    const known = this.entries.get(key);
    if (known && nowMs - known.atMs < this.maxAgeMs) return known.value;
    const value = load();
    // A failed read is not remembered.
    value.catch(() => {
      if (this.entries.get(key)?.value === value) this.entries.delete(key);
    });
    this.entries.delete(key);
    this.entries.set(key, { value, atMs: nowMs });
    if (this.entries.size > this.maxEntries) this.entries.delete(this.entries.keys().next().value as string);
    return value;
  }
}
