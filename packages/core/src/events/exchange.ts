
/**
 * An event payload as it travels: a type URL and the encoded message, the shape of
 * google.protobuf.Any. Core keeps wire types out of its interfaces; the api package has
 * helpers that pack generated messages into this.
 */
export interface EventPayload {
  readonly typeUrl: string;
  readonly value: Uint8Array;
}

/** One event with where and when it happened. */
export interface Envelope {
  readonly timestamp: Date;
  readonly namespace: string;
  readonly topic: string;
  readonly event: EventPayload;
}

export interface Publisher {
  /** Publishes `event` on `topic` in `namespace`; InvalidArgument for a malformed topic. */
  publish(namespace: string, topic: string, event: EventPayload): Promise<void>;
}

export interface Forwarder {
  /** Re-publishes an envelope that was created elsewhere (a shim, another daemon), keeping its time. */
  forward(envelope: Envelope): Promise<void>;
}

export interface Subscriber {
  /**
   * Events matching any of `filters` (containerd's filter language over `topic` and
   * `namespace`), from now until `signal` aborts. A slow consumer does not stall publishers.
   */
  subscribe(filters: readonly string[], signal: AbortSignal): AsyncIterable<Envelope>;
}

/** Fans events out from publishers to subscribers: io.containerd.event.v1. */
export interface Exchange extends Publisher, Forwarder, Subscriber {}

/** Field lookups for filtering envelopes. */
export function envelopeFields(envelope: Envelope): (path: readonly string[]) => string | undefined {
  return (path) => {
    if (path.length !== 1) return undefined;
    switch (path[0]) {
      case "topic":
        return envelope.topic;
      case "namespace":
        return envelope.namespace;
      default:
        return undefined;
    }
  };
}

