import * as http from "node:http";
import type { AddressInfo } from "node:net";
import { MAX_BODY_BYTES, verify, type VerifyResult, type VerifyScheme } from "../../functions/src/seam";
import { printable } from "./output";

export interface ReceiveOptions {
  port: number;
  host?: string;
  secrets: string[];
  toleranceSeconds?: number;
  /** The webhook's scheme: only signatures of this scheme are accepted. */
  scheme?: VerifyScheme;
  json: boolean;
  print: (line: string) => void;
  /**
   * Hand each verified delivery on to this URL (your app's endpoint), as `stripe listen
   * --forward-to` does: the same method, body bytes and delivery headers; the sender gets the
   * target's status, so a failing app makes the pipeline retry (and the retry is forwarded again).
   */
  forwardTo?: string;
  /** How long the target may take to answer a forwarded delivery (default 10 s). */
  forwardTimeoutMs?: number;
  /**
   * A larger body is answered 413 as soon as it passes this many bytes, unread beyond that
   * (default: the kit's `MAX_BODY_BYTES`, 1 MiB, above any body Owlette sends).
   */
  maxBodyBytes?: number;
}

/** Headers a forwarded delivery keeps: the body's type, the signature and delivery headers, the user agent. */
const FORWARDED = /^(content-type|user-agent|x-owlette-.*|webhook-.*|owlette-.*|x-hub-signature-256)$/i;

/** What the target of `--forward-to` answered, or why it could not. */
export interface Forwarded {
  status: number | null;
  error: string | null;
  durationMs: number;
}

/** What the receiver made of one request, for programs that embed it (the demo). */
export interface Received {
  verdict: Verdict;
  forwarded?: Forwarded;
  payload: { id?: string; event?: string; data?: Record<string, unknown> } | null;
  receivedAt: number;
}

export type Verdict = {
  status: "accepted" | "duplicate" | "rejected";
  id: string | null;
  event: string | null;
  scheme: string | null;
  reason: string | null;
  attempt: string | null;
};

/**
 * A local receiver for trying webhooks out: verifies every supported signature scheme with the
 * verification kit (or only the webhook's, with `scheme`), refuses stale timestamps and bad
 * signatures (401), answers a repeated signed event id with 200 without processing it again,
 * and prints one line per request. A body over `maxBodyBytes` gets a 413 and its connection is
 * closed without reading the rest: one sender cannot hold the receiver up for the next.
 */
