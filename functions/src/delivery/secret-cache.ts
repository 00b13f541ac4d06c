import type { SecretDoc } from "../data/webhook-docs";
import { setBounded } from "../domain/bounded-map";

/**
 * Signing secrets kept per instance, so a warm instance signs without reading the secret doc.
 * An entry serves only the `secretVersion` it was read at: every change of the secret doc
 * (rotation, new headers, URL, routing key) raises the version on the webhook doc, which each
 * attempt has fresh (read, or carried from the fan-out within the snapshot bound), so a changed
 * secret is never signed with from cache. Entries also expire after `ttlMs`, a backstop for a
 * secret doc edited by hand. Rotated-out secrets are filtered by their expiry at signing time.
 */
export class SecretCache {
  private readonly entries = new Map<string, { version: number; doc: SecretDoc; loadedAtMs: number }>();

  constructor(
    private readonly maxEntries = 5_000,
    private readonly ttlMs = 10 * 60_000,
  ) {}

  async get(key: string, version: number, nowMs: number, load: () => Promise<SecretDoc | null>): Promise<SecretDoc | null> {
    const hit = this.entries.get(key);
    if (hit && hit.version === version && nowMs - hit.loadedAtMs < this.ttlMs) return hit.doc;
    const doc = await load();
    if (!doc) {
      this.entries.delete(key);
      return null;
    }
    setBounded(this.entries, key, { version, doc, loadedAtMs: nowMs }, this.maxEntries);
    return doc;
  }

  clear(): void {
    this.entries.clear();
  }
}

/** Webhooks this instance saw answer too late for the fast lane, until when (ms). */
export class SlowMemory {
  private readonly until = new Map<string, number>();
  constructor(private readonly maxEntries = 5_000) {}
  mark(key: string, untilMs: number): void {
    setBounded(this.until, key, untilMs, this.maxEntries);
  }
  slowUntil(key: string): number | null {
    return this.until.get(key) ?? null;
  }
}
