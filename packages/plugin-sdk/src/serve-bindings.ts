import { connect } from "node:net";
import { mkdir, unlink, lstat } from "node:fs/promises";
import { dirname } from "node:path";
import { GrpcServer } from "@berth/grpc-server";
import { failedPrecondition, silentLogger, type CallContext, type ServiceBinding } from "@berth/core";

/** A gRPC server on a UNIX socket; `close` stops it and removes the socket. */
export interface SocketServer {
  readonly address: string;
  close(): Promise<void>;
}

export interface ServeOptions {
  /** The UNIX socket path to listen on. A stale socket is replaced; a live one is refused. */
  readonly address: string;
  /** Aborting it closes the server, like `close()`. */
  readonly signal?: AbortSignal;
  /** Called with errors that are not errdefs errors (bugs, not answers); default console.error. */
  readonly onUnexpectedError?: (method: string, err: unknown) => void;
}

type AnyHandler = (input: unknown, ctx: CallContext) => unknown;

/**
 * Serves protobuf-es service bindings (core's bindService) on a UNIX socket with Berth's gRPC
 * server (@berth/grpc-server, what berthd serves with). Handlers get core's CallContext;
 * errdefs errors become the gRPC codes containerd's clients expect.
 */
export async function serveBindings(bindings: readonly ServiceBinding[], opts: ServeOptions): Promise<SocketServer> {
  const report = opts.onUnexpectedError ?? ((method, err) => console.error(`${method}: unexpected error`, err));
  const server = new GrpcServer(bindings.map(withNamespaceDefault), {
    maxRecvMessageSize: 16 << 20,
    maxSendMessageSize: 16 << 20,
    log: silentLogger,
    onUnexpectedError: report,
  });
  await prepareSocket(opts.address);
  await server.listenUnix(opts.address);
  let closed: Promise<void> | undefined;
  const close = () =>
    (closed ??= (async () => {
      await server.close(CLOSE_GRACE_MS);
      await unlink(opts.address).catch(() => undefined);
    })());
  opts.signal?.addEventListener("abort", () => void close(), { once: true });
  return { address: opts.address, close };
}

/** Calls in flight are aborted on close; this is how long they get to answer. */
const CLOSE_GRACE_MS = 5_000;

/**
 * containerd's proxy sends no namespace (its metadata has already mapped keys per namespace),
 * berthd's does: a served backend sees "" when none came.
 */
function withNamespaceDefault(binding: ServiceBinding): ServiceBinding {
  const impl: Record<string, AnyHandler> = {};
  for (const [name, handler] of Object.entries(binding.impl)) {
    if (typeof handler !== "function") continue;
    const call = handler as unknown as AnyHandler;
    impl[name] = (input, ctx) => call.call(binding.impl, input, ctx.namespace === undefined ? { ...ctx, namespace: "" } : ctx);
  }
  return { service: binding.service, impl: impl as ServiceBinding["impl"] };
}

/** Parent dirs made; a socket nobody answers on (left by a killed server) removed. */
async function prepareSocket(path: string): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const st = await lstat(path).catch(() => undefined);
  if (!st) return;
  if (!st.isSocket()) throw failedPrecondition(`${path} exists and is not a socket`);
  const live = await new Promise<boolean>((resolve) => {
    const s = connect(path);
    s.once("connect", () => {
      s.destroy();
      resolve(true);
    });
    s.once("error", () => resolve(false));
  });
  if (live) throw failedPrecondition(`something is already serving on ${path}`);
  await unlink(path);
}
