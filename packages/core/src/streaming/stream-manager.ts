import type { TypedValue } from "../metadata/index.js";

/**
 * A side channel a client opened to the daemon (containerd's streaming service): a service
 * handling some other call finds it by ID to send progress, ask for credentials or move bytes.
 */
export interface Stream {
  /** Sends one typed message to the client. */
  send(message: TypedValue): Promise<void>;
  /** The next message from the client; Unavailable once the client has closed. */
  recv(signal?: AbortSignal): Promise<TypedValue>;
  /** Ends the stream for both sides. */
  close(): Promise<void>;
}

/** Streams registered by namespace and ID while their client keeps them open. */
export interface StreamManager {
  /** AlreadyExists if the ID is taken in that namespace. Returns the call that unregisters it. */
  register(namespace: string, id: string, stream: Stream): () => void;
  /** NotFound unless a client has opened the stream. */
  get(namespace: string, id: string): Stream;
}
