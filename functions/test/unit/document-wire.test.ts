import { getApps, initializeApp } from "firebase-admin/app";
import { machineDocSchema } from "../../src/domain/agent-docs";
import { readDocumentEvent, timestamp } from "../../src/domain/document-wire";
import { LEGACY_MARK_FIELDS } from "../../src/domain/legacy-mark";
import { asDouble, deployedMachineDoc, encodeDocumentEvent, sdkSides } from "../support/firestore-event";

// The pipeline's reader of a write event's protobuf, checked against firebase-functions' own
// decoding of the same bytes (the message definitions it ships).

beforeAll(() => {
  if (getApps().length === 0) initializeApp({ projectId: "demo-wire" });
});

const PATH = "sites/s1/machines/GALLERY-PC1";
const MACHINE_FIELDS = new Set([...Object.keys(machineDocSchema.shape), ...LEGACY_MARK_FIELDS]);

/** The SDK's values in the reader's terms: timestamps by their instant, Buffers as bytes. */
function plain(v: unknown): unknown {
  if (v === null || typeof v !== "object") return v;
  if (Buffer.isBuffer(v)) return [...v];
  if (typeof (v as { toMillis?: unknown }).toMillis === "function") return { at: (v as { toMillis(): number }).toMillis() };
  if (Array.isArray(v)) return v.map(plain);
  return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, plain(x)]));
}

const pick = (doc: Record<string, unknown> | undefined, keys: ReadonlySet<string>) =>
  doc && Object.fromEntries(Object.entries(doc).filter(([k]) => keys.has(k)));

describe("reading a write event's protobuf", () => {
  it("a deployed-shape heartbeat: the handler's fields exactly as the SDK decodes them, the rest skipped", () => {
    const before = deployedMachineDoc("GALLERY-PC1", 1_700_000_000_000);
    const after = { ...deployedMachineDoc("GALLERY-PC1", 1_700_000_030_123), rebooting: false, rebootScheduledAt: null };
    const data = encodeDocumentEvent(PATH, before, after, ["lastHeartbeat", "metrics", "`metrics.timestamp`"]);
    expect(data.length).toBeGreaterThan(10_000);
    const sdk = sdkSides(data, PATH);
    const wire = readDocumentEvent(data, MACHINE_FIELDS);
    expect(plain(wire.after)).toEqual(plain(pick(sdk.after, MACHINE_FIELDS)));
    expect(plain(wire.before)).toEqual(plain(pick(sdk.before, MACHINE_FIELDS)));
    expect(wire.after).not.toHaveProperty("metrics");
    expect(wire.changed).toEqual(["lastHeartbeat", "metrics", "`metrics.timestamp`"]);
    expect(machineDocSchema.safeParse(wire.after).success).toBe(true);
    expect((wire.after?.lastHeartbeat as { toMillis(): number }).toMillis()).toBe(1_700_000_030_123);
  });

  it("every kind of value, nested, as the SDK decodes it", () => {
    const doc = {
      b: true,
      f: false,
      n: null,
      i: -42,
      big: 2 ** 53 - 1,
      neg: -(2 ** 40),
      d: 3.25,
      whole: asDouble(7),
      s: "héllo ✓ 漢字",
      empty: "",
      t: { seconds: -1, nanoseconds: 999_000_000, toMillis: () => -1 },
      bytes: Buffer.from([0, 1, 255]),
      arr: [1, "two", [3], { four: 4 }, null],
      map: { deep: { deeper: { deepest: [true, 2.5] } }, "with.dot": 1, "": 0 },
    };
    const data = encodeDocumentEvent(PATH, undefined, doc);
    const all = new Set(Object.keys(doc));
    const wire = readDocumentEvent(data, all);
    expect(plain(wire.after)).toEqual(plain(sdkSides(data, PATH).after));
    expect(wire.before).toBeUndefined();
    expect(wire.changed).toEqual([]);
  });

  it("random documents agree with the SDK (200 of them)", () => {
    let seed = 7;
    const rand = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    const value = (depth: number): unknown => {
      const k = Math.floor(rand() * (depth > 2 ? 6 : 8));
      switch (k) {
        case 0:
          return rand() < 0.5;
        case 1:
          return Math.floor((rand() - 0.5) * 2 ** (rand() * 52));
        case 2:
          return (rand() - 0.5) * 1e6 + 0.5;
        case 3:
          return String.fromCharCode(...Array.from({ length: Math.floor(rand() * 20) }, () => 32 + Math.floor(rand() * 20000)));
        case 4:
          return null;
        case 5: {
          const ms = Math.floor(rand() * 4e12);
          return { seconds: Math.floor(ms / 1000), nanoseconds: (ms % 1000) * 1e6, toMillis: () => ms };
        }
        case 6:
          return Array.from({ length: Math.floor(rand() * 4) }, () => value(depth + 1));
        default:
          return Object.fromEntries(Array.from({ length: Math.floor(rand() * 4) }, (_, i) => [`k${i}`, value(depth + 1)]));
      }
    };
    for (let n = 0; n < 200; n++) {
      const doc = Object.fromEntries(Array.from({ length: 1 + Math.floor(rand() * 6) }, (_, i) => [`f${i}`, value(0)]));
      const old = Object.fromEntries(Array.from({ length: Math.floor(rand() * 3) }, (_, i) => [`f${i}`, value(0)]));
      const data = encodeDocumentEvent(PATH, n % 3 === 0 ? undefined : old, doc);
      const wanted = new Set(["f0", "f2", "f4"]);
      const sdk = sdkSides(data, PATH);
      const wire = readDocumentEvent(data, wanted);
      expect(plain(wire.after)).toEqual(plain(pick(sdk.after, wanted)));
      expect(plain(wire.before)).toEqual(plain(pick(sdk.before, wanted)));
    }
  });

  it("a delete has no after; timestamps read as the instant they encode", () => {
    const data = encodeDocumentEvent(PATH, { online: true }, undefined);
    expect(readDocumentEvent(data, MACHINE_FIELDS)).toEqual({ before: { online: true }, after: undefined, changed: [] });
    expect(timestamp(1, 500_000_000).toDate().toISOString()).toBe("1970-01-01T00:00:01.500Z");
  });

  it("malformed bytes throw rather than read as something", () => {
    const data = encodeDocumentEvent(PATH, undefined, { online: true, name: "x" });
    expect(() => readDocumentEvent(data.subarray(0, data.length - 3), MACHINE_FIELDS)).toThrow(/malformed protobuf/);
    expect(() => readDocumentEvent(Uint8Array.from([0x0f]), MACHINE_FIELDS)).toThrow(/malformed protobuf/);
  });
});
