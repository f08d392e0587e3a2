import type { Socket } from "node:net";
import { unavailable, type BerthError } from "@berth/core";
import { Flag, hasFlag, MAX_DATA_LENGTH, MessageType, type Frame } from "./frame.js";
import { readFrames } from "./frame-reader.js";
import { FrameWriter } from "./frame-writer.js";
import { encodeRequest, type RequestHead } from "./envelope.js";
import { connectionClosedError, oversizedError } from "./status.js";
import { connectUnix } from "./unix-socket.js";

/** One ttrpc connection from the client side; many calls, of any services, share it. */
export interface TtrpcConnection {
  /** Resolves, with the reason, once the connection has ended; every call in flight failed with it. */
  readonly closed: Promise<BerthError>;
  /** Ends the connection now; calls in flight fail with Unavailable. */
  close(): Promise<void>;
}

/** What a call does with the frames of its stream. */
export interface StreamReceiver {
  /** A frame for this stream; a returned promise holds the connection's reading until it settles. */
  receive(frame: Frame): Promise<void> | undefined;
  /** The stream ended without a response: the connection closed, or a frame was oversized. */
  fail(error: BerthError): void;
}

// Stream ids are u32 and client ids odd; after the last one a connection can start no more calls.
const MAX_STREAM_ID = 0xffff_ffff;

/** Opens a connection to a UNIX socket path (or unix:// address), or adopts a connected socket. */
export function connectTtrpc(target: string | Socket): ClientConnection {
  return new ClientConnection(typeof target === "string" ? connectUnix(target) : target);
}

/**
 * The client's side of the protocol: allocates odd, increasing stream ids, writes requests and
 * stream data, and routes each received frame to the call that owns its stream. Frames for a
 * stream nobody waits on any more (a call that timed out) are dropped, as Go's client does.
 */
export class ClientConnection implements TtrpcConnection {
  readonly closed: Promise<BerthError>;
  readonly #socket: Socket;
  readonly #writer: FrameWriter;
  readonly #streams = new Map<number, StreamReceiver>();
  #nextStreamId = 1;
  #closedReason: BerthError | undefined;
  #resolveClosed!: (reason: BerthError) => void;

  constructor(socket: Socket) {
    this.#socket = socket;
    this.#writer = new FrameWriter(socket);
    this.closed = new Promise((resolve) => (this.#resolveClosed = resolve));
    void this.#readLoop();
  }

  /**
   * Starts a stream with a request frame and returns its id. Throws (nothing is sent) when the
   * connection is closed or the request is larger than a frame may be.
   */
  open(head: RequestHead, payload: Uint8Array, flags: number, receiver: StreamReceiver): number {
    if (this.#closedReason) throw this.#closedReason;
    const envelope = encodeRequest(head, payload);
    if (envelope.length > MAX_DATA_LENGTH) throw oversizedError(envelope.length);
    if (this.#nextStreamId > MAX_STREAM_ID) throw unavailable("ttrpc: stream ids exhausted on this connection; reconnect");
    const id = this.#nextStreamId;
    this.#nextStreamId += 2;
    this.#streams.set(id, receiver);
    // Sent in the same turn as the id is taken, so ids reach the wire in increasing order.
    this.#writer.send(id, MessageType.Request, flags, envelope.parts, envelope.length).catch(() => {
      // The connection failed; the read loop fails every stream with the reason.
    });
    return id;
  }

  /** Sends a data frame on an open stream; resolves when the socket took it (backpressure). */
  sendData(id: number, flags: number, payload: Uint8Array): Promise<void> {
    if (this.#closedReason) return Promise.reject(this.#closedReason);
    if (payload.length > MAX_DATA_LENGTH) return Promise.reject(oversizedError(payload.length));
    return this.#writer.send(id, MessageType.Data, flags, [payload], payload.length);
  }

  /** Stops routing frames to a stream (its call finished or gave up). */
  forget(id: number): void {
    this.#streams.delete(id);
  }

  isOpen(id: number): boolean {
    return this.#streams.has(id);
  }

  async close(): Promise<void> {
    this.#end(unavailable("ttrpc: client closed"));
    this.#socket.destroy();
    await this.closed;
  }

  async #readLoop(): Promise<void> {
    let cause: unknown;
    try {
      for await (const frame of readFrames(this.#socket)) {
        const receiver = this.#streams.get(frame.streamId);
        if (!receiver) continue;
        if (frame.oversized) {
          this.#streams.delete(frame.streamId);
          receiver.fail(oversizedError(frame.length));
          continue;
        }
        // A response always ends a stream, as does data the server marks as its last.
        if (frame.type === MessageType.Response || (frame.type === MessageType.Data && hasFlag(frame.flags, Flag.RemoteClosed))) {
          this.#streams.delete(frame.streamId);
        }
        const wait = receiver.receive(frame);
        if (wait) await wait;
      }
    } catch (err) {
      cause = err;
    }
    this.#end(connectionClosedError(cause));
    this.#socket.destroy();
  }

  #end(reason: BerthError): void {
    if (this.#closedReason) return;
    this.#closedReason = reason;
    this.#writer.fail(reason);
    const receivers = [...this.#streams.values()];
    this.#streams.clear();
    for (const receiver of receivers) receiver.fail(reason);
    this.#resolveClosed(reason);
  }
}
