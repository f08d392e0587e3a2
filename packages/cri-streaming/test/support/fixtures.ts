import { createServer, type Server, connect } from "node:net";
import { pipeline } from "node:stream/promises";
import { once } from "node:events";
import { createStreamingServer, type StreamingHandlers, type StreamingServer, type StreamingServerOptions, type TerminalSize } from "../../src/index.js";

export async function readAll(r: AsyncIterable<unknown>): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of r) parts.push(Buffer.from(c as Buffer));
  return Buffer.concat(parts);
}

/** A real TCP echo server on loopback. */
export async function startEchoServer(): Promise<{ port: number; close(): Promise<void> }> {
  const server: Server = createServer((c) => {
    c.on("error", () => {});
    c.pipe(c);
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const port = (server.address() as { port: number }).port;
  return { port, close: () => new Promise((r) => server.close(() => r())) };
}

export interface Recorded {
  resizes: TerminalSize[];
  calls: string[];
}

/**
 * Handlers that behave like a tiny container: `cat` echoes stdin to stdout, `fail N` writes to
 * stderr and exits N, `resize` reports the sizes it saw, `crash` throws; port-forward dials
 * 127.0.0.1:<port> for real.
 */
export function testHandlers(rec: Recorded): StreamingHandlers {
  return {
    async exec(containerId, cmd, s) {
      rec.calls.push(`exec ${containerId} ${cmd.join(" ")}`);
      const [name, arg] = cmd;
      if (name === "crash") throw new Error("no such container: " + containerId);
      if (name === "resize") {
        for await (const size of s.resize) {
          rec.resizes.push(size);
          s.stdout?.write(`${size.width}x${size.height}\n`);
          if (rec.resizes.length === Number(arg ?? 2)) break;
        }
        return { exitCode: 0 };
      }
      const input = s.stdin ? await readAll(s.stdin) : Buffer.alloc(0);
      s.stdout?.write(input);
      if (name === "fail") {
        s.stderr?.write("failing on purpose\n");
        return { exitCode: Number(arg) };
      }
      return { exitCode: 0 };
    },
    async attach(containerId, s) {
      rec.calls.push(`attach ${containerId}`);
      s.stdout?.write("attached to " + containerId + "\n");
      if (s.stdin) s.stdout?.write(await readAll(s.stdin));
    },
    async portForward(podSandboxId, port, stream) {
      rec.calls.push(`portforward ${podSandboxId} ${port}`);
      const c = connect(port, "127.0.0.1");
      c.on("error", () => {});
      await once(c, "connect");
      await Promise.all([pipeline(stream, c), pipeline(c, stream)]);
    },
  };
}

export async function startServer(extra: Partial<StreamingServerOptions> = {}): Promise<{ server: StreamingServer; rec: Recorded }> {
  const rec: Recorded = { resizes: [], calls: [] };
  const server = await createStreamingServer({ handlers: testHandlers(rec), ...extra });
  return { server, rec };
}
