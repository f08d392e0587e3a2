import type { Duplex } from "node:stream";
import type { Logger } from "@berth/core";
import { silentLogger } from "@berth/core";
import { StreamHeader, StreamType } from "../protocols.js";
import { SpdyServerSession } from "../spdy/spdy-session.js";
import type { SpdyStream } from "../spdy/spdy-stream.js";
import { writeAndWait } from "../stream-util.js";
import type { RemoteCommandSession, RequestedStreams } from "./remote-command-session.js";
import { encodeStatus } from "./status.js";

export interface SpdyRemoteCommandOptions {
  protocol: string;
  requested: RequestedStreams;
  logger?: Logger;
  idleTimeoutMs: number;
  streamCreationTimeoutMs: number;
}

const KNOWN_TYPES = new Set<string>([StreamType.error, StreamType.stdin, StreamType.stdout, StreamType.stderr, StreamType.resize]);

/**
 * Runs the server side of remotecommand over an upgraded SPDY socket: waits until the client
 * has opened every stream the request implies (error, plus stdin/stdout/stderr as asked, plus
 * resize for a tty on v3+), then hands them over. Resolves undefined (and hangs up) if they do
 * not all arrive within the creation timeout or the client leaves first.
 */
export function acceptSpdyRemoteCommand(socket: Duplex, head: Buffer, opts: SpdyRemoteCommandOptions): Promise<RemoteCommandSession | undefined> {
  const log = opts.logger ?? silentLogger;
  const { requested } = opts;
  const resizeSupported = opts.protocol === "v3.channel.k8s.io" || opts.protocol === "v4.channel.k8s.io";
  const expected = 1 + Number(requested.stdin) + Number(requested.stdout) + Number(requested.stderr) + Number(requested.tty && resizeSupported);
  const byType = new Map<string, SpdyStream>();

  return new Promise((resolve) => {
    let settled = false;
    const settle = (value: RemoteCommandSession | undefined): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(value);
    };
    const session = new SpdyServerSession(socket, head, {
      logger: log,
      idleTimeoutMs: opts.idleTimeoutMs,
      onStream(stream) {
        const type = stream.header(StreamHeader.streamType) ?? "";
        if (settled) throw new Error(`unexpected ${type || "untyped"} stream after the session started`);
        if (!KNOWN_TYPES.has(type)) throw new Error(`unexpected stream type ${JSON.stringify(type)}`);
        if (byType.has(type)) throw new Error(`a ${type} stream already exists`);
        byType.set(type, stream);
        if (byType.size === expected) queueMicrotask(() => settle(makeSession()));
      },
    });
    const timer = setTimeout(() => {
      log.warn("streaming: timed out waiting for the client to create streams", { expected, received: [...byType.keys()] });
      settle(undefined);
      void session.close();
    }, opts.streamCreationTimeoutMs);
    timer.unref();
    session.signal.addEventListener("abort", () => settle(undefined));

    const makeSession = (): RemoteCommandSession => {
      const error = byType.get(StreamType.error);
      const json = opts.protocol === "v4.channel.k8s.io";
      return {
        ...(byType.has(StreamType.stdin) ? { stdin: byType.get(StreamType.stdin)! } : {}),
        ...(byType.has(StreamType.stdout) ? { stdout: byType.get(StreamType.stdout)! } : {}),
        ...(byType.has(StreamType.stderr) ? { stderr: byType.get(StreamType.stderr)! } : {}),
        ...(byType.has(StreamType.resize) ? { resize: byType.get(StreamType.resize)! } : {}),
        tty: requested.tty,
        signal: session.signal,
        async writeStatus(status) {
          const bytes = encodeStatus(status, json);
          if (error && bytes) await writeAndWait(error, bytes);
        },
        async close() {
          for (const s of byType.values()) if (!s.writableEnded && !s.destroyed) s.end();
          await session.close();
        },
      };
    };
  });
}
