import type { Http2Server } from "node:http2";
import type { Socket } from "node:net";
import { ClientPrefaceReader } from "./client-preface.js";
import { isValidAuthority } from "./hpack-header-block.js";
import { EMPTY_SETTINGS } from "./http2-frames.js";
import { createRewritingSocket } from "./rewriting-socket.js";

/**
 * Lets clients that send a socket path as `:authority` in. grpc-go clients that dial a UNIX
 * socket by its path (cri-tools, the kubelet) send `:authority: /run/.../x.sock`; nghttp2 with
 * HTTP messaging checks resets such a request with PROTOCOL_ERROR before any JavaScript sees it,
 * and Node has no option to relax that (nodejs/node#32326).
 *
 * So each connection is read briefly before Node's HTTP/2 server gets it:
 * 1. After the client's 24-octet magic, an empty SETTINGS frame goes out at once. It is a valid
 *    server preface (RFC 9113 §3.4), and grpc-go clients dialling with WithBlock send nothing
 *    more (no request) until the server's SETTINGS arrives.
 * 2. What the client sends is kept until its first header block is complete and it has
 *    acknowledged that SETTINGS; the acknowledgement is cut out, since nghttp2 never sent the
 *    frame and treats an unexpected ACK as a connection error. nghttp2's own SETTINGS follows
 *    later; a second SETTINGS is allowed at any time.
 * 3. If the first request's `:authority` is a valid authority (ctr and Berth's client send
 *    `localhost`), the native socket goes to Node with the kept bytes put back in its read
 *    buffer (Http2Session feeds a socket's already-buffered bytes to nghttp2 on the next tick),
 *    so ordinary clients keep native HTTP/2 speed. Otherwise the connection is served for its
 *    whole life through a rewriting stream (see AuthorityRewriter).
 * A peer that is not HTTP/2, or stays silent, goes to Node as it is and gets nghttp2's own
 * answer. An HTTP/2 peer that has not made its first request in time (or whose first request
 * is too large to hold) is served through the rewriting stream, which is right for any client.
 */
export interface PathAuthorityOptions {
  /** How long a connection may take to reach its first request before it is routed anyway. */
  prefaceTimeoutMs?: number;
  /** How many bytes are held while waiting for the first request. */
  maxPrefaceBytes?: number;
  /** Told how each connection was routed and why (tests, logs). */
  onRoute?: (route: ConnectionRoute) => void;
}

export interface ConnectionRoute {
  /** "native": Node reads the socket itself; "rewrite": through a rewriting stream. */
  kind: "native" | "rewrite";
  reason: "valid-authority" | "invalid-authority" | "not-http2" | "silent" | "slow-preface" | "preface-too-large";
  /** The rewriting stream of a "rewrite" route, to read its counters. */
  stream?: ReturnType<typeof createRewritingSocket>;
}

const DEFAULT_PREFACE_TIMEOUT_MS = 5_000;
const DEFAULT_MAX_PREFACE_BYTES = 64 * 1024;

type ConnectionListener = (this: Http2Server, socket: Socket) => void;

/**
 * Puts the router in front of Node's own 'connection' listener of `server` (from
 * http2.createServer), which then receives each connection once it is routed.
 */
export function routeConnectionsByAuthority(server: Http2Server, opts: PathAuthorityOptions = {}): void {
  const listeners = server.listeners("connection") as ConnectionListener[];
  const native = listeners.find((l) => l.name === "connectionListener");
  if (!native) throw new Error("node:http2 changed: no connectionListener on the HTTP/2 server to route connections to");
  server.removeListener("connection", native);
  const serve = (socket: Socket | ReturnType<typeof createRewritingSocket>) => native.call(server, socket as Socket);
  server.on("connection", (socket: Socket) => routeConnection(socket, serve, opts));
}

function routeConnection(socket: Socket, serve: (socket: Socket | ReturnType<typeof createRewritingSocket>) => void, opts: PathAuthorityOptions): void {
  const timeoutMs = opts.prefaceTimeoutMs ?? DEFAULT_PREFACE_TIMEOUT_MS;
  const maxBytes = opts.maxPrefaceBytes ?? DEFAULT_MAX_PREFACE_BYTES;
  const held = new GrowingBuffer();
  const reader = new ClientPrefaceReader();
  let answered = false; // our empty SETTINGS went out

  const stopReading = () => {
    clearTimeout(timer);
    socket.off("data", onData);
    socket.off("end", onEnd);
    socket.off("error", onError);
    socket.off("close", onClose);
  };
  const routeNative = (raw: Buffer, reason: ConnectionRoute["reason"]) => {
    stopReading();
    socket.pause();
    if (raw.length > 0) socket.unshift(raw);
    opts.onRoute?.({ kind: "native", reason });
    serve(socket);
  };
  const routeRewrite = (raw: Buffer, reason: ConnectionRoute["reason"]) => {
    stopReading();
    const stream = createRewritingSocket(socket, raw);
    opts.onRoute?.({ kind: "rewrite", reason, stream });
    serve(stream);
  };

  function onData(chunk: Buffer): void {
    const raw = held.append(chunk);
    const preface = reader.read(raw);
    if (preface.malformed) return routeNative(raw, "not-http2");
    if (!preface.magic) return;
    if (!answered) {
      answered = true;
      socket.write(EMPTY_SETTINGS);
    }
    const first = preface.firstRequest;
    if (first && !first.authorities.every((a) => isValidAuthority(a))) return routeRewrite(raw, "invalid-authority");
    if (first && preface.settingsAck) {
      const { start, end } = preface.settingsAck;
      return routeNative(Buffer.concat([raw.subarray(0, start), raw.subarray(end)]), "valid-authority");
    }
    if (raw.length > maxBytes) routeRewrite(raw, "preface-too-large");
  }
  function onEnd(): void {
    // The peer left before its first request; nothing to serve.
    stopReading();
    socket.destroy();
  }
  function onError(): void {
    stopReading();
    socket.destroy();
  }
  function onClose(): void {
    stopReading();
  }

  const timer = setTimeout(() => {
    if (answered) routeRewrite(held.bytes(), "slow-preface");
    else routeNative(held.bytes(), "silent");
  }, timeoutMs);
  socket.on("data", onData);
  socket.on("end", onEnd);
  socket.on("error", onError);
  socket.on("close", onClose);
}

/**
 * Bytes appended chunk by chunk, copied into a store that doubles when full, so a peer sending
 * a byte at a time does not cost a copy of everything so far per byte. Views returned earlier
 * stay valid: bytes once written are never changed.
 */
class GrowingBuffer {
  private store = Buffer.alloc(0);
  private length = 0;

  append(chunk: Buffer): Buffer {
    if (this.length + chunk.length > this.store.length) {
      const grown = Buffer.allocUnsafe(Math.max(2 * this.store.length, this.length + chunk.length, 4096));
      this.store.copy(grown, 0, 0, this.length);
      this.store = grown;
    }
    chunk.copy(this.store, this.length);
    this.length += chunk.length;
    return this.bytes();
  }

  bytes(): Buffer {
    return this.store.subarray(0, this.length);
  }
}
