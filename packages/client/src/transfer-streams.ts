import { randomBytes } from "node:crypto";
import { packAny, streamingApi, transferTypes, unpackAny } from "@berth/api";
import type { ServiceClient } from "./service-client.js";

/** A google.protobuf.Any as the Streaming service carries it. */
export type AnyMessage = { typeUrl: string; value: Uint8Array };
type Streaming = ServiceClient<typeof streamingApi.Streaming>;

/**
 * A side channel opened on the daemon's Streaming service (containerd's StreamCreator): a
 * transfer names it by `id` to send progress, ask for credentials or move archive bytes.
 */
export interface OpenedStream {
  readonly id: string;
  /** The daemon's messages in order; done when the daemon closes the stream. */
  readonly incoming: AsyncIterator<AnyMessage>;
  send(message: AnyMessage): void;
  /** Ends what this side sends (the daemon sees the end of the data); the daemon may still send. */
  end(): void;
}

/** Opens a stream and waits for the daemon's acknowledgement. The call ends with `signal`. */
export async function openStream(streaming: Streaming, signal: AbortSignal): Promise<OpenedStream> {
  const id = randomBytes(12).toString("hex");
  const queue: AnyMessage[] = [];
  let ended = false;
  let wake: (() => void) | undefined;
  const poke = () => {
    wake?.();
    wake = undefined;
  };
  signal.addEventListener("abort", poke, { once: true });
  async function* requests(): AsyncGenerator<AnyMessage> {
    yield packAny(streamingApi.StreamInitSchema, { id });
    for (;;) {
      while (queue.length > 0) yield queue.shift()!;
      // Our side stays open until ended: closing it would tell the daemon there is no more.
      if (ended || signal.aborted) return;
      await new Promise<void>((resolve) => (wake = resolve));
    }
  }
  const incoming = streaming.stream(requests(), { signal, timeoutMs: 0 })[Symbol.asyncIterator]();
  const ack = await incoming.next();
  if (ack.done) throw new Error(`stream ${id} closed before the daemon acknowledged it`);
  return {
    id,
    incoming,
    send(message) {
      queue.push(message);
      poke();
    },
    end() {
      ended = true;
      poke();
    },
  };
}

/** Hands every message of the stream to `onMessage` until it ends (with the call, at the latest). */
export function consume(stream: OpenedStream, onMessage: (message: AnyMessage) => void): Promise<void> {
  return (async () => {
    try {
      for (let r = await stream.incoming.next(); !r.done; r = await stream.incoming.next()) onMessage(r.value);
    } catch {
      // The stream ends with the call.
    }
  })();
}

/** One progress report of a daemon-side transfer. */
export interface TransferProgress {
  readonly event: string;
  readonly name: string;
  readonly progress: number;
  readonly total: number;
  readonly mediaType?: string | undefined;
}

/** A stream on which the daemon reports progress (containerd's progress stream). */
export async function openProgressStream(streaming: Streaming, signal: AbortSignal, onProgress: (p: TransferProgress) => void): Promise<string> {
  const stream = await openStream(streaming, signal);
  void consume(stream, (message) => {
    const p = unpackAny(transferTypes.ProgressSchema, message);
    if (p) onProgress({ event: p.event, name: p.name, progress: Number(p.progress), total: Number(p.total), mediaType: p.desc?.mediaType });
  });
  return stream.id;
}

/** A stream on which the daemon asks for registry credentials, answered with these. */
export async function openAuthStream(streaming: Streaming, signal: AbortSignal, credentials: { username: string; password: string }): Promise<string> {
  const stream = await openStream(streaming, signal);
  void consume(stream, (message) => {
    if (unpackAny(transferTypes.AuthRequestSchema, message) === undefined) return;
    stream.send(packAny(transferTypes.AuthResponseSchema, { authType: transferTypes.AuthType.CREDENTIALS, username: credentials.username, secret: credentials.password }));
  });
  return stream.id;
}

/** The largest Data message sent, whatever the window. */
const MAX_DATA_MESSAGE = 1 << 20;
/** What this side grants at a time when receiving (containerd grants 64 KiB). */
const RECEIVE_WINDOW = 4 << 20;

/**
 * Sends `source` as containerd's transfer Data messages, never more than the daemon granted
 * with WindowUpdates, then ends this side. Resolves when all is handed to the stream.
 */
export async function sendBytes(stream: OpenedStream, source: AsyncIterable<Uint8Array>, signal: AbortSignal): Promise<void> {
  let credit = 0;
  let closed = false;
  let wake: (() => void) | undefined;
  const poke = () => {
    wake?.();
    wake = undefined;
  };
  void consume(stream, (message) => {
    const update = unpackAny(transferTypes.WindowUpdateSchema, message);
    if (update === undefined) return;
    credit += update.update;
    poke();
  }).finally(() => {
    closed = true;
    poke();
  });
  signal.addEventListener("abort", poke, { once: true });
  try {
    for await (const chunk of source) {
      let rest = chunk;
      while (rest.byteLength > 0) {
        while (credit <= 0) {
          signal.throwIfAborted();
          if (closed) throw new Error("the daemon closed the stream before taking all the data");
          await new Promise<void>((resolve) => (wake = resolve));
        }
        const n = Math.min(rest.byteLength, credit, MAX_DATA_MESSAGE);
        stream.send(packAny(transferTypes.DataSchema, { data: rest.subarray(0, n) }));
        credit -= n;
        rest = rest.subarray(n);
      }
    }
  } finally {
    stream.end();
  }
}

/** The bytes the daemon sends as Data messages, granting it windows as they are consumed. */
export async function* receiveBytes(stream: OpenedStream): AsyncGenerator<Uint8Array> {
  let granted = 0;
  const grant = () => {
    stream.send(packAny(transferTypes.WindowUpdateSchema, { update: RECEIVE_WINDOW }));
    granted += RECEIVE_WINDOW;
  };
  grant();
  for (let r = await stream.incoming.next(); !r.done; r = await stream.incoming.next()) {
    const data = unpackAny(transferTypes.DataSchema, r.value);
    if (data === undefined) continue;
    granted -= data.data.byteLength;
    if (granted < RECEIVE_WINDOW) grant();
    if (data.data.byteLength > 0) yield data.data;
  }
}
