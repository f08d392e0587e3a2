import type { Socket } from "node:net";
import { encodeHeader, type MessageType } from "./frame.js";

interface Pending {
  readonly parts: readonly Uint8Array[];
  readonly resolve: () => void;
  readonly reject: (err: unknown) => void;
}

/**
 * Writes frames to a socket in the order they are sent, header and data parts handed to the
 * socket together (one writev, no concatenation). When the socket's buffer is full, later
 * frames wait in order until it drains: that is the backpressure senders see, by awaiting
 * send().
 */
export class FrameWriter {
  readonly #socket: Socket;
  readonly #queue: Pending[] = [];
  #blocked = false;
  #failure: unknown;

  constructor(socket: Socket) {
    this.#socket = socket;
    socket.on("drain", () => this.#flush());
  }

  /** Queues a frame; resolves once the socket has taken it. `length` is the sum of `data`'s lengths. */
  send(streamId: number, type: MessageType, flags: number, data: readonly Uint8Array[], length: number): Promise<void> {
    if (this.#failure !== undefined) return Promise.reject(this.#failure);
    const parts = [encodeHeader(streamId, type, flags, length), ...data];
    if (!this.#blocked && this.#queue.length === 0) {
      this.#write(parts);
      return Promise.resolve();
    }
    return new Promise((resolve, reject) => this.#queue.push({ parts, resolve, reject }));
  }

  /** Rejects every queued frame with `err`, and every later send. */
  fail(err: unknown): void {
    if (this.#failure !== undefined) return;
    this.#failure = err;
    for (const pending of this.#queue.splice(0)) pending.reject(err);
  }

  #write(parts: readonly Uint8Array[]): void {
    const socket = this.#socket;
    socket.cork();
    let room = true;
    for (const part of parts) if (part.length > 0) room = socket.write(part);
    socket.uncork();
    if (!room) this.#blocked = true;
  }

  #flush(): void {
    this.#blocked = false;
    while (!this.#blocked && this.#queue.length > 0 && this.#failure === undefined) {
      const next = this.#queue.shift()!;
      this.#write(next.parts);
      next.resolve();
    }
  }
}
