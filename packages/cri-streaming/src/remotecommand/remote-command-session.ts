import type { Readable, Writable } from "node:stream";
import type { K8sStatus } from "./status.js";

/**
 * The transport-neutral half of exec/attach: the client's streams, however they arrived
 * (SPDY streams or WebSocket channels), plus how to report the outcome and hang up.
 */
export interface RemoteCommandSession {
  stdin?: Readable;
  stdout?: Writable;
  stderr?: Writable;
  resize?: Readable;
  tty: boolean;
  /** Aborts when the client goes away. */
  signal: AbortSignal;
  /** Writes the outcome on the error stream/channel (in the negotiated protocol's format). */
  writeStatus(status: K8sStatus): Promise<void>;
  /** Ends every stream and closes the connection gracefully. */
  close(): Promise<void>;
}

/** The streams a request asked for. */
export interface RequestedStreams {
  stdin: boolean;
  stdout: boolean;
  stderr: boolean;
  tty: boolean;
}
