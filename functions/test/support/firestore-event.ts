import { join } from "node:path";
import { processEntry } from "../../../scripts/lib/owlette-agent";

/**
 * Firestore write events as Eventarc delivers them to a function: a
 * `google.events.cloud.firestore.v1.DocumentEventData` protobuf, encoded with the message
 * definitions firebase-functions ships (and decodes with). For measuring a trigger's decoding and
 * for checking the pipeline's own reader against the SDK's.
 */
const root: string = require.resolve("firebase-functions").replace(/[\\/]lib[\\/].*$/, "");
const protos = require(join(root, "protos", "compiledFirestore.js"));
const DocumentEventData = protos.google.events.cloud.firestore.v1.DocumentEventData;

/** A value encoded as a double even when it is a whole number (the agent's Python floats). */
export const asDouble = (value: number) => ({ __double: value });

type Proto = Record<string, unknown>;

export function protoValue(v: unknown): Proto {
  if (v === null || v === undefined) return { nullValue: 0 };
  if (typeof v === "boolean") return { booleanValue: v };
  if (typeof v === "number") return Number.isInteger(v) ? { integerValue: v } : { doubleValue: v };
  if (typeof v === "string") return { stringValue: v };
  if (Buffer.isBuffer(v)) return { bytesValue: v };
  if (Array.isArray(v)) return { arrayValue: { values: v.map(protoValue) } };
  if (typeof v === "object" && "__double" in v) return { doubleValue: (v as { __double: number }).__double };
  if (v instanceof Date) return { timestampValue: { seconds: Math.floor(v.getTime() / 1000), nanos: (v.getTime() % 1000) * 1e6 } };
  if (typeof v === "object" && "seconds" in v && "nanoseconds" in v && typeof (v as { toMillis?: unknown }).toMillis === "function") {
    const t = v as { seconds: number; nanoseconds: number };
    return { timestampValue: { seconds: t.seconds, nanos: t.nanoseconds } };
  }
  return { mapValue: { fields: protoFields(v as Record<string, unknown>) } };
}

function protoFields(doc: Record<string, unknown>): Record<string, Proto> {
  return Object.fromEntries(Object.entries(doc).map(([k, v]) => [k, protoValue(v)]));
}

/** The event of a write to `path` (relative, e.g. `sites/s/machines/m`): either side may be absent. */
export function encodeDocumentEvent(
  path: string,
  before: Record<string, unknown> | undefined,
  after: Record<string, unknown> | undefined,
  changed: string[] = [],
): Uint8Array {
  const name = `projects/demo/databases/(default)/documents/${path}`;
  const doc = (fields: Record<string, unknown>) => ({ name, fields: protoFields(fields), createTime: { seconds: 1 }, updateTime: { seconds: 2 } });
  return DocumentEventData.encode({
    ...(after ? { value: doc(after) } : {}),
    ...(before ? { oldValue: doc(before) } : {}),
    ...(changed.length > 0 ? { updateMask: { fieldPaths: changed } } : {}),
  }).finish();
}

/** firebase-functions' own decoding of an event's two sides, as its onDocumentWritten gives them to a handler. */
export function sdkSides(data: Uint8Array, path: string): { before: Record<string, unknown> | undefined; after: Record<string, unknown> | undefined } {
  const sdk = require(join(root, "lib", "common", "providers", "firestore.js"));
  const full = `projects/demo/databases/(default)/documents/${path}`;
  return { before: sdk.createBeforeSnapshotFromProtobuf(data, full).data(), after: sdk.createSnapshotFromProtobuf(data, full).data() };
}

const wireTime = (ms: number) => ({ seconds: Math.floor(ms / 1000), nanoseconds: (ms % 1000) * 1e6, toMillis: () => ms });

/**
 * A machine doc as a deployed agent leaves it after a heartbeat on a large machine (8 CPUs, 4
 * disks, 2 GPUs, 4 NICs, 10 configured processes): the shapes `_upload_metrics` writes
 * (scripts/lib/owlette-agent.ts), about 12 KB encoded.
 */
export function deployedMachineDoc(machineId: string, heartbeatMs: number): Record<string, unknown> {
  const cpus = Object.fromEntries(Array.from({ length: 8 }, (_, i) => [`CPU${i}`, { percent: asDouble(12.5 + i), temperature: asDouble(54.0) }]));
  const disks = Object.fromEntries(["C:", "D:", "E:", "F:"].map((d, i) => [d, { percent: asDouble(61.2 - i), usedGb: asDouble(290.4) }]));
  const diskio = Object.fromEntries(
    ["C:", "D:", "E:", "F:"].map((d) => [d, { readBps: 120_000, writeBps: 80_000, readIops: 12, writeIops: 9, busyPct: asDouble(3.5), maxBps: 550_000_000 }]),
  );
  const gpus = Object.fromEntries(
    ["GPU-4a1e2f3c", "GPU-77b0c1d2"].map((g) => [g, { usagePercent: asDouble(38.0), vramUsedGb: asDouble(3.1), temperature: asDouble(61.0) }]),
  );
  const nics = Object.fromEntries(
    ["Ethernet", "Ethernet 2", "Wi-Fi", "vEthernet"].map((n) => [
      n,
      { txBps: asDouble(5400.0), rxBps: asDouble(21000.0), txUtil: asDouble(0.01), rxUtil: asDouble(0.02) },
    ]),
  );
  const processes = Object.fromEntries(
    Array.from({ length: 10 }, (_, index) => [
      `cfg-${index}`,
      processEntry({ name: `Process ${index}`, index, pid: 4000 + index, status: "RUNNING", lastUpdated: Math.floor(heartbeatMs / 1000) }),
    ]),
  );
  return {
    online: true,
    lastHeartbeat: wireTime(heartbeatMs),
    agent_version: "2.12.4",
    machine_timezone: "Pacific Standard Time",
    machine_timezone_iana: "America/Los_Angeles",
    machineId,
    siteId: "site-1",
    name: machineId,
    capabilities: { displayRemoteApply: 1 },
    health: { status: "online", error_code: null, error_message: null, last_checked_at: wireTime(heartbeatMs), last_error_at: null },
    "metrics.timestamp": wireTime(heartbeatMs),
    metrics: {
      schemaVersion: 2,
      profileHash: "9f2c".padEnd(64, "0"),
      timestamp: wireTime(heartbeatMs),
      cpus,
      disks,
      diskio,
      gpus,
      nics,
      memory: { percent: asDouble(43.1), used_gb: asDouble(13.8), total_gb: asDouble(32.0), usedGb: asDouble(13.8), unit: "GB" },
      network: { latencyMs: asDouble(12.0), packetLossPct: asDouble(0.0), gatewayIp: "192.168.1.1" },
      primary: { cpu: "CPU0", disk: "C:", gpu: "GPU-4a1e2f3c", nic: "Ethernet" },
      processes,
      displayDriftCount: 0,
    },
  };
}
