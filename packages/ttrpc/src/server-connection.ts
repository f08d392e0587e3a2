import type { Socket } from "node:net";
import type { DescMethod } from "@bufbuild/protobuf";
import {
  canceled,
  deadlineExceeded,
  invalidArgument,
  notImplemented,
  resourceExhausted,
  unavailable,
  validateIdentifier,
  type BerthError,
  type CallContext,
  type Logger,
} from "@berth/core";
import type { ttrpcWire } from "@berth/api";
import { decodeRequest, encodeResponse, type ResponseStatus } from "./envelope.js";
import { Flag, hasFlag, MAX_DATA_LENGTH, MessageType, type Frame } from "./frame.js";
import { readFrames } from "./frame-reader.js";
import { FrameWriter } from "./frame-writer.js";
import { MessageQueue, STREAM_BUFFER_MESSAGES, STREAM_STALL_MS } from "./message-queue.js";
import { fromKeyValues, TTRPC_NAMESPACE_HEADER } from "./metadata.js";
import { runServerCall, type AnyHandler } from "./server-call.js";
import { oversizedError, statusFromError } from "./status.js";

/** Finds the handler for a request's service and method names. */
export interface HandlerLookup {
  find(service: string, method: string): { method: DescMethod; handler: AnyHandler } | BerthError;
}

interface ActiveCall {
  /** The client's stream data, for methods the client streams into; ends at its remote-closed. */
  readonly input: MessageQueue<Uint8Array> | undefined;
  readonly controller: AbortController;
}

const EMPTY = new Uint8Array(0);
// setTimeout takes at most a signed 32-bit count of milliseconds (~24.8 days).
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * The server's side of one connection: reads frames, starts a call per request, routes stream
 * data to the calls that take it, and answers protocol errors on the offending stream with a
 * status, as Go's server does. Handlers run concurrently; each answer is written in the order
 * it is ready.
 */
export class ServerConnection {
  readonly #socket: Socket;
  readonly #writer: FrameWriter;
  readonly #lookup: HandlerLookup;
  readonly #log: Logger | undefined;
  readonly #calls = new Map<number, ActiveCall>();
  /** Aborted when the connection ends: every handler's signal follows it. */
  readonly #closed = new AbortController();
  /**
   * The reason a finished call's signal aborts with: one per connection, because building an
   * error (a DOMException by default) for every call cost more than the rest of the call's end.
   */
  readonly #callFinished = canceled("ttrpc: the call has finished");
  #lastStreamId = 0;
  #draining = false;

  constructor(socket: Socket, lookup: HandlerLookup, log: Logger | undefined) {
    this.#socket = socket;
    this.#writer = new FrameWriter(socket);
    this.#lookup = lookup;
    this.#log = log;
  }