export async function startReceiver(opts: ReceiveOptions): Promise<{
  port: number;
  url: (path: string) => string;
  /** Accept signatures made with this secret too (a webhook created after the receiver started). */
  addSecret: (secret: string) => void;
  onReceive: (listener: (r: Received) => void) => () => void;
  close: () => Promise<void>;
}> {
  const seen = new Set<string>();
  const listeners = new Set<(r: Received) => void>();
  const limit = opts.maxBodyBytes ?? MAX_BODY_BYTES;
  const report = (verdict: Verdict, payload: Received["payload"], forwarded?: Forwarded) => {
    opts.print(opts.json ? JSON.stringify({ ...verdict, payload, ...(forwarded ? { forwarded } : {}) }) : pretty(verdict, payload, forwarded, opts.forwardTo));
    for (const listener of listeners) listener({ verdict, payload, receivedAt: Date.now(), ...(forwarded ? { forwarded } : {}) });
  };
  /**
   * 413, then the connection is dropped: reading the rest (as Node does to reuse a connection)
   * would take as long as the sender likes. Nothing of the body is kept, parsed or verified.
   */
  const tooLarge = (req: http.IncomingMessage, res: http.ServerResponse) => {
    req.pause();
    res.on("finish", () => req.socket.destroy());
    res.writeHead(413, { "Content-Type": "text/plain", Connection: "close" }).end("body_too_large");
    report({ status: "rejected", id: null, event: null, scheme: null, reason: "body_too_large", attempt: attemptOf(req) }, null);
  };
  const declaredTooLarge = (req: http.IncomingMessage) => Number(req.headers["content-length"]) > limit;
  const onRequest = (req: http.IncomingMessage, res: http.ServerResponse) => {
    if (declaredTooLarge(req)) {
      tooLarge(req, res);
      return;
    }
    // A chunked body declares no length: counted as it comes, and cut off at the limit.
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size <= limit) {
        chunks.push(chunk);
        return;
      }
      req.off("data", onData);
      chunks.length = 0;
      tooLarge(req, res);
    };
    req.on("data", onData);
    req.on("end", () => {
      if (size <= limit) void handle(req, res, Buffer.concat(chunks));
    });
  };
  const server = http.createServer(onRequest);
  // A sender that asks first (`Expect: 100-continue`, as curl does for large bodies) is refused
  // before it sends a byte of an oversized body.
  server.on("checkContinue", (req: http.IncomingMessage, res: http.ServerResponse) => {
    if (declaredTooLarge(req)) {
      tooLarge(req, res);
      return;
    }
    res.writeContinue();
    onRequest(req, res);
  });
  const handle = async (req: http.IncomingMessage, res: http.ServerResponse, raw: Buffer) => {
    if (!["POST", "PUT", "PATCH"].includes(req.method ?? "")) {
      res.writeHead(405, { Allow: "POST, PUT, PATCH" }).end();
      return;
    }
    let payload: { id?: string; event?: string; data?: Record<string, unknown> } | null = null;
    try {
      payload = JSON.parse(raw.toString("utf8"));
    } catch {
      payload = null;
    }
    const result: VerifyResult = verify(raw, req.headers, opts.secrets, {
      maxBodyBytes: limit,
      ...(opts.toleranceSeconds ? { toleranceSeconds: opts.toleranceSeconds } : {}),
      ...(opts.scheme ? { scheme: opts.scheme } : {}),
    });
    // Deduplicate on the signed id only: an unsigned header could be changed by a replayer.
    // (A refused delivery's line shows the id its body claims, for the operator to look up.)
    const id = result.ok ? result.id : null;
    const base = { id: id ?? payload?.id ?? null, event: payload?.event ?? null, attempt: attemptOf(req) };
    let verdict: Verdict;
    if (!result.ok) verdict = { ...base, status: "rejected", scheme: null, reason: result.reason };
    else if (id && seen.has(id)) verdict = { ...base, status: "duplicate", scheme: result.scheme, reason: null };
    else verdict = { ...base, status: "accepted", scheme: result.scheme, reason: null };
    let status = verdict.status === "rejected" ? 401 : 200;
    let forwarded: Forwarded | undefined;
    if (verdict.status === "accepted" && opts.forwardTo) {
      forwarded = await forward(opts.forwardTo, req, raw, opts.forwardTimeoutMs ?? 10_000);
      // Unreachable or timed out: 502 / 504, as a gateway answers; a retry is forwarded again.
      status = forwarded.status ?? (forwarded.error === "timeout" ? 504 : 502);
    }
    // Seen once processed: a delivery the target refused is not a duplicate when it comes again.
    if (verdict.status === "accepted" && id && status < 300) seen.add(id);
    res.writeHead(status, { "Content-Type": "text/plain" }).end(forwarded ? `forwarded: ${forwarded.status ?? forwarded.error}` : verdict.status);
    report(verdict, payload, forwarded);
  };
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port, opts.host ?? "127.0.0.1", resolve);
  });
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    url: (path) => `http://${opts.host ?? "127.0.0.1"}:${port}${path}`,
    addSecret: (secret) => void opts.secrets.push(secret),
    onReceive: (listener) => {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    close: () => {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

const attemptOf = (req: http.IncomingMessage) => (req.headers["x-owlette-attempt"] as string | undefined) ?? null;

/** Sends a verified delivery on to `target` as it came: method, body bytes, delivery headers. */
async function forward(target: string, req: http.IncomingMessage, raw: Buffer, timeoutMs: number): Promise<Forwarded> {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (FORWARDED.test(name) && typeof value === "string") headers[name] = value;
  }
  const started = Date.now();
  try {
    const res = await fetch(target, { method: req.method, headers, body: raw, redirect: "manual", signal: AbortSignal.timeout(timeoutMs) });
    await res.arrayBuffer().catch(() => undefined);
    return { status: res.status, error: null, durationMs: Date.now() - started };
  } catch (err) {
    const name = (err as Error).name;
    return { status: null, error: name === "TimeoutError" || name === "AbortError" ? "timeout" : "unreachable", durationMs: Date.now() - started };
  }
}

/**
 * One line per request (two when forwarded). Every line goes through `printable` whole: the
 * machine name, process, message, id, attempt header and the target's answer are the sender's
 * text, and a refused request's are nobody's.
 */
function pretty(v: Verdict, payload: { data?: Record<string, unknown> } | null, forwarded?: Forwarded, target?: string): string {
  const time = new Date().toISOString().slice(11, 19);
  if (v.status === "rejected") return printable(`${time} ✘ rejected  ${v.reason}${v.id ? `  ${v.id}` : ""}`);
  const d = payload?.data ?? {};
  const what = [d.machineName ?? d.machineId, d.processName, d.errorCode, d.errorMessage ?? d.message].filter(Boolean).join(" · ");
  const mark = v.status === "duplicate" ? "↺ duplicate" : "✔ verified ";
  // Escaped before padding, so the column lines up.
  const event = printable(v.event ?? "?").padEnd(18);
  const line = printable(`${time} ${mark} ${event} ${what}  ${v.id ?? ""} (${v.scheme}${v.attempt ? `, attempt ${v.attempt}` : ""})`);
  return forwarded ? `${line}\n${printable(`         → [${forwarded.status ?? forwarded.error}] ${target} (${forwarded.durationMs} ms)`)}` : line;
}
