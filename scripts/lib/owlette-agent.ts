/**
 * A deployed Owlette agent (2.12), as the network sees it: the same Firestore REST requests
 * (`:commit` with update / updateMask / updateTransforms REQUEST_TIME when a server timestamp is
 * involved, `PATCH ?updateMask.fieldPaths=` otherwise, never a precondition), the same field
 * paths, value types and encodings (Python ints as integerValue, floats as doubleValue, None as
 * nullValue), the same quirks (a heartbeat deletes `metrics.cpu/disk/gpu` and any empty device
 * map, and leaves a top-level field literally named `metrics.timestamp`), and the same alert
 * bodies to `{api_base}/agent/alert`, with a Firebase ID token. Tests, the demo and the bench
 * drive the pipeline with it, so what they prove holds for the fleet that exists.
 */

/** The agent's sentinels: `SERVER_TIMESTAMP` becomes a REQUEST_TIME transform, `DELETE_FIELD` a masked field without a value. */
export const SERVER_TIMESTAMP = Symbol("SERVER_TIMESTAMP");
export const DELETE_FIELD = Symbol("DELETE_FIELD");

/** A Python float: encoded as doubleValue even when whole (`round(12.0, 1)`). */
export class Double {
  constructor(readonly value: number) {}
}
export const double = (value: number) => new Double(value);

type Py = null | boolean | number | string | Double | Date | typeof SERVER_TIMESTAMP | typeof DELETE_FIELD | Py[] | { [key: string]: Py };
export type PyDict = { [key: string]: Py };

/** One entry of the heartbeat's `processes` map, as `_upload_metrics` writes it for a configured process. */
export function processEntry(p: { name: string; index: number; pid: number | null; status: string; lastUpdated: number }) {
  return {
    name: p.name,
    exe_path: `C:\\Program Files\\${p.name}\\${p.name}.exe`,
    file_path: "",
    cwd: null,
    autolaunch: true,
    launch_mode: "always",
    schedules: null,
    priority: "Normal",
    visibility: "Show",
    time_delay: 0,
    time_to_init: 10,
    relaunch_attempts: 5,
    index: p.index,
    pid: p.pid,
    status: p.status,
    responsive: p.status === "RUNNING",
    last_updated: p.lastUpdated,
  };
}

type Value = Record<string, unknown>;

/** `_to_firestore_value`. */
function toValue(v: Py): Value {
  if (v === null) return { nullValue: null };
  if (typeof v === "boolean") return { booleanValue: v };
  if (typeof v === "number") return Number.isInteger(v) ? { integerValue: String(v) } : { doubleValue: v };
  if (typeof v === "string") return { stringValue: v };
  if (v instanceof Double) return { doubleValue: v.value };
  if (v instanceof Date) return { timestampValue: v.toISOString() };
  if (Array.isArray(v)) return { arrayValue: { values: v.map(toValue) } };
  if (typeof v === "object") return { mapValue: { fields: toFields(v) } };
  throw new Error(`cannot encode ${String(v)}`);
}

function toFields(d: PyDict): Record<string, Value> {
  const out: Record<string, Value> = {};
  for (const [k, v] of Object.entries(d)) if (v !== DELETE_FIELD) out[k] = toValue(v);
  return out;
}

const IDENT = /^[a-zA-Z_][a-zA-Z_0-9]*$/;
const isDict = (v: Py): v is PyDict => typeof v === "object" && v !== null && !Array.isArray(v) && !(v instanceof Double) && !(v instanceof Date);

/**
 * `_extract_server_timestamps`: pulls SERVER_TIMESTAMP values out into transform paths. Each key
 * is backticked unless it is an identifier (so a dotted key becomes one literal field), nested
 * keys joined with "."; a nested dict left empty is dropped.
 */
function extractServerTimestamps(data: PyDict, prefix = ""): { cleaned: PyDict; paths: string[] } {
  const cleaned: PyDict = {};
  const paths: string[] = [];
  for (const [key, value] of Object.entries(data)) {
    const escaped = IDENT.test(key) ? key : `\`${key}\``;
    const path = prefix ? `${prefix}.${escaped}` : escaped;
    if (value === SERVER_TIMESTAMP) paths.push(path);
    else if (isDict(value)) {
      const nested = extractServerTimestamps(value, path);
      paths.push(...nested.paths);
      if (Object.keys(nested.cleaned).length > 0) cleaned[key] = nested.cleaned;
    } else cleaned[key] = value;
  }
  return { cleaned, paths };
}

