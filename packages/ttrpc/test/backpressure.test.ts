import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { once } from "node:events";
import { createServer, createConnection, type Socket } from "node:net";
import { join } from "node:path";
import { setImmediate as tick } from "node:timers/promises";
import { classOf } from "@berth/core";
import { FrameWriter } from "../src/frame-writer.js";
import { createTtrpcClient, createTtrpcServer, MessageType, readFrames, type TtrpcServer } from "../src/index.js";
import { STREAM_BUFFER_MESSAGES } from "../src/message-queue.js";
import { Echo } from "./echo-service.js";
import { tempDir } from "./helpers.js";

let dir: string;
let cleanup: () => Promise<void>;

beforeEach(async () => {
  ({ dir, cleanup } = await tempDir());
});
afterEach(async () => {
  await cleanup();
});

async function socketPair(path: string): Promise<{ local: Socket; remote: Socket; close: () => void }> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(path, resolve));
  const accepted = once(server, "connection") as Promise<[Socket]>;
  const local = createConnection({ path });
  await once(local, "connect");
  const [remote] = await accepted;
  return {
    local,
    remote,
    close: () => {
      local.destroy();
      remote.destroy();
      server.close();
    },
  };
}

describe("write backpressure", () => {
  it("holds sends while the peer does not read, and releases them, in order, as it does", async () => {
    const { local, remote, close } = await socketPair(join(dir, "pair.sock"));
    remote.pause();
    const writer = new FrameWriter(local);
    const frame = new Uint8Array(1 << 20);
    const total = 256; // 256 MiB: far more than the socket and kernel buffers hold
    let sent = 0;
    const sends = Array.from({ length: total }, (_, i) => writer.send(2 * i + 1, MessageType.Data, 0, [frame], frame.length).then(() => sent++));
    for (let i = 0; i < 20; i++) await tick();
    expect(sent).toBeGreaterThan(0);
    expect(sent).toBeLessThan(total);

    const ids: number[] = [];
    for await (const f of readFrames(remote)) {
      ids.push(f.streamId);
      if (ids.length === total) break;
    }
    await Promise.all(sends);
    expect(ids).toEqual(Array.from({ length: total }, (_, i) => 2 * i + 1));
    close();
  });
});

describe("a stream whose reader stops", () => {
  let server: TtrpcServer;
  let path: string;

  beforeEach(async () => {
    path = join(dir, "b.sock");
    server = createTtrpcServer();
    server.register(Echo, {
      say: async (req) => ({ text: req.text }),
      async *count(_req, ctx) {
        for (let i = 0n; !ctx.signal.aborted; i++) yield { n: i };
      },
    });
    await server.listen(path);
  });
  afterEach(async () => {
    await server.close();
  });

  it("holds the connection back only briefly, then fails with ResourceExhausted while other calls go on", async () => {
    const client = createTtrpcClient(path, Echo);
    const stream = client.count({})[Symbol.asyncIterator]();
    expect((await stream.next()).value?.n).toBe(0n);
    // The stream is left unread: its buffer fills, the connection stalls, then the stream is dropped
    // and this call, queued behind it, is answered.
    expect((await client.say({ text: "behind" })).text).toBe("behind");
    let received = 1;
    const err = await (async () => {
      for (;;) {
        if ((await stream.next()).done) return undefined;
        received++;
      }
    })().catch((e: unknown) => e);
    expect(classOf(err)).toBe("ResourceExhausted");
    // What was buffered before the stall is still delivered.
    expect(received).toBeGreaterThanOrEqual(STREAM_BUFFER_MESSAGES);
    await client.close();
  });
});
