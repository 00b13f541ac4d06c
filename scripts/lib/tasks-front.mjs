// A front for the Cloud Tasks emulator that keeps each task's schedule.
//
// The emulator dispatches a task as soon as it is enqueued, whatever its scheduleTime: on the
// bare suite a webhook's five attempts (production schedule 0 s, 1 min, 5 min, 30 min, 2 h)
// ran within a second. Cloud Tasks never dispatches a task before its scheduleTime. This front
// speaks the emulator's enqueue API: a task due later is held here and handed to the emulator
// at its time; everything else passes straight through. Task names keep Cloud Tasks' rule (a
// name is refused while its task is held or after the emulator took it: 409, which the Admin
// SDK reports as functions/task-already-exists), and a held task can be deleted.
//
// Held tasks live in this process, as the emulator's queue lives in its own: stopping the
// suite drops both.
import { createServer } from "node:http";

const ENQUEUE = /^\/projects\/[^/]+\/locations\/[^/]+\/queues\/[^/]+\/tasks$/;
const TASK = /^\/projects\/[^/]+\/locations\/[^/]+\/queues\/[^/]+\/tasks\/[^/]+$/;
/** setTimeout's longest wait; a later task waits in steps. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * Listens on 127.0.0.1:`port` in front of the emulator at `target` ("host:port").
 * `onError(message)` hears of a held task the emulator would not take at its time.
 * Resolves to { stop(), held() } once listening.
 */
export function startTasksFront({ port, target, onError = () => {} }) {
  /** Task name -> { timer, path, headers, body, dueMs } */
  const held = new Map();
  /** Names the emulator has taken: it refuses them again for as long as it runs. */
  const taken = new Set();

  const send = async (method, path, headers, body) => {
    const res = await fetch(`http://${target}${path}`, { method, headers, body: method === "GET" || method === "HEAD" ? undefined : body });
    return { status: res.status, type: res.headers.get("content-type") ?? "text/plain", body: Buffer.from(await res.arrayBuffer()) };
  };

  const release = (name) => {
    const entry = held.get(name);
    if (!entry) return;
    const wait = entry.dueMs - Date.now();
    if (wait > 0) {
      entry.timer = setTimeout(() => release(name), Math.min(wait, MAX_TIMER_MS));
      return;
    }
    held.delete(name);
    send("POST", entry.path, entry.headers, entry.body)
      .then((res) => {
        if (res.status === 200) taken.add(name);
        // 409: the same name reached the emulator some other way first; Cloud Tasks would have
        // refused this one when it was enqueued. Dropped either way.
        else if (res.status !== 409) onError(`tasks: the emulator refused held task ${name} at its time (${res.status} ${res.body.toString().slice(0, 200)})`);
      })
      .catch((err) => onError(`tasks: held task ${name} could not reach the emulator at its time: ${err.message}`));
  };

  const server = createServer((req, res) => {
    const chunks = [];
    req.on("data", (c) => chunks.push(c));
    req.on("end", () => {
      const body = Buffer.concat(chunks);
      const path = new URL(req.url ?? "/", "http://front").pathname;
      const headers = { "content-type": req.headers["content-type"] ?? "application/json", authorization: req.headers.authorization ?? "" };
      const reply = (status, payload, type = "application/json") => {
        res.writeHead(status, { "content-type": type });
        res.end(typeof payload === "string" || Buffer.isBuffer(payload) ? payload : JSON.stringify(payload));
      };

      if (req.method === "POST" && ENQUEUE.test(path)) {
        let task;
        try {
          task = JSON.parse(body.toString()).task;
        } catch {
          task = undefined;
        }
        const name = typeof task?.name === "string" ? task.name.replace(/^\/+/, "") : undefined;
        if (name && (held.has(name) || taken.has(name))) {
          reply(409, "A task with the same name already exists", "text/plain");
          return;
        }
        const dueMs = Date.parse(task?.scheduleTime ?? "");
        if (name && Number.isFinite(dueMs) && dueMs > Date.now()) {
          held.set(name, { path, headers, body, dueMs, timer: undefined });
          release(name);
          reply(200, { task });
          return;
        }
        send("POST", path, headers, body)
          .then((r) => {
            if (r.status === 200 && name) taken.add(name);
            reply(r.status, r.body, r.type);
          })
          .catch((err) => reply(502, { error: { status: "UNAVAILABLE", message: `the Cloud Tasks emulator: ${err.message}` } }));
        return;
      }

      if (req.method === "DELETE" && TASK.test(path)) {
        const name = path.replace(/^\/+/, "");
        const entry = held.get(name);
        if (entry) {
          clearTimeout(entry.timer);
          held.delete(name);
          reply(200, { res: "OK" });
          return;
        }
      }

      send(req.method ?? "GET", path, headers, body)
        .then((r) => reply(r.status, r.body, r.type))
        .catch((err) => reply(502, { error: { status: "UNAVAILABLE", message: `the Cloud Tasks emulator: ${err.message}` } }));
    });
  });

  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", () =>
      resolve({
        held: () => held.size,
        stop: () => {
          for (const entry of held.values()) clearTimeout(entry.timer);
          held.clear();
          server.close();
          server.closeAllConnections?.();
        },
      }),
    );
  });
}