/** `_escape_field_path`: split on "." and backtick any segment that is not plain. */
function escapeFieldPath(key: string): string {
  return key
    .split(".")
    .map((seg) => (/[^a-zA-Z0-9_]/.test(seg) ? `\`${seg}\`` : seg))
    .join(".");
}

/** `_flatten_field_paths`: leaf paths of a dict, each segment escaped. */
function flattenFieldPaths(d: PyDict, prefix = ""): string[] {
  const out: string[] = [];
  for (const [k, v] of Object.entries(d)) {
    const seg = /[^a-zA-Z0-9_]/.test(k) ? `\`${k}\`` : k;
    const path = prefix ? `${prefix}.${seg}` : seg;
    if (isDict(v)) out.push(...flattenFieldPaths(v, path));
    else out.push(path);
  }
  return out;
}

/** Dotted update keys into nested dicts (`update_document`'s fields); DELETE_FIELD keys stay out. */
function nestDotted(updates: PyDict): PyDict {
  const out: PyDict = {};
  for (const [key, value] of Object.entries(updates)) {
    if (value === DELETE_FIELD) continue;
    const parts = key.split(".");
    let at = out;
    for (const part of parts.slice(0, -1)) {
      const next = at[part];
      if (next === undefined || !isDict(next)) at[part] = {};
      at = at[part] as PyDict;
    }
    at[parts[parts.length - 1] as string] = value;
  }
  return out;
}

export interface AgentIdentity {
  projectId: string;
  siteId: string;
  /** The Windows hostname. */
  machineId: string;
  /** A valid Firebase ID token with the agent's claims (`role: "agent"`, `site_id`, `machine_id`). */
  token: () => Promise<string>;
  /** `host:port` of the Firestore emulator (the agent honours FIRESTORE_EMULATOR_HOST too). */
  firestoreHost: string;
  /** `{api_base}`: alerts go to `{api_base}/agent/alert`. */
  apiBase?: string;
  agentVersion?: string;
}

export class FirestoreRestError extends Error {
  constructor(
    readonly status: number,
    readonly body: string,
  ) {
    super(`Firestore REST ${status}: ${body.slice(0, 300)}`);
  }
}

/** A process as the agent reports it in `metrics.processes.<configId>`. */
export interface AgentProcess {
  configId: string;
  name: string;
  status: "LAUNCHING" | "RUNNING" | "STALLED" | "KILLED" | "STOPPED" | "INACTIVE" | "UNKNOWN";
  pid: number | null;
}

export interface AlertResult {
  status: number;
  body: unknown;
}

/** The deployed agent's writes and alerts, request for request. */
export class OwletteAgent {
  readonly version: string;
  /** Process alerts that failed to send, resent on reconnect (in memory, at most 100, oldest dropped). */
  readonly pendingAlerts: { eventType: string; data: PyDict }[] = [];

  constructor(readonly id: AgentIdentity) {
    this.version = id.agentVersion ?? "2.12.4";
  }

  private get documentsBase() {
    return `http://${this.id.firestoreHost}/v1/projects/${this.id.projectId}/databases/(default)/documents`;
  }

  private name(path: string) {
    return `projects/${this.id.projectId}/databases/(default)/documents/${path}`;
  }

  private async request(method: string, url: string, body: unknown): Promise<unknown> {
    const res = await fetch(url, {
      method,
      headers: { Authorization: `Bearer ${await this.id.token()}`, "Content-Type": "application/json" },
      body: JSON.stringify(body),
    });
    const text = await res.text();
    if (!res.ok) throw new FirestoreRestError(res.status, text);
    return text ? JSON.parse(text) : null;
  }

  private commit(write: Record<string, unknown>) {
    return this.request("POST", `${this.documentsBase}:commit`, { writes: [write] });
  }

