import type { Duplex } from "node:stream";
import type { Logger } from "@berth/core";
import { StreamHeader, StreamType } from "../protocols.js";
import { SpdyServerSession } from "../spdy/spdy-session.js";
import type { SpdyStream } from "../spdy/spdy-stream.js";
import { writeAndWait } from "../stream-util.js";
import type { StreamingHandlers } from "../types.js";
import { forwardOne } from "./forward-one.js";

export interface SpdyPortForwardOptions {
  podSandboxId: string;
  handlers: StreamingHandlers;
  logger: Logger;
  idleTimeoutMs: number;
  streamCreationTimeoutMs: number;
}

interface StreamPair {
  data?: SpdyStream;
  error?: SpdyStream;
  timer: NodeJS.Timeout;
}

/** Parses a port header: a decimal integer in 1..65535. */
export function parsePort(value: string | undefined): number | undefined {
  if (value === undefined || !/^\d{1,5}$/.test(value)) return undefined;
  const port = Number(value);
  return port >= 1 && port <= 65535 ? port : undefined;
}

/**
 * portforward.k8s.io over SPDY: for every local connection the client opens an error stream and
 * a data stream carrying the same `port` and `requestid` headers; once both are here, the pair
 * is one forwarded connection. Serves until the client hangs up.
 */
export async function serveSpdyPortForward(socket: Duplex, head: Buffer, opts: SpdyPortForwardOptions): Promise<void> {
  const pairs = new Map<string, StreamPair>();
  const running = new Set<Promise<void>>();
  const log = opts.logger;

  const requestIdOf = (stream: SpdyStream, type: string): string => {
    const id = stream.header(StreamHeader.requestId);
    if (id) return id;
    // Old clients send no request id: the data stream follows its error stream's id by 2.
    return String(type === StreamType.error ? stream.id : stream.id - 2);
  };

  const session: SpdyServerSession = new SpdyServerSession(socket, head, {
    logger: log,
    idleTimeoutMs: opts.idleTimeoutMs,
    onStream(stream) {
      const portText = stream.header(StreamHeader.port);
      const port = parsePort(portText);
      if (port === undefined) throw new Error(`"port" header ${JSON.stringify(portText ?? "")} is not a port in 1..65535`);
      const type = stream.header(StreamHeader.streamType) ?? "";
      if (type !== StreamType.data && type !== StreamType.error) throw new Error(`invalid stream type ${JSON.stringify(type)}`);
      const requestId = requestIdOf(stream, type);
      let pair = pairs.get(requestId);
      if (!pair) {
        const timer = setTimeout(() => {
          const p = pairs.get(requestId);
          pairs.delete(requestId);
          const message = `timed out waiting for the streams of port-forward request ${requestId}`;
          log.warn("streaming: " + message);
          if (p?.error) void writeAndWait(p.error, Buffer.from(message)).then(() => p.error?.end());
          p?.data?.destroy();
        }, opts.streamCreationTimeoutMs);
        timer.unref();
        pair = { timer };
        pairs.set(requestId, pair);
      }
      const slot = type === StreamType.data ? "data" : "error";
      if (pair[slot]) throw new Error(`${slot} stream of request ${requestId} already exists`);
      pair[slot] = stream;
      const { data, error } = pair;
      if (data && error) {
        clearTimeout(pair.timer);
        pairs.delete(requestId);
        const dataPort = parsePort(data.header(StreamHeader.port))!;
        // Start after the SYN_REPLY is out (onStream runs before it is sent).
        queueMicrotask(() => {
          const run = forwardOne(opts.handlers, opts.podSandboxId, dataPort, data, error, session.signal, log);
          running.add(run);
          void run.finally(() => running.delete(run));
        });
      }
    },
  });
  await session.done;
  for (const p of pairs.values()) clearTimeout(p.timer);
  await Promise.allSettled([...running]);
}
