import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { signatureHeaders } from "../../src/domain/signature-schemes";
import { generateSecret } from "../../src/domain/signing";
import { verify } from "../../src/receiver/verify";
import { startReceiver } from "../../../scripts/cli/receive";

/** An app endpoint: answers each request with the next status of `answers` ("hang": never). */
async function app(answers: (number | "hang")[]) {
  const got: { method: string; headers: IncomingHttpHeaders; body: Buffer }[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      got.push({ method: req.method ?? "", headers: req.headers, body: Buffer.concat(chunks) });
      const answer = answers[got.length - 1] ?? 200;
      if (answer !== "hang") res.writeHead(answer).end("app");
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks/owlette`,
    got,
    stop: () => {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(resolve));
    },
  };
}

const secret = generateSecret();
function delivery(id: string, attempt: number) {
  const body = JSON.stringify({ id, event: "process.crashed", data: { machineName: "PC1" } });
  const headers = signatureHeaders("standard", { body, messageId: id, timestampSeconds: Math.floor(Date.now() / 1000), secrets: [secret] }) as Record<
    string,
    string
  >;
  return { body, headers: { "Content-Type": "application/json", "User-Agent": "Owlette-Webhooks/1", "X-Owlette-Attempt": String(attempt), ...headers } };
}

describe("cli receive --forward-to", () => {
  it("hands each verified delivery on byte for byte, answers with the app's status, and forwards a retry of a refused one again", async () => {
    const target = await app([500, 200]);
    const lines: string[] = [];
    const receiver = await startReceiver({ port: 0, secrets: [secret], json: true, print: (l) => lines.push(l), forwardTo: target.url });
    try {
      const send = (d: ReturnType<typeof delivery>, headers: Record<string, string> = d.headers) =>
        fetch(receiver.url("/"), { method: "POST", headers, body: d.body }).then((r) => r.status);
      const first = delivery("evt_fwd1", 1);
      expect(await send(first)).toBe(500);
      expect(await send(delivery("evt_fwd1", 2))).toBe(200);
      // Processed once the app took it: the same id again is a duplicate, not forwarded.
      expect(await send(delivery("evt_fwd1", 3))).toBe(200);
      // A bad signature never reaches the app.
      expect(await send(first, { ...first.headers, "webhook-signature": "v1,AAAA" })).toBe(401);
      expect(target.got).toHaveLength(2);

      const [got] = target.got;
      expect(got?.method).toBe("POST");
      expect(got?.body.toString()).toBe(first.body);
      // The app can verify the forwarded delivery itself: the signature headers came along.
      const plain = Object.fromEntries(Object.entries(got?.headers ?? {}).map(([k, v]) => [k, String(v)]));
      expect(verify(got?.body ?? "", plain, secret)).toMatchObject({ ok: true, id: "evt_fwd1" });
      expect(got?.headers["user-agent"]).toBe("Owlette-Webhooks/1");
      expect(got?.headers["x-owlette-attempt"]).toBe("1");

      const parsed = lines.map((l) => JSON.parse(l));
      expect(parsed.map((p) => [p.status, p.forwarded?.status ?? null])).toEqual([
        ["accepted", 500],
        ["accepted", 200],
        ["duplicate", null],
        ["rejected", null],
      ]);
    } finally {
      await receiver.close();
      await target.stop();
    }
  });

  it("answers 502 when the app is unreachable and 504 when it does not answer in time", async () => {
    const target = await app(["hang"]);
    const closed = await app([]);
    await closed.stop();
    const quiet = { json: true, print: () => {}, forwardTimeoutMs: 300 };
    const down = await startReceiver({ port: 0, secrets: [secret], forwardTo: closed.url, ...quiet });
    const slow = await startReceiver({ port: 0, secrets: [secret], forwardTo: target.url, ...quiet });
    try {
      const d = delivery("evt_fwd2", 1);
      expect((await fetch(down.url("/"), { method: "POST", headers: d.headers, body: d.body })).status).toBe(502);
      expect((await fetch(slow.url("/"), { method: "POST", headers: d.headers, body: d.body })).status).toBe(504);
    } finally {
      await Promise.all([down.close(), slow.close()]);
      await target.stop();
    }
  });
});
