import * as http from "node:http";
import type { AddressInfo } from "node:net";
import { verify, type VerifyResult } from "../../functions/src/seam";

export interface ReceivedDelivery {
  path: string;
  method: string;
  headers: http.IncomingHttpHeaders;
  body: string;
  /** Response body bytes written before the client hung up or the stream ended. */
  streamed?: number;
  /** The payload, when the body is JSON. */
  payload: { id?: string; event?: string; timestamp?: string; site?: { id: string; name: string }; data?: Record<string, unknown> } | null;
  /** True when the signature (any scheme) matches the body under the secret registered for the path. */
  verified: boolean;
  /** The verification kit's verdict: the scheme it recognised, or why it refused. */
  verdict: VerifyResult;
  status: number | "hang" | "reset";
  receivedAt: number;
}

/**
 * What to answer the n-th request (1-based) to a path: a status (with headers, and optionally a
 * streamed body), "hang" until the client gives up, or "reset" to destroy the connection.
 */
export type Answer =
  | number
  | "hang"
  | "reset"
  | {
      status: number;
      headers?: Record<string, string>;
      /** Stream `bytes` bytes of body in `chunk`-byte pieces, `everyMs` apart (0: as fast as possible). */
      stream?: { bytes: number; chunk: number; everyMs: number };
      /** The response body, instead of "ok" / "not ok". */
      body?: string;
      /** Answer only after this long (a slow receiver). */
      delayMs?: number;
    };
export type Responder = (delivery: Omit<ReceivedDelivery, "status">, n: number) => Answer;

/**
 * A local webhook receiver: verifies every signature against the secret registered for the
 * request path and records what arrived. Used by the demo and the integration tests.
 */
export class Receiver {
  readonly deliveries: ReceivedDelivery[] = [];
  private readonly secrets = new Map<string, string>();
  private readonly responders = new Map<string, Responder>();
  private readonly listeners = new Set<(d: ReceivedDelivery) => void>();
  private readonly server: http.Server;
  private port = 0;

  constructor() {
    this.server = http.createServer((req, res) => this.handle(req, res));
  }

  async start(port = 0): Promise<this> {
    await new Promise<void>((resolve, reject) => {
      this.server.once("error", reject);
      this.server.listen(port, "127.0.0.1", resolve);
    });
    this.port = (this.server.address() as AddressInfo).port;
    return this;
  }

  /** The URL a webhook should point at to reach `path` on this receiver. */
  url(path: string): string {
    return `http://127.0.0.1:${this.port}${path}`;
  }

  register(path: string, secret: string, responder?: Responder): void {
    this.secrets.set(path, secret);
    if (responder) this.responders.set(path, responder);
  }

  respondWith(path: string, responder: Responder): void {
    this.responders.set(path, responder);
  }

  onDelivery(listener: (d: ReceivedDelivery) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  at(path: string): ReceivedDelivery[] {
    return this.deliveries.filter((d) => d.path === path);
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise((resolve) => this.server.close(resolve));
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse) {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const raw = Buffer.concat(chunks);
      const path = (req.url ?? "/").split("?")[0] ?? "/";
      const secret = this.secrets.get(path);
      let payload: ReceivedDelivery["payload"] = null;
      try {
        payload = JSON.parse(raw.toString("utf8"));
      } catch {
        payload = null;
      }
      const verdict = verify(raw, req.headers, secret ?? []);
      const base = {
        path,
        method: req.method ?? "",
        headers: req.headers,
        body: raw.toString("utf8"),
        payload,
        verified: verdict.ok,
        verdict,
        receivedAt: Date.now(),
      };
      const n = this.at(path).length + 1;
      const responder = this.responders.get(path);
      const answer = responder ? responder(base, n) : base.verified ? 200 : 401;
      const status = typeof answer === "object" ? answer.status : answer;
      const delivery: ReceivedDelivery = { ...base, status };
      this.deliveries.push(delivery);
      for (const listener of this.listeners) listener(delivery);
      if (status === "hang") return;
      if (status === "reset") {
        req.socket.destroy();
        return;
      }
      const delayMs = typeof answer === "object" ? (answer.delayMs ?? 0) : 0;
      if (delayMs > 0) {
        const timer = setTimeout(() => this.answer(res, answer, status), delayMs);
        res.on("close", () => clearTimeout(timer));
        return;
      }
      this.answer(res, answer, status, delivery);
    });
  }

  private answer(res: http.ServerResponse, answer: Answer, status: number, delivery?: ReceivedDelivery) {
    if (res.destroyed) return;
    {
      const headers = typeof answer === "object" ? (answer.headers ?? {}) : {};
      res.writeHead(status, { "Content-Type": "text/plain", ...headers });
      const stream = typeof answer === "object" ? answer.stream : undefined;
      if (!stream) {
        res.end(typeof answer === "object" && answer.body !== undefined ? answer.body : status < 300 ? "ok" : "not ok");
        return;
      }
      let sent = 0;
      const piece = Buffer.alloc(stream.chunk, "x");
      const pump = () => {
        // Stop as soon as the client hangs up: that is what the sender is expected to do.
        while (sent < stream.bytes && !res.destroyed) {
          sent += stream.chunk;
          const more = res.write(piece);
          if (stream.everyMs > 0) return void setTimeout(pump, stream.everyMs);
          if (!more) return void res.once("drain", pump);
        }
        if (!res.destroyed) res.end();
      };
      res.on("close", () => {
        if (delivery) delivery.streamed = sent;
      });
      pump();
    }
  }
}
