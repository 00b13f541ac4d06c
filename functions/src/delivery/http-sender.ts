import * as http from "node:http";
import * as https from "node:https";
import { isIP, type LookupFunction } from "node:net";
import type { AttemptResult, DeliveryErrorWord } from "../domain/attempt-result";

export interface OutgoingRequest {
  url: URL;
  /** The address the SSRF guard checked; the request connects there without a second lookup. */
  address?: string;
  method: "POST" | "PUT" | "PATCH";
  headers: Record<string, string>;
  body: string;
  timeoutMs: number;
  /** Deadline for the TCP (and TLS) connection alone; defaults to the smaller of 5 s and timeoutMs. */
  connectTimeoutMs?: number;
  /** How much of the response body is kept for the delivery record. */
  snippetBytes: number;
}

export type Sender = (request: OutgoingRequest) => Promise<AttemptResult>;

function errorWord(err: NodeJS.ErrnoException): DeliveryErrorWord {
  switch (err.code) {
    case "ECONNREFUSED":
      return "connection_refused";
    case "ECONNRESET":
    case "EPIPE":
      return "connection_reset";
    case "ENOTFOUND":
    case "EAI_AGAIN":
      return "dns_error";
    default:
      return err.code?.startsWith("ERR_TLS") || err.code?.includes("CERT") ? "tls_error" : "network_error";
  }
}

/** A dns.lookup stand-in that answers with the one address already checked. */
function pinnedLookup(address: string): LookupFunction {
  const family = isIP(address) === 6 ? 6 : 4;
  // With autoSelectFamily (Node's default) the caller asks for all addresses.
  return ((_host: string, opts: { all?: boolean }, cb: (...args: unknown[]) => void) => {
    if (opts?.all) cb(null, [{ address, family }]);
    else cb(null, address, family);
  }) as unknown as LookupFunction;
}

/**
 * One HTTP request with a hard deadline over the whole exchange. Node's http client never
 * follows redirects, so a 3xx comes back as a status. Only the first `snippetBytes` of the
 * response are read; the connection is then dropped rather than draining a huge body.
 */
export const sendHttp: Sender = (request) =>
  new Promise<AttemptResult>((resolve) => {
    const started = process.hrtime.bigint();
    const elapsed = () => Number((process.hrtime.bigint() - started) / 1_000_000n);
    let settled = false;
    const finish = (result: AttemptResult) => {
      if (settled) return;
      settled = true;
      clearTimeout(deadline);
      resolve(result);
    };
    // Once the status line is in, a receiver that stalls on its body still answered.
    const chunks: Buffer[] = [];
    let finishWithResponse: (() => void) | null = null;
    const client = request.url.protocol === "https:" ? https : http;
    const req = client.request(
      request.url,
      {
        method: request.method,
        headers: { ...request.headers, "Content-Length": Buffer.byteLength(request.body) },
        agent: false,
        ...(request.address ? { lookup: pinnedLookup(request.address) } : {}),
      },
      (res) => {
        let kept = 0;
        const retryAfter = res.headers["retry-after"];
        const answered = () =>
          finish({
            kind: "response",
            status: res.statusCode ?? 0,
            durationMs: elapsed(),
            bodySnippet: Buffer.concat(chunks).toString("utf8"),
            ...(typeof retryAfter === "string" ? { retryAfter } : {}),
          });
        finishWithResponse = answered;
        const done = () => {
          answered();
          res.destroy();
        };
        res.on("data", (chunk: Buffer) => {
          if (kept < request.snippetBytes) {
            const part = chunk.subarray(0, request.snippetBytes - kept);
            chunks.push(part);
            kept += part.length;
          }
          if (kept >= request.snippetBytes) done();
        });
        res.on("end", done);
        res.on("error", done);
      },
    );
    const deadline = setTimeout(() => {
      if (finishWithResponse) finishWithResponse();
      else finish({ kind: "error", error: "timeout", durationMs: elapsed(), detail: `no response within ${request.timeoutMs} ms` });
      req.destroy();
    }, request.timeoutMs);
    const connectMs = request.connectTimeoutMs ?? Math.min(5_000, request.timeoutMs);
    req.on("socket", (socket) => {
      const connectDeadline = setTimeout(() => {
        finish({ kind: "error", error: "timeout", durationMs: elapsed(), detail: `no connection within ${connectMs} ms` });
        req.destroy();
      }, connectMs);
      socket.once(request.url.protocol === "https:" ? "secureConnect" : "connect", () => clearTimeout(connectDeadline));
      socket.once("close", () => clearTimeout(connectDeadline));
    });
    req.on("error", (err: NodeJS.ErrnoException) => finish({ kind: "error", error: errorWord(err), durationMs: elapsed(), detail: err.code ?? err.message }));
    req.end(request.body);
  }).catch((err: NodeJS.ErrnoException) => ({
    // What the client refuses to send (a header value it cannot encode, say) is a failed
    // attempt like any other, never an exception that would lose the delivery.
    kind: "error" as const,
    error: "invalid_request" as const,
    durationMs: 0,
    detail: err.code ?? err.message,
  }));