  /** `set_document(path, data, merge)`. */
  async setDocument(path: string, data: PyDict, merge = false): Promise<void> {
    const { cleaned, paths } = extractServerTimestamps(data);
    if (paths.length > 0) {
      await this.commit({
        update: { name: this.name(path), fields: toFields(cleaned) },
        updateTransforms: paths.map((fieldPath) => ({ fieldPath, setToServerValue: "REQUEST_TIME" })),
        ...(merge ? { updateMask: { fieldPaths: [...flattenFieldPaths(cleaned), ...paths] } } : {}),
      });
      return;
    }
    const query = merge
      ? `?${flattenFieldPaths(cleaned)
          .map((p) => `updateMask.fieldPaths=${encodeURIComponent(p)}`)
          .join("&")}`
      : "";
    await this.request("PATCH", `${this.documentsBase}/${path}${query}`, { fields: toFields(cleaned) });
  }

  /** `update_document(path, updates)`: dotted keys; DELETE_FIELD and empty dicts delete. */
  async updateDocument(path: string, updates: PyDict): Promise<void> {
    const mask = Object.keys(updates).map(escapeFieldPath);
    const { cleaned, paths } = extractServerTimestamps(updates);
    const fields = toFields(nestDotted(cleaned));
    if (paths.length > 0) {
      await this.commit({
        update: { name: this.name(path), fields },
        updateTransforms: paths.map((fieldPath) => ({ fieldPath, setToServerValue: "REQUEST_TIME" })),
        updateMask: { fieldPaths: mask },
      });
      return;
    }
    const query = mask.map((p) => `updateMask.fieldPaths=${encodeURIComponent(p)}`).join("&");
    await this.request("PATCH", `${this.documentsBase}/${path}?${query}`, { fields });
  }

  get machinePath() {
    return `sites/${this.id.siteId}/machines/${this.id.machineId}`;
  }

  /** At start and on every reconnect (`_update_presence(True)`); `online: false` on a clean stop. */
  presence(online: boolean) {
    return this.setDocument(this.machinePath, { online, lastHeartbeat: SERVER_TIMESTAMP, machineId: this.id.machineId, siteId: this.id.siteId }, true);
  }

  /** `_upload_metrics`: the heartbeat, every 5 s (GUI open), 30 s (processes running) or 120 s (idle). */
  heartbeat(opts: { processes?: AgentProcess[]; gpu?: boolean } = {}) {
    const processes: PyDict = {};
    (opts.processes ?? []).forEach((p, index) => {
      processes[p.configId] = processEntry({
        name: p.name,
        index,
        pid: p.pid,
        status: p.status,
        lastUpdated: p.pid === null ? 0 : Math.floor(Date.now() / 1000),
      });
    });
    return this.updateDocument(this.machinePath, {
      online: true,
      lastHeartbeat: SERVER_TIMESTAMP,
      agent_version: this.version,
      machine_timezone: "Pacific Standard Time",
      machine_timezone_iana: "America/Los_Angeles",
      machineId: this.id.machineId,
      siteId: this.id.siteId,
      "capabilities.displayRemoteApply": 1,
      "metrics.schemaVersion": 2,
      "metrics.profileHash": "9f2c".padEnd(64, "0"),
      "metrics.timestamp": SERVER_TIMESTAMP,
      "metrics.cpus": { CPU0: { percent: double(12.5), temperature: double(54.0) } },
      "metrics.disks": { "C:": { percent: double(61.2), usedGb: double(290.4) }, "D:": { percent: double(12.0), usedGb: double(110.0) } },
      "metrics.diskio": { "C:": { readBps: 120_000, writeBps: 80_000, readIops: 12, writeIops: 9, busyPct: double(3.5), maxBps: 550_000_000 } },
      // No NVIDIA GPU: an empty map, which the client turns into a delete.
      "metrics.gpus": opts.gpu === false ? {} : { "GPU-4a1e2f3c": { usagePercent: double(38.0), vramUsedGb: double(3.1), temperature: double(61.0) } },
      "metrics.nics": { Ethernet: { txBps: double(5400.0), rxBps: double(21000.0), txUtil: double(0.01), rxUtil: double(0.02) } },
      "metrics.memory": { percent: double(43.1), used_gb: double(13.8), total_gb: double(32.0), usedGb: double(13.8), unit: "GB" },
      "metrics.network": { latencyMs: double(12.0), packetLossPct: double(0.0), gatewayIp: "192.168.1.1" },
      "metrics.primary": { cpu: "CPU0", disk: "C:", gpu: opts.gpu === false ? null : "GPU-4a1e2f3c", nic: "Ethernet" },
      "metrics.processes": processes,
      "metrics.displayDriftCount": 0,
      "metrics.cpu": DELETE_FIELD,
      "metrics.disk": DELETE_FIELD,
      "metrics.gpu": DELETE_FIELD,
    });
  }