  /** Serves until the connection ends. */
  async run(): Promise<void> {
    let cause: unknown;
    try {
      for await (const frame of readFrames(this.#socket)) {
        if (frame.oversized) {
          this.#calls.get(frame.streamId)?.input?.fail(oversizedError(frame.length));
          this.#reject(frame.streamId, oversizedError(frame.length));
        } else if (frame.streamId % 2 !== 1) {
          this.#reject(frame.streamId, invalidArgument("ttrpc: stream id must be odd for client-initiated streams"));
        } else if (frame.type === MessageType.Request) {
          this.#startCall(frame);
        } else if (frame.type === MessageType.Data) {
          const wait = this.#receiveData(frame);
          if (wait) await wait;
        }
        // Other message types are ignored: room for the protocol to grow, as Go's server leaves it.
      }
    } catch (err) {
      cause = err;
    }
    this.#end(cause);
  }

  get activeCalls(): number {
    return this.#calls.size;
  }

  /** Ends the connection once its calls have answered (at once when it has none). */
  drain(): void {
    this.#draining = true;
    if (this.#calls.size === 0) this.#socket.end();
  }

  /** Ends the connection now; handlers see their signals abort. */
  destroy(): void {
    this.#end(undefined);
  }

  #startCall(frame: Frame): void {
    const id = frame.streamId;
    if (id <= this.#lastStreamId) {
      this.#reject(id, invalidArgument("ttrpc: stream id cannot be reused and must increase"));
      return;
    }
    this.#lastStreamId = id;

    let request: ttrpcWire.Request;
    try {
      request = decodeRequest(frame.data);
    } catch (err) {
      this.#reject(id, invalidArgument(`ttrpc: cannot decode request: ${(err as Error).message}`, err));
      return;
    }
    const found = this.#lookup.find(request.service, request.method);
    if (found instanceof Error) {
      this.#reject(id, found);
      return;
    }
    const { method, handler } = found;

    const metadata = fromKeyValues(request.metadata);
    const namespace = metadata.get(TTRPC_NAMESPACE_HEADER)?.[0];
    try {
      if (namespace !== undefined) validateIdentifier(namespace);
    } catch (err) {
      this.#reject(id, err);
      return;
    }

    const clientStreams = method.methodKind === "client_streaming" || method.methodKind === "bidi_streaming";
    const input = clientStreams ? new MessageQueue<Uint8Array>(STREAM_BUFFER_MESSAGES) : undefined;
    if (input) {
      // A streaming client may put its first message in the request (Go's server accepts it too).
      if (request.payload.length > 0) input.push(request.payload);
      if (hasFlag(frame.flags, Flag.RemoteClosed)) input.end();
    }
    const controller = new AbortController();
    const signal = AbortSignal.any([controller.signal, this.#closed.signal]);
    const timer = deadlineTimer(request.timeoutNano, controller);
    this.#calls.set(id, { input, controller });

    const ctx: CallContext = { namespace, metadata, signal };
    void runServerCall({
      method,
      handler,
      ctx,
      payload: request.payload,
      input,
      log: this.#log,
      io: {
        respond: (status, payload) => this.#respond(id, status, payload),
        sendData: (flags, payload) => {
          if (payload.length > MAX_DATA_LENGTH) return Promise.reject(oversizedError(payload.length));
          return this.#writer.send(id, MessageType.Data, flags, [payload], payload.length);
        },
      },
    }).finally(() => {
      if (timer) clearTimeout(timer);
      controller.abort(this.#callFinished); // releases what listens on the call's signal
      this.#calls.delete(id);
      if (this.#draining && this.#calls.size === 0) this.#socket.end();
    });
  }

  #receiveData(frame: Frame): Promise<void> | undefined {
    const input = this.#calls.get(frame.streamId)?.input;
    if (!input) {
      this.#reject(frame.streamId, invalidArgument(`ttrpc: stream ${frame.streamId} is not active or takes no data`));
      return undefined;
    }
    if (!hasFlag(frame.flags, Flag.NoData)) input.push(frame.data);
    if (hasFlag(frame.flags, Flag.RemoteClosed)) input.end();
    if (!input.full) return undefined;
    return input.waitForRoom(STREAM_STALL_MS).then((room) => {
      if (!room) input.fail(resourceExhausted(`ttrpc: stream buffer full: the handler has not taken a message for ${STREAM_STALL_MS} ms`));
    });
  }

  /** Answers a stream with an error status (a protocol error, or a call that cannot start). */
  #reject(id: number, err: unknown): void {
    this.#respond(id, statusFromError(err), EMPTY).catch(() => {});
  }

  /** A response too large for a frame becomes a ResourceExhausted status, so the client hears why. */
  #respond(id: number, status: ResponseStatus, payload: Uint8Array): Promise<void> {
    let envelope = encodeResponse(status, payload);
    if (envelope.length > MAX_DATA_LENGTH) envelope = encodeResponse(statusFromError(oversizedError(envelope.length)), EMPTY);
    return this.#writer.send(id, MessageType.Response, 0, envelope.parts, envelope.length);
  }

  #end(cause: unknown): void {
    if (this.#closed.signal.aborted) return;
    const reason = unavailable("ttrpc: connection closed", cause);
    this.#closed.abort(reason);
    this.#writer.fail(reason);
    for (const call of this.#calls.values()) call.input?.fail(reason);
    this.#socket.destroy();
  }
}

function deadlineTimer(timeoutNano: bigint, controller: AbortController): NodeJS.Timeout | undefined {
  if (timeoutNano <= 0n) return undefined;
  const ms = Math.min(Number((timeoutNano + 999_999n) / 1_000_000n), MAX_TIMER_MS);
  return setTimeout(() => controller.abort(deadlineExceeded(`ttrpc: deadline of ${ms} ms exceeded`)), ms);
}
