import type { Firestore } from "firebase-admin/firestore";

/**
 * Billable Firestore operations, counted as Firestore bills them: a document read per document
 * returned (a query that returns nothing still costs one read), one read per aggregation, a
 * write per document written or deleted.
 */
export interface OpCounts {
  reads: number;
  writes: number;
}

/** Transactions run, and how often their bodies ran (more than once: retried after contention). */
export interface TxCounts {
  transactions: number;
  bodies: number;
}

const WRITES = new Set(["set", "update", "create", "delete"]);

/**
 * Wraps a Firestore instance so every read and write made through it, directly or inside a
 * transaction, batch or bulk writer, is counted. The bench runs the pipeline's own Store over
 * this wrapper to measure what an event, a heartbeat or a sweep costs.
 */
export function countingFirestore(db: Firestore): { db: Firestore; counts: OpCounts; tx: TxCounts; take: () => OpCounts } {
  const counts: OpCounts = { reads: 0, writes: 0 };
  const tx: TxCounts = { transactions: 0, bodies: 0 };
  // Aggregation snapshots have neither size nor docs: one read.
  const queryReads = (snap: { size?: number; docs?: unknown[] }) => Math.max(1, snap.size ?? snap.docs?.length ?? 1);

  /** Queries and references: counted `get`, chained builders stay wrapped. */
  function wrapReadable<T extends object>(target: T): T {
    return new Proxy(target, {
      get(obj, prop, receiver) {
        const value = Reflect.get(obj, prop, receiver);
        if (typeof value !== "function") return value;
        if (prop === "get") {
          return async (...args: unknown[]) => {
            const result = await value.apply(obj, args);
            counts.reads += "exists" in result ? 1 : queryReads(result);
            return result;
          };
        }
        if (WRITES.has(prop as string)) {
          return async (...args: unknown[]) => {
            const result = await value.apply(obj, args);
            counts.writes++;
            return result;
          };
        }
        if (prop === "listDocuments") {
          // Billed as a read per document listed (one when there is none, like a query).
          return async (...args: unknown[]) => {
            const result = await value.apply(obj, args);
            counts.reads += Math.max(1, result.length);
            return result;
          };
        }
        if (["where", "orderBy", "limit", "select", "startAfter", "count", "collection", "doc"].includes(prop as string)) {
          return (...args: unknown[]) => {
            const original = value.apply(obj, args);
            return remember(wrapReadable(original), original);
          };
        }
        return value.bind(obj);
      },
    });
  }

  /** Transactions, batches, bulk writers: writes counted per document; transaction reads too. */
  function wrapWriter<T extends object>(target: T): T {
    return new Proxy(target, {
      get(obj, prop, receiver) {
        const value = Reflect.get(obj, prop, receiver);
        if (typeof value !== "function") return value;
        if (WRITES.has(prop as string)) {
          return (...args: unknown[]) => {
            counts.writes++;
            const result = value.apply(obj, args.map(unwrap));
            return result === obj ? receiver : result;
          };
        }
        if (prop === "get") {
          return async (ref: object, ...rest: unknown[]) => {
            const result = await value.call(obj, unwrap(ref), ...rest);
            counts.reads += "exists" in result ? 1 : queryReads(result);
            return result;
          };
        }
        if (prop === "getAll") {
          return async (...refs: unknown[]) => {
            const result = await value.apply(obj, refs.map(unwrap));
            counts.reads += result.length;
            return result;
          };
        }
        return value.bind(obj);
      },
    });
  }

  const originals = new WeakMap<object, object>();
  function unwrap(value: unknown): unknown {
    return (typeof value === "object" && value !== null && originals.get(value)) || value;
  }
  const remember = <T extends object>(wrapped: T, original: T) => {
    originals.set(wrapped, original);
    return wrapped;
  };

  const wrapped = new Proxy(db, {
    get(obj, prop, receiver) {
      const value = Reflect.get(obj, prop, receiver);
      if (typeof value !== "function") return value;
      if (prop === "doc" || prop === "collection" || prop === "collectionGroup") {
        return (...args: unknown[]) => {
          const original = value.apply(obj, args);
          return remember(wrapReadable(original), original);
        };
      }
      if (prop === "getAll") {
        return async (...refs: unknown[]) => {
          const result = await value.apply(obj, refs.map(unwrap));
          counts.reads += result.length;
          return result;
        };
      }
      if (prop === "runTransaction") {
        return (fn: (t: object) => Promise<unknown>, ...rest: unknown[]) => {
          tx.transactions++;
          return value.call(
            obj,
            (t: object) => {
              tx.bodies++;
              return fn(wrapWriter(t));
            },
            ...rest,
          );
        };
      }
      if (prop === "batch" || prop === "bulkWriter") {
        return (...args: unknown[]) => wrapWriter(value.apply(obj, args));
      }
      return value.bind(obj);
    },
  });

  return {
    db: wrapped,
    counts,
    tx,
    take: () => {
      const snapshot = { ...counts };
      counts.reads = 0;
      counts.writes = 0;
      return snapshot;
    },
  };
}
