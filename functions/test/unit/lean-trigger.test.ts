import { getApps, initializeApp } from "firebase-admin/app";
import { onDocumentWritten } from "firebase-functions/v2/firestore";
import { toAgentWrite, type AgentWrite } from "../../src/triggers/agent-write";
import { onDocumentWrittenLean } from "../../src/triggers/lean-document-trigger";
import { MACHINE_FIELDS } from "../../src/triggers/on-machine-written";
import { deployedMachineDoc, encodeDocumentEvent } from "../support/firestore-event";

// The machine trigger reads a heartbeat's event for the fields it uses, skipping the rest: what
// its handler gets must be what firebase-functions' own decoding would have given it.

beforeAll(() => {
  if (getApps().length === 0) initializeApp({ projectId: "demo-lean" });
});

const OPTS = { document: "sites/{siteId}/machines/{machineId}" };
const raw = (data: unknown, extra: Record<string, unknown> = {}) => ({
  specversion: "1.0",
  id: "evt-1",
  source: "//firestore.googleapis.com/projects/demo/databases/(default)",
  type: "google.cloud.firestore.document.v1.written",
  time: "2026-12-07T10:00:00.000Z",
  document: "sites/s1/machines/GALLERY-PC1",
  project: "demo",
  database: "(default)",
  namespace: "(default)",
  location: "nam5",
  datacontenttype: "application/protobuf",
  data,
  ...extra,
});

/** A write's fields as a handler reads them: timestamps by their instant. */
function plain(v: unknown): unknown {
  if (v === null || typeof v !== "object") return v;
  if (typeof (v as { toMillis?: unknown }).toMillis === "function") return { at: (v as { toMillis(): number }).toMillis() };
  if (Array.isArray(v)) return v.map(plain);
  return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, plain(x)]));
}
const pick = (doc: unknown) => doc && Object.fromEntries(Object.entries(doc as Record<string, unknown>).filter(([k]) => MACHINE_FIELDS.has(k)));

describe("the lean machine trigger", () => {
  it("hands its handler the write firebase-functions would have, for every field the handler reads", async () => {
    const before = deployedMachineDoc("GALLERY-PC1", 1_700_000_000_000);
    const after = {
      ...deployedMachineDoc("GALLERY-PC1", 1_700_000_600_000),
      health: { status: "connection_failure", error_code: 7, error_message: "refused" },
    };
    const data = Buffer.from(encodeDocumentEvent("sites/s1/machines/GALLERY-PC1", before, after, ["lastHeartbeat", "health", "metrics"]));
    const got: AgentWrite[] = [];
    const lean = onDocumentWrittenLean(OPTS, MACHINE_FIELDS, async (w) => void got.push(w));
    const standard: AgentWrite[] = [];
    const plainTrigger = onDocumentWritten(OPTS, async (e) => void standard.push(toAgentWrite(e)));
    await lean(raw(data) as never);
    await plainTrigger(raw(data) as never);
    const [a, b] = [got[0] as AgentWrite, standard[0] as AgentWrite];
    expect({ ...a, before: undefined, after: undefined }).toEqual({ ...b, before: undefined, after: undefined });
    expect(a.params).toEqual({ siteId: "s1", machineId: "GALLERY-PC1" });
    expect(plain(a.after)).toEqual(plain(pick(b.after)));
    expect(plain(a.before)).toEqual(plain(pick(b.before)));
    expect(a.after).not.toHaveProperty("metrics");
  });

  it("a delete: no after, as firebase-functions gives it", async () => {
    const data = Buffer.from(encodeDocumentEvent("sites/s1/machines/GALLERY-PC1", { online: true }, undefined));
    const got: AgentWrite[] = [];
    await onDocumentWrittenLean(OPTS, MACHINE_FIELDS, async (w) => void got.push(w))(raw(data) as never);
    expect(got[0]?.after).toBeUndefined();
    expect(got[0]?.before).toEqual({ online: true });
  });

  it("an event in JSON goes through firebase-functions' own decoding; the endpoint is the one onDocumentWritten declares", async () => {
    const got: AgentWrite[] = [];
    const lean = onDocumentWrittenLean({ ...OPTS, retry: true }, MACHINE_FIELDS, async (w) => void got.push(w));
    const json = {
      value: {
        name: "projects/demo/databases/(default)/documents/sites/s1/machines/GALLERY-PC1",
        fields: { online: { booleanValue: true } },
        createTime: "2026-12-07T10:00:00Z",
        updateTime: "2026-12-07T10:00:00Z",
      },
    };
    await lean(raw(json, { datacontenttype: "application/json" }) as never);
    expect(got[0]?.after).toEqual({ online: true });
    expect(lean.__endpoint).toEqual(onDocumentWritten({ ...OPTS, retry: true }, async () => undefined).__endpoint);
  });
});
