import {
  envelopeFields,
  parseFilters,
  resourceExhausted,
  validateIdentifier,
  validateTopic,
  type Envelope,
  type EventPayload,
  type Exchange,
  type Filter,
} from "@berth/core";

export interface ExchangeOptions {
  /**
   * Events a subscriber may fall behind by before it is cut off with ResourceExhausted.
   * Publishers never wait for subscribers; this bounds the memory a stuck one can hold.
   */
  maxBacklog?: number;
}

interface Subscription {
  readonly filter: Filter;
  deliver(envelope: Envelope): void;
}

/** An in-process event exchange: publish, forward, and filtered subscriptions. */
export function createExchange(opts: ExchangeOptions = {}): Exchange {
  const maxBacklog = opts.maxBacklog ?? 10_000;
  const subscriptions = new Set<Subscription>();

  const broadcast = (envelope: Envelope) => {
    const fields = envelopeFields(envelope);
    for (const sub of subscriptions) if (sub.filter.match(fields)) sub.deliver(envelope);
  };

  return {
    async publish(namespace: string, topic: string, event: EventPayload) {
      validateIdentifier(namespace);
      validateTopic(topic);
      broadcast({ timestamp: new Date(), namespace, topic, event });
    },
    async forward(envelope: Envelope) {
      validateIdentifier(envelope.namespace);
      validateTopic(envelope.topic);
      broadcast(envelope);
    },
    subscribe(filters: readonly string[], signal: AbortSignal): AsyncIterable<Envelope> {
      // Parse and register now, not at first next(): events published right after
      // subscribe() returns must not be lost.
      const filter = parseFilters(filters);
      const queue = new EventQueue(maxBacklog, signal);
      const sub: Subscription = { filter, deliver: (e) => queue.push(e) };
      subscriptions.add(sub);
      queue.onEnd(() => subscriptions.delete(sub));
      return queue;
    },
  };
}

/** An unbounded-until-maxBacklog queue read as an async iterable; ends when the signal aborts. */
class EventQueue implements AsyncIterable<Envelope> {
  private readonly items: Envelope[] = [];
  private waiter: ((r: IteratorResult<Envelope>) => void) | undefined;
  private failed: Error | undefined;
  private ended = false;
  private endHooks: (() => void)[] = [];

  constructor(
    private readonly maxBacklog: number,
    private readonly signal: AbortSignal,
  ) {
    if (signal.aborted) this.end();
    else signal.addEventListener("abort", () => this.end(), { once: true });
  }

  onEnd(fn: () => void) {
    if (this.ended) fn();
    else this.endHooks.push(fn);
  }

  push(envelope: Envelope) {
    if (this.ended) return;
    if (this.waiter) {
      const w = this.waiter;
      this.waiter = undefined;
      w({ value: envelope, done: false });
      return;
    }
    if (this.items.length >= this.maxBacklog) {
      this.failed = resourceExhausted(`event subscriber fell more than ${this.maxBacklog} events behind`);
      this.end();
      return;
    }
    this.items.push(envelope);
  }

  private end() {
    if (this.ended) return;
    this.ended = true;
    for (const fn of this.endHooks.splice(0)) fn();
    if (this.waiter && this.items.length === 0 && !this.failed) {
      const w = this.waiter;
      this.waiter = undefined;
      w({ value: undefined, done: true });
    }
  }

  [Symbol.asyncIterator](): AsyncIterator<Envelope> {
    return {
      next: () => {
        const item = this.items.shift();
        if (item) return Promise.resolve({ value: item, done: false });
        if (this.failed) return Promise.reject(this.failed);
        if (this.ended) return Promise.resolve({ value: undefined, done: true });
        return new Promise((resolve) => (this.waiter = resolve));
      },
      return: () => {
        this.end();
        this.items.length = 0;
        return Promise.resolve({ value: undefined, done: true });
      },
    };
  }
}
