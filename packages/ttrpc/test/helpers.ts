import { mkdtemp, rm } from "node:fs/promises";
import { createConnection, createServer, type Server, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { create, toBinary } from "@bufbuild/protobuf";
import { ttrpcWire } from "@berth/api";
import { encodeHeader, readFrames, type DecodedFrame, type MessageType } from "../src/index.js";

/** A fresh directory for sockets; remove it with the returned function. */
export async function tempDir(): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), "berth-ttrpc-"));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

/** A raw socket speaking frames by hand, to poke at a server as no well-behaved client would. */
export interface RawPeer {
  readonly socket: Socket;
  send(streamId: number, type: MessageType, flags: number, data: Uint8Array): void;
  next(): Promise<DecodedFrame>;
  close(): void;
}

export async function rawConnect(path: string): Promise<RawPeer> {
  const socket = createConnection({ path });
  await new Promise<void>((resolve, reject) => {
    socket.once("connect", resolve);
    socket.once("error", reject);
  });
  return rawPeer(socket);
}

export function rawPeer(socket: Socket): RawPeer {
  const frames = readFrames(socket);
  return {
    socket,
    send(streamId, type, flags, data) {
      socket.write(encodeHeader(streamId, type, flags, data.length));
      if (data.length > 0) socket.write(data);
    },
    async next() {
      const { value, done } = await frames.next();
      if (done) throw new Error("connection ended");
      return value;
    },
    close: () => socket.destroy(),
  };
}

/** A raw server: hands each accepted connection to the test as a RawPeer. */
export async function rawListen(path: string): Promise<{ server: Server; accepted: Promise<RawPeer> }> {
  let accept!: (peer: RawPeer) => void;
  const accepted = new Promise<RawPeer>((resolve) => (accept = resolve));
  const server = createServer((socket) => accept(rawPeer(socket)));
  await new Promise<void>((resolve) => server.listen(path, resolve));
  return { server, accepted };
}

export function encodeRawRequest(init: { service: string; method: string; payload?: Uint8Array; timeoutNano?: bigint }): Uint8Array {
  return toBinary(ttrpcWire.RequestSchema, create(ttrpcWire.RequestSchema, init));
}

export async function collect<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of iterable) out.push(item);
  return out;
}

export async function* fromArray<T>(items: readonly T[]): AsyncGenerator<T> {
  for (const item of items) yield item;
}
