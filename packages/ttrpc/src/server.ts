import { unlink } from "node:fs/promises";
import { createServer, type Server, type Socket } from "node:net";
import type { DescMethod, DescService } from "@bufbuild/protobuf";
import { alreadyExists, failedPrecondition, notImplemented, type Logger, type ServiceImpl } from "@berth/core";
import type { AnyHandler } from "./server-call.js";
import { ServerConnection, type HandlerLookup } from "./server-connection.js";
import { listenFd, listenUnix } from "./unix-socket.js";

export interface TtrpcServerOptions {
  /** Where handler failures that are not Berth errors get reported. */
  readonly log?: Logger;
  /** Mode of socket files listen() creates; 0600 by default: only the owner (root) may call. */
  readonly socketMode?: number;
}

export interface TtrpcServer {
  /**
   * Serves `service` with `impl`: the same handler shapes Berth's gRPC server takes (core's
   * ServiceImpl), so one implementation can be served both ways. Methods left out answer
   * Unimplemented.
   */
  register<S extends DescService>(service: S, impl: Partial<ServiceImpl<S>>): void;
  /** Accepts connections on a UNIX socket path (unix:// accepted) or an inherited listening fd. */
  listen(address: string | { readonly fd: number }): Promise<void>;
  /** Serves one connected socket; resolves when it ends. */
  serve(socket: Socket): Promise<void>;
  /**
   * Stops accepting, lets every call in flight answer, then ends the connections (Go's
   * Shutdown). Aborting `signal` turns it into close().
   */
  shutdown(signal?: AbortSignal): Promise<void>;
  /** Stops accepting and ends every connection now; handlers see their signals abort. */
  close(): Promise<void>;
}

interface Listener {
  readonly server: Server;
  /** The socket file listen() made, removed when the server closes. */
  readonly path: string | undefined;
}

export function createTtrpcServer(options: TtrpcServerOptions = {}): TtrpcServer {
  return new TtrpcServerImpl(options);
}

class TtrpcServerImpl implements TtrpcServer, HandlerLookup {
  readonly #services = new Map<string, Map<string, { method: DescMethod; handler: AnyHandler }>>();
  readonly #listeners = new Set<Listener>();
  readonly #connections = new Map<ServerConnection, Promise<void>>();
  readonly #log: Logger | undefined;
  readonly #socketMode: number;
  #closing = false;

  constructor(options: TtrpcServerOptions) {
    this.#log = options.log;
    this.#socketMode = options.socketMode ?? 0o600;
  }

  register<S extends DescService>(service: S, impl: Partial<ServiceImpl<S>>): void {
    if (this.#services.has(service.typeName)) throw alreadyExists(`ttrpc: service ${service.typeName} is already registered`);
    const methods = new Map<string, { method: DescMethod; handler: AnyHandler }>();
    const handlers = impl as Partial<Record<string, AnyHandler>>;
    for (const method of service.methods) {
      const handler = handlers[method.localName];
      if (handler) methods.set(method.name, { method, handler: handler.bind(impl) });
    }
    this.#services.set(service.typeName, methods);
  }

  find(service: string, method: string) {
    const methods = this.#services.get(service);
    if (!methods) return notImplemented(`ttrpc: service ${service} is not served here`);
    return methods.get(method) ?? notImplemented(`ttrpc: method ${service}/${method} is not implemented`);
  }

  async listen(address: string | { readonly fd: number }): Promise<void> {
    if (this.#closing) throw failedPrecondition("ttrpc: server is closed");
    const server = createServer((socket) => void this.serve(socket));
    const path = typeof address === "string" ? await listenUnix(server, address, this.#socketMode) : undefined;
    if (typeof address !== "string") await listenFd(server, address.fd);
    this.#listeners.add({ server, path });
    // close() may have run while this listen was under way: it must not outlive the server.
    if (this.#closing) await this.#stopListening();
  }

  async serve(socket: Socket): Promise<void> {
    if (this.#closing) {
      socket.destroy();
      return;
    }
    const connection = new ServerConnection(socket, this, this.#log);
    const running = connection.run();
    this.#connections.set(connection, running);
    try {
      await running;
    } finally {
      this.#connections.delete(connection);
    }
  }

  async shutdown(signal?: AbortSignal): Promise<void> {
    await this.#stopListening();
    const onAbort = () => this.#destroyConnections();
    signal?.addEventListener("abort", onAbort, { once: true });
    try {
      if (signal?.aborted) onAbort();
      for (const connection of this.#connections.keys()) connection.drain();
      await Promise.all(this.#connections.values());
    } finally {
      signal?.removeEventListener("abort", onAbort);
    }
  }

  async close(): Promise<void> {
    await this.#stopListening();
    this.#destroyConnections();
    await Promise.all(this.#connections.values());
  }

  #destroyConnections(): void {
    for (const connection of this.#connections.keys()) connection.destroy();
  }

  async #stopListening(): Promise<void> {
    this.#closing = true;
    const listeners = [...this.#listeners];
    this.#listeners.clear();
    for (const { server } of listeners) server.close();
    for (const { path } of listeners) if (path) await unlink(path).catch(() => {});
  }
}
