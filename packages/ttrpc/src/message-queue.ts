/** Messages a stream may hold unread before its reader is considered stuck (Go's ttrpc: 64). */
export const STREAM_BUFFER_MESSAGES = 64;
/** How long a full stream may hold its connection's reading before the stream fails. */
export const STREAM_STALL_MS = 1000;

/**
 * Messages received on one stream, waiting for the code that reads them: an async iterable
 * with one reader. The connection's read loop pushes; when the queue is full it waits for
 * room (holding the socket back) but only briefly, so a stream nobody reads cannot stall the
 * other streams of its connection for long: Go's ttrpc makes the same trade.
 */
export class MessageQueue<T> implements AsyncIterable<T> {
  readonly #items: T[] = [];
  readonly #limit: number;
  readonly #onCancel: (() => void) | undefined;
  #ended = false;
  #failure: { error: unknown } | undefined;
  #cancelled = false;
  #wakeReader: (() => void) | undefined;
  #roomWaiters: (() => void)[] = [];

  constructor(limit: number, onCancel?: () => void) {
    this.#limit = limit;
    this.#onCancel = onCancel;
  }

  /** True once the reader stopped early (broke out of its loop): later pushes are dropped. */
  get cancelled(): boolean {
    return this.#cancelled;
  }

  get full(): boolean {
    return this.#items.length >= this.#limit;
  }

  push(item: T): void {
    if (this.#ended || this.#cancelled) return;
    this.#items.push(item);
    this.#wake();
  }

  /** No more messages: the reader finishes once it has taken those queued. */
  end(): void {
    this.#ended = true;
    this.#wake();
  }

  /** The reader gets `error` after the messages already queued. */
  fail(error: unknown): void {
    if (this.#ended) return;
    this.#failure = { error };
    this.#ended = true;
    this.#wake();
  }

  /** Resolves true once there is room, false if `maxWaitMs` passes first. */
  waitForRoom(maxWaitMs: number): Promise<boolean> {
    if (!this.full || this.#cancelled || this.#ended) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.#roomWaiters = this.#roomWaiters.filter((w) => w !== onRoom);
        resolve(false);
      }, maxWaitMs);
      const onRoom = () => {
        clearTimeout(timer);
        resolve(true);
      };
      this.#roomWaiters.push(onRoom);
    });
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<T> {
    let finished = false;
    try {
      for (;;) {
        if (this.#items.length > 0) {
          const item = this.#items.shift()!;
          this.#makeRoom();
          yield item;
          continue;
        }
        if (this.#failure) {
          finished = true;
          throw this.#failure.error;
        }
        if (this.#ended) {
          finished = true;
          return;
        }
        await new Promise<void>((resolve) => (this.#wakeReader = resolve));
      }
    } finally {
      if (!finished) {
        this.#cancelled = true;
        this.#items.length = 0;
        this.#makeRoom();
        this.#onCancel?.();
      }
    }
  }

  #wake(): void {
    const wake = this.#wakeReader;
    this.#wakeReader = undefined;
    wake?.();
  }

  #makeRoom(): void {
    if (this.full && !this.#cancelled) return;
    for (const waiter of this.#roomWaiters.splice(0)) waiter();
  }
}