  /** `write_health_to_firestore` (only ever lands while connected). */
  health(status: string, errorCode: string | null, errorMessage: string | null) {
    return this.setDocument(
      this.machinePath,
      {
        health: {
          status,
          error_code: errorCode,
          error_message: errorMessage,
          last_checked_at: SERVER_TIMESTAMP,
          last_error_at: errorCode ? SERVER_TIMESTAMP : null,
        },
      },
      true,
    );
  }

  /** `reboot_machine`: announced 30 s ahead, then `shutdown /r /t 30`. */
  announceReboot(atUnixSeconds: number) {
    return this.setDocument(this.machinePath, { rebootScheduledAt: atUnixSeconds, rebooting: true, rebootSource: "manual", rebootCancellable: true }, true);
  }

  /** `shutdown_machine`. */
  announceShutdown(atUnixSeconds: number) {
    return this.setDocument(this.machinePath, { shutdownScheduledAt: atUnixSeconds, shuttingDown: true, rebootSource: "manual" }, true);
  }

  /** At start after a reboot: the flags cleared with false / null, never deleted. */
  clearAnnouncements() {
    return this.setDocument(
      this.machinePath,
      {
        rebooting: false,
        shuttingDown: false,
        rebootScheduledAt: null,
        shutdownScheduledAt: null,
        rebootCancellable: false,
        rebootSource: null,
        rebootEntryId: null,
      },
      true,
    );
  }

  /** The relaunch limit was reached: `set_reboot_pending`. */
  setRebootPending(processName: string, relaunches: number) {
    return this.setDocument(
      this.machinePath,
      { rebootPending: { active: true, processName, reason: `${processName} crashed ${relaunches} times`, timestamp: double(Date.now() / 1000) } },
      true,
    );
  }

  /** `hardware/profile`, replaced whole when its hash changes. */
  uploadHardwareProfile() {
    return this.setDocument(`${this.machinePath}/hardware/profile`, {
      schemaVersion: 1,
      signatureHash: "9f2c".padEnd(64, "0"),
      capturedAt: Math.floor(Date.now() / 1000),
      agentVersion: this.version,
      cpus: [{ id: "CPU0", model: "AMD Ryzen 9 7950X", physicalCores: 16, logicalCores: 32, socketIndex: 0 }],
      disks: [{ id: "C:", label: "Windows", fs: "NTFS", totalGb: double(476.0) }],
      gpus: [{ id: "GPU-4a1e2f3c", name: "NVIDIA RTX 4080", vramTotalGb: double(16.0), pciBus: null }],
      nics: [{ id: "Ethernet", mac: "00:11:22:33:44:55", linkSpeedMbps: 1000 }],
    });
  }

  /** `log_event`: a `sites/{siteId}/logs/{uuid4}` doc, written with set (no merge). */
  async logEvent(action: string, level: string, extra: { processName?: string; details?: string; screenshotUrl?: string } = {}): Promise<string> {
    const id = crypto.randomUUID();
    await this.setDocument(`sites/${this.id.siteId}/logs/${id}`, {
      timestamp: SERVER_TIMESTAMP,
      action,
      level,
      machineId: this.id.machineId,
      machineName: this.id.machineId,
      ...(extra.processName ? { processName: extra.processName } : {}),
      ...(extra.details ? { details: extra.details } : {}),
      ...(extra.screenshotUrl ? { screenshotUrl: extra.screenshotUrl } : {}),
    });
    return id;
  }

