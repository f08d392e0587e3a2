import type { Duplex, Readable, Writable } from "node:stream";

/** A terminal size from the client (columns × rows). */
export interface TerminalSize {
  width: number;
  height: number;
}

/** The CRI's ExecRequest, as far as streaming needs it (field names as protobuf-es gives them). */
export interface ExecRequest {
  containerId: string;
  cmd: readonly string[];
  tty?: boolean;
  stdin?: boolean;
  stdout?: boolean;
  stderr?: boolean;
}

/** The CRI's AttachRequest. */
export interface AttachRequest {
  containerId: string;
  stdin?: boolean;
  tty?: boolean;
  stdout?: boolean;
  stderr?: boolean;
}

/** The CRI's PortForwardRequest. */
export interface PortForwardRequest {
  podSandboxId: string;
  port?: readonly number[];
}

/**
 * The client's streams for one exec or attach. A stream is present only if the request asked
 * for it. The server ends stdout and stderr after the handler settles, so a handler need not;
 * but everything it wants the client to see must have been written by then.
 */
export interface ContainerStreams {
  stdin?: Readable;
  stdout?: Writable;
  stderr?: Writable;
  tty: boolean;
  /** Terminal sizes as the client sends them (tty only; empty otherwise). Ends with the session. */
  resize: AsyncIterable<TerminalSize>;
}

/**
 * What the CRI plugin implements behind the streaming server. `signal` aborts when the client
 * goes away (or the server closes): stop the work and settle.
 */
export interface StreamingHandlers {
  /** Runs `cmd` in the container; resolves with its exit code (0–255). Throw for "could not run". */
  exec(containerId: string, cmd: readonly string[], streams: ContainerStreams, signal: AbortSignal): Promise<{ exitCode: number }>;
  /** Attaches to the container's main process until it exits or the client leaves. */
  attach(containerId: string, streams: ContainerStreams, signal: AbortSignal): Promise<void>;
  /**
   * Connects `stream` to `port` inside the pod's network namespace and copies both ways until
   * either side ends. Reject to send the client an error for this connection.
   */
  portForward(podSandboxId: string, port: number, stream: Duplex, signal: AbortSignal): Promise<void>;
}
