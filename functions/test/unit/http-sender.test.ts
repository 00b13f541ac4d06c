import * as http from "node:http";
import type { AddressInfo } from "node:net";
import { sendHttp, type OutgoingRequest } from "../../src/delivery/http-sender";

let server: http.Server;
let base: string;
const seen: { method?: string; headers: http.IncomingHttpHeaders; body: string }[] = [];

beforeAll(async () => {
  server = http.createServer((req, res) => {
    let body = "";
    req.on("data", (c) => (body += c));
    req.on("end", () => {
      seen.push({ method: req.method, headers: req.headers, body });
      switch (req.url) {
        case "/ok":
          res.writeHead(200).end("thanks");
          return;
        case "/fail":
          res.writeHead(500).end("boom");
          return;
        case "/redirect":
          res.writeHead(302, { Location: "/ok" }).end();
          return;
        case "/huge":
          res.writeHead(200);
          res.write("x".repeat(64 * 1024));
          return; // never ends: the sender must stop reading after its cap
        case "/stall-body":
          res.writeHead(202);
          res.write("partial");
          return;
        case "/hang":
          return;
        case "/reset":
          req.socket.destroy();
          return;
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

const request = (path: string, overrides: Partial<OutgoingRequest> = {}): OutgoingRequest => ({
  url: new URL(`${base}${path}`),
  method: "POST",
  headers: { "Content-Type": "application/json", "X-Test": "1" },
  body: '{"hello":"wörld"}',
  timeoutMs: 2000,
  snippetBytes: 1024,
  ...overrides,
});

describe("sendHttp", () => {
  it("posts the exact body with its headers and returns the status and response start", async () => {
    const result = await sendHttp(request("/ok"));
    expect(result).toMatchObject({ kind: "response", status: 200, bodySnippet: "thanks" });
    const last = seen.at(-1);
    expect(last?.body).toBe('{"hello":"wörld"}');
    expect(last?.headers["content-length"]).toBe(String(Buffer.byteLength('{"hello":"wörld"}')));
    expect(last?.headers["x-test"]).toBe("1");
  });

  it("returns error statuses as responses", async () => {
    expect(await sendHttp(request("/fail"))).toMatchObject({ kind: "response", status: 500, bodySnippet: "boom" });
  });

  it("never follows a redirect", async () => {
    const before = seen.length;
    expect(await sendHttp(request("/redirect"))).toMatchObject({ kind: "response", status: 302 });
    expect(seen.length).toBe(before + 1);
  });

  it("reads no more than the snippet cap of a huge body", async () => {
    const result = await sendHttp(request("/huge", { snippetBytes: 100 }));
    expect(result).toMatchObject({ kind: "response", status: 200 });
    if (result.kind === "response") expect(result.bodySnippet).toBe("x".repeat(100));
  });

  it("cuts off a receiver that never answers and reports a timeout", async () => {
    const result = await sendHttp(request("/hang", { timeoutMs: 300 }));
    expect(result).toMatchObject({ kind: "error", error: "timeout" });
    expect(result.durationMs).toBeGreaterThanOrEqual(290);
    expect(result.durationMs).toBeLessThan(2000);
  });

  it("keeps the status of a receiver that answers and then stalls its body", async () => {
    const result = await sendHttp(request("/stall-body", { timeoutMs: 300 }));
    expect(result).toMatchObject({ kind: "response", status: 202, bodySnippet: "partial" });
  });

  it("reports a reset connection and a refused one", async () => {
    expect(await sendHttp(request("/reset"))).toMatchObject({ kind: "error", error: "connection_reset" });
    const closed = http.createServer();
    await new Promise<void>((resolve) => closed.listen(0, "127.0.0.1", resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const result = await sendHttp({ ...request("/ok"), url: new URL(`http://127.0.0.1:${port}/`) });
    expect(result).toMatchObject({ kind: "error", error: "connection_refused" });
  });
});