  /** `send_alert`: process (and display, exe) alerts; anything but a 2xx is queued for resending. */
  async sendAlert(eventType: string, data: PyDict): Promise<AlertResult | null> {
    try {
      const result = await this.post({ siteId: this.id.siteId, machineId: this.id.machineId, eventType, data, agentVersion: this.version });
      if (result.status < 200 || result.status >= 300) throw new Error(`HTTP ${result.status}`);
      return result;
    } catch {
      this.pendingAlerts.push({ eventType, data });
      if (this.pendingAlerts.length > 100) this.pendingAlerts.shift();
      return null;
    }
  }

  /** On reconnect the queue is sent again, entry by entry; failures go back in. */
  async resendPendingAlerts(): Promise<void> {
    const queued = this.pendingAlerts.splice(0);
    for (const { eventType, data } of queued) await this.sendAlert(eventType, data);
  }

  /** `_update_health_state` on BACKOFF / FATAL: no eventType, never retried, answer ignored. */
  async sendConnectionFailureAlert(errorCode: string, errorMessage: string): Promise<AlertResult | null> {
    try {
      return await this.post({ siteId: this.id.siteId, machineId: this.id.machineId, errorCode, errorMessage, agentVersion: this.version });
    } catch {
      return null;
    }
  }

  private async post(body: PyDict): Promise<AlertResult> {
    if (!this.id.apiBase) throw new Error("no api_base");
    const res = await fetch(`${this.id.apiBase}/agent/alert`, {
      method: "POST",
      headers: { Authorization: `Bearer ${await this.id.token()}`, "Content-Type": "application/json", "User-Agent": "python-requests/2.32.3" },
      body: JSON.stringify(body),
    });
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = JSON.parse(text);
    } catch {
      // not JSON: kept as text
    }
    return { status: res.status, body: parsed };
  }

  /**
   * A crash as `owlette_service` reports it: the log doc, then the alert with the same message
   * (the log write only while connected; the alert queued if it fails).
   */
  async crash(processName: string, pid: number, opts: { connected?: boolean; screenshotUrl?: string } = {}) {
    const details = `Process stopped unexpectedly (PID ${pid} no longer running)`;
    let logId: string | null = null;
    if (opts.connected !== false) {
      logId = await this.logEvent("process_crash", "error", { processName, details, ...(opts.screenshotUrl ? { screenshotUrl: opts.screenshotUrl } : {}) });
    }
    const alert = await this.sendAlert("process_crash", { process_name: processName, error_message: details });
    return { logId, alert, details };
  }

  /** A process that fails to start: `process_start_failed` log and alert with `str(e)`. */
  async startFailed(processName: string, error: string) {
    const logId = await this.logEvent("process_start_failed", "error", { processName, details: error });
    const alert = await this.sendAlert("process_start_failed", { process_name: processName, error_message: error });
    return { logId, alert };
  }
}

/**
 * An unsigned ID token with the agent's claims, as the Firestore emulator accepts it (rules
 * tests on their own project). Against the full suite use `signInAgent`, which goes through the
 * Auth emulator like the deployed exchange.
 */
export function unsignedAgentToken(projectId: string, siteId: string, machineId: string): string {
  return unsignedIdToken(projectId, agentUid(siteId, machineId), { role: "agent", site_id: siteId, machine_id: machineId, version: "2.12.4" });
}

/** An unsigned ID token for `uid` with `claims`, shaped as the Auth emulator issues them. */
export function unsignedIdToken(projectId: string, uid: string, claims: Record<string, unknown> = {}): string {
  const now = Math.floor(Date.now() / 1000);
  const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString("base64url");
  return `${b64({ alg: "none", typ: "JWT" })}.${b64({
    iss: `https://securetoken.google.com/${projectId}`,
    aud: projectId,
    auth_time: now,
    iat: now,
    exp: now + 3600,
    sub: uid,
    user_id: uid,
    firebase: { sign_in_provider: "custom", identities: {} },
    ...claims,
  })}.`;
}

/** The uid Owlette gives an agent: `agent_<siteId>_<machineId>`, anything but [a-zA-Z0-9_] as "_". */
export function agentUid(siteId: string, machineId: string): string {
  return `agent_${siteId}_${machineId}`.replace(/[^a-zA-Z0-9_]/g, "_");
}
