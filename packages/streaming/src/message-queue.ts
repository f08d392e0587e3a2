import { unavailable } from "@berth/core";

/** An unbounded FIFO between a producer and one consumer that awaits; ended once, for good. */
export class MessageQueue<T> {
  private readonly items: T[] = [];
  private readonly waiters: { resolve: (v: T) => void; reject: (e: Error) => void }[] = [];
  private ended: Error | undefined;

  push(item: T): void {
    if (this.ended) return;
    const waiter = this.waiters.shift();
    if (waiter) waiter.resolve(item);
    else this.items.push(item);
  }

  /** The next item; rejects with `reason` once ended and drained. */
  next(signal?: AbortSignal): Promise<T> {
    if (this.items.length > 0) return Promise.resolve(this.items.shift()!);
    if (this.ended) return Promise.reject(this.ended);
    signal?.throwIfAborted();
    return new Promise<T>((resolve, reject) => {
      const waiter = { resolve, reject };
      this.waiters.push(waiter);
      signal?.addEventListener("abort", () => {
        const i = this.waiters.indexOf(waiter);
        if (i >= 0) this.waiters.splice(i, 1);
        reject(signal.reason);
      }, { once: true });
    });
  }

  end(reason: Error = unavailable("stream closed")): void {
    if (this.ended) return;
    this.ended = reason;
    for (const w of this.waiters.splice(0)) w.reject(reason);
  }

  get isEnded(): boolean {
    return this.ended !== undefined;
  }
}
