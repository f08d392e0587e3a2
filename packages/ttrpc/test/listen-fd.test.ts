// A shim is handed its listening socket as fd 3 by the process that made it (containerd's
// `start` action does this): the server must serve an inherited listening fd.
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { execFile } from "node:child_process";
import { readFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { pathToFileURL } from "node:url";
import { shimTaskApi } from "@berth/api";
import { createTtrpcClient } from "../src/index.js";
import { alive, waitGone } from "./go-shim.js";
import { tempDir } from "./helpers.js";

const run = promisify(execFile);
const dist = pathToFileURL(resolve(import.meta.dirname, "../dist/index.js")).href;
const api = pathToFileURL(resolve(import.meta.dirname, "../node_modules/@berth/api/dist/index.js")).href;

// The long-running server: serves Task.state on fd 3 until it is shut down through the RPC.
const serverScript = `
import { createTtrpcServer } from ${JSON.stringify(dist)};
import { shimTaskApi } from ${JSON.stringify(api)};
const server = createTtrpcServer();
server.register(shimTaskApi.Task, {
  state: async (req) => ({ id: req.id, pid: process.pid }),
  shutdown: async () => (setImmediate(() => server.close()), {}),
});
await server.listen({ fd: 3 });
`;

// The starter: makes the socket, hands it to the server as fd 3, prints the server's pid and
// exits at once (process.exit leaves the socket file in place, as a shim's start does).
const starterScript = (path: string, log: string) => `
import { createServer } from "node:net";
import { spawn } from "node:child_process";
import { openSync } from "node:fs";
const listener = createServer();
listener.listen(${JSON.stringify(path)}, () => {
  // The server's output goes to a file: an inherited pipe would keep the starter's caller waiting.
  // Node shows a listening server's fd only on its handle.
  const out = openSync(${JSON.stringify(log)}, "a");
  const child = spawn(process.execPath, ["--input-type=module", "-e", ${JSON.stringify(serverScript)}], {
    stdio: ["ignore", out, out, listener._handle.fd],
    detached: true,
  });
  child.unref();
  console.log(child.pid);
  process.exit(0);
});
`;

let dir: string;
let cleanup: () => Promise<void>;
let serverPid: number | undefined;

beforeEach(async () => {
  ({ dir, cleanup } = await tempDir());
  serverPid = undefined;
});
afterEach(async () => {
  if (serverPid !== undefined && alive(serverPid)) process.kill(serverPid, "SIGKILL");
  await cleanup();
});

describe("listen({ fd })", () => {
  it("serves calls on a listening socket inherited from another process", async () => {
    const path = join(dir, "inherited.sock");
    const log = join(dir, "server.log");
    const { stdout } = await run(process.execPath, ["--input-type=module", "-e", starterScript(path, log)]);
    serverPid = Number(stdout.trim());
    expect(serverPid).toBeGreaterThan(0);

    const client = createTtrpcClient(path, shimTaskApi.Task);
    const state = await client.state({ id: "via-fd" }).catch(async (err: unknown) => {
      throw new Error(`no answer from the server on fd 3: ${String(err)}; its output: ${await readFile(log, "utf8")}`);
    });
    expect(state).toMatchObject({ id: "via-fd", pid: serverPid });
    await client.shutdown({ id: "via-fd" });
    await client.connection.closed;
    await waitGone(serverPid);
  });
});
