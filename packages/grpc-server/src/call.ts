import { gunzipSync, inflateSync } from "node:zlib";
import { create, fromBinary, toBinary, type DescMessage, type DescMethod } from "@bufbuild/protobuf";
import {
  GrpcCode,
  NAMESPACE_HEADER,
  canceled,
  deadlineExceeded,
  internal,
  isBerthError,
  notImplemented,
  resourceExhausted,
  toGrpcStatus,
  validateIdentifier,
  type CallContext,
} from "@berth/core";
import { ErrorCode } from "./frames.js";
import type { HeaderField } from "./hpack.js";
import { MessageReader, MessageTooLargeError, framedMessage, type RawMessage } from "./messages.js";
import { parseTimeout } from "./timeout.js";
import type { ServerStream } from "./stream.js";

/** Told when each call of one method starts and how it ended (Prometheus' grpc_server_* figures). */
export interface MethodObserver {
  started(): void;
  handled(code: number, seconds: number): void;
}

export type AnyHandler = (input: unknown, ctx: CallContext) => unknown;

/** A method the server answers, with everything a call of it needs resolved once. */
export interface RegisteredMethod {
  readonly method: DescMethod;
  readonly path: string;
  readonly handler: AnyHandler;
  readonly observer: MethodObserver;
  readonly requestStream: boolean;
  readonly responseStream: boolean;
}

/** What a call needs from its server: limits, where faults go, and the registry of calls in flight. */
export interface CallEnvironment {
  readonly maxRecvMessageSize: number;
  readonly maxSendMessageSize: number;
  /** An error that is not a BerthError came out of a handler (a bug, not an answer). */
  reportUnexpected(method: string, err: unknown): void;
  /** Registers the call's controller until it ends, so shutdown can abort it. */
  track(controller: AbortController): () => void;
}

/** A client reset this close to the call's deadline counts as the deadline passing (see onAbort). */
const DEADLINE_RACE_MS = 50;

const RESPONSE_HEADERS: readonly HeaderField[] = [
  [":status", "200"],
  ["content-type", "application/grpc"],
];

/**
 * One gRPC call on one stream: the request messages decoded and handed to the handler (one
 * message, or an async iterable for client streams), the handler's answer framed back, and
 * the call's end as trailers with containerd's status code. Cancellation, deadlines and the
 * stream's flow control meet the handler as its AbortSignal and as backpressure.
 */
export class GrpcCall {
  private readonly controller = new AbortController();
  private readonly reader: MessageReader;
  private readonly started = performance.now();
  private readonly untrack: () => void;
  private timer: NodeJS.Timeout | undefined;
  /** When the call's deadline passes (performance.now() clock), if it has one. */
  private deadlineAt: number | undefined;
  private headersSent = false;
  private ended = false;
  private handlerStarted = false;
  /** Request messages decoded and not yet taken (client streams), with their sizes, and who waits for one. */
  private readonly inbox: Array<{ message: unknown; size: number }> = [];
  private inboxBytes = 0;
  /** Received octets not given back to the peer because decoded messages wait in the inbox. */
  private held = 0;
  private inputEnded = false;
  private wakeReader: (() => void) | undefined;

  constructor(
    private readonly stream: ServerStream,
    private readonly entry: RegisteredMethod,
    private readonly env: CallEnvironment,
  ) {
    this.reader = new MessageReader(env.maxRecvMessageSize);
    this.untrack = env.track(this.controller);
    entry.observer.started();
    stream.listener = {
      data: (bytes) => this.onData(bytes),
      end: () => this.onEnd(),
      abort: () => this.onAbort(),
    };
    const timeout = stream.header("grpc-timeout");
    if (timeout !== undefined) {
      const ms = parseTimeout(timeout);
      if (ms === undefined) {
        this.fail(internal(`malformed grpc-timeout ${JSON.stringify(timeout)}`));
        return;
      }
      this.deadlineAt = this.started + ms;
      this.timer = setTimeout(() => this.onDeadline(), ms);
    }
    if (this.entry.requestStream) this.startHandler(this.requests());
  }

  private get signal(): AbortSignal {
    return this.controller.signal;
  }

  private onData(bytes: Buffer): void {
    if (this.ended) return;
    let messages: RawMessage[];
    try {
      messages = this.reader.push(bytes);
    } catch (err) {
      if (err instanceof MessageTooLargeError) {
        this.fail(resourceExhausted(`grpc: ${err.message}`));
        this.stream.reset(ErrorCode.CANCEL);
        return;
      }
      throw err;
    }
    for (const raw of messages) {
      const message = this.decode(raw);
      if (message === undefined) return;
      if (!this.entry.requestStream) {
        // Unary and server-streaming calls take the first message; grpc-go does not wait for the end either.
        if (!this.handlerStarted) this.startHandler(message);
        continue;
      }
      this.inbox.push({ message, size: raw.bytes.length });
      this.inboxBytes += raw.bytes.length;
    }
    // Hold window back only while decoded messages pile up unread; bytes of a message still
    // arriving always go back, or a message larger than the window could never complete.
    if (this.inboxBytes > this.stream.recvWindowSize / 2) this.held += bytes.length;
    else this.stream.release(bytes.length);
    this.wakeReader?.();
  }

  private onEnd(): void {
    this.inputEnded = true;
    if (!this.entry.requestStream && !this.handlerStarted && !this.ended) {
      this.fail(internal(this.reader.buffered > 0 ? "the request message is truncated" : "no request message"));
      return;
    }
    if (this.reader.buffered > 0 && !this.ended) this.fail(internal("the last request message is truncated"));
    this.wakeReader?.();
  }

  private onAbort(): void {
    // The peer reset the stream or the connection closed: nothing more can be sent. A client
    // resets a call when its own deadline passes, which races this side's timer (both count
    // the same timeout, the client from a little earlier): a reset that close to the deadline
    // is the deadline.
    const late = this.deadlineAt !== undefined && performance.now() >= this.deadlineAt - DEADLINE_RACE_MS;
    this.controller.abort(late ? deadlineExceeded("the call's deadline passed") : canceled("the client cancelled the call"));
    this.end(late ? GrpcCode.DeadlineExceeded : GrpcCode.Canceled);
    this.wakeReader?.();
  }

  private onDeadline(): void {
    this.timer = undefined;
    const err = deadlineExceeded("the call's deadline passed");
    this.controller.abort(err);
    this.fail(err);
  }

  private decode(raw: RawMessage): unknown {
    try {
      const bytes = raw.compressed ? this.decompress(raw.bytes) : raw.bytes;
      return fromBinary(this.entry.method.input, bytes);
    } catch (err) {
      this.fail(isBerthError(err) ? err : internal(`grpc: failed to unmarshal the request: ${(err as Error).message}`));
      this.stream.reset(ErrorCode.CANCEL);
      return undefined;
    }
  }

  private decompress(bytes: Buffer): Buffer {
    const encoding = this.stream.header("grpc-encoding") ?? "identity";
    if (encoding === "gzip") return gunzipSync(bytes, { maxOutputLength: this.env.maxRecvMessageSize });
    if (encoding === "deflate") return inflateSync(bytes, { maxOutputLength: this.env.maxRecvMessageSize });
    throw notImplemented(`grpc: compressed message with unsupported encoding ${JSON.stringify(encoding)}`);
  }

  /** The request messages of a client stream, as the handler pulls them. */
  private async *requests(): AsyncGenerator<unknown> {
    for (;;) {
      const next = this.inbox.shift();
      if (next !== undefined) {
        this.inboxBytes -= next.size;
        if (this.held > 0 && this.inboxBytes <= this.stream.recvWindowSize / 2) {
          this.stream.release(this.held);
          this.held = 0;
        }
        yield next.message;
        continue;
      }
      if (this.signal.aborted) throw this.signal.reason;
      if (this.inputEnded || this.ended) return;
      await new Promise<void>((resolve) => (this.wakeReader = resolve));
      this.wakeReader = undefined;
    }
  }

  private startHandler(input: unknown): void {
    this.handlerStarted = true;
    let ctx: CallContext;
    try {
      ctx = this.context();
    } catch (err) {
      this.fail(err);
      return;
    }
    this.run(input, ctx).catch((err: unknown) => this.fail(err));
  }

  private async run(input: unknown, ctx: CallContext): Promise<void> {
    const output = this.entry.handler(input, ctx);
    if (!this.entry.responseStream) {
      const response = await output;
      if (this.ended) return;
      this.sendMessage(response);
      this.finish(GrpcCode.OK, "");
      return;
    }
    for await (const message of output as AsyncIterable<unknown>) {
      if (this.ended || this.signal.aborted) break;
      this.sendMessage(message);
      if (this.stream.full) await this.stream.room();
    }
    if (!this.ended) this.finish(GrpcCode.OK, "");
  }

  private context(): CallContext {
    const metadata = new Map<string, string[]>();
    for (const [name, value] of this.stream.headers) {
      if (name.startsWith(":")) continue;
      const values = name.endsWith("-bin") ? value.split(",").map((v) => Buffer.from(v.trim(), "base64").toString()) : [value];
      const list = metadata.get(name);
      if (list) list.push(...values);
      else metadata.set(name, values);
    }
    const namespace = metadata.get(NAMESPACE_HEADER)?.[0];
    // A malformed namespace is the caller's error, reported before the handler runs.
    if (namespace !== undefined) validateIdentifier(namespace);
    return { namespace, metadata, signal: this.signal };
  }

  private sendMessage(message: unknown): void {
    const schema = this.entry.method.output;
    const bytes = toBinary(schema, asMessage(schema, message));
    if (bytes.length > this.env.maxSendMessageSize) {
      throw resourceExhausted(`grpc: trying to send message larger than max (${bytes.length} vs. ${this.env.maxSendMessageSize})`);
    }
    if (!this.headersSent) {
      this.headersSent = true;
      this.stream.sendHeaders(RESPONSE_HEADERS, false);
    }
    for (const piece of framedMessage(bytes)) this.stream.sendData(piece);
  }

  private fail(err: unknown): void {
    if (this.ended) return;
    const status = toGrpcStatus(err);
    if (!isBerthError(err)) this.env.reportUnexpected(this.entry.path, err);
    this.finish(status.code, status.details);
  }

  /** Sends the status as trailers (trailers-only when nothing was sent yet) and ends the call. */
  private finish(code: number, details: string): void {
    if (this.ended) return;
    this.stream.sendHeaders(statusTrailers(code, details, !this.headersSent), true);
    this.end(code);
  }

  private end(code: number): void {
    if (this.ended) return;
    this.ended = true;
    if (this.timer) clearTimeout(this.timer);
    this.untrack();
    this.entry.observer.handled(code, (performance.now() - this.started) / 1000);
  }
}

/** A handler's response as a message of `schema`: one already built is sent as is, not copied again. */
function asMessage(schema: DescMessage, msg: unknown): never {
  const typeName = (msg as { $typeName?: unknown } | null | undefined)?.$typeName;
  return (typeName === schema.typeName ? msg : create(schema, msg as never)) as never;
}

/** A call's status as trailers; `trailersOnly` adds the response headers (nothing else was sent). */
export function statusTrailers(code: number, details: string, trailersOnly: boolean): HeaderField[] {
  const fields: HeaderField[] = trailersOnly ? [...RESPONSE_HEADERS] : [];
  fields.push(["grpc-status", String(code)]);
  if (details) fields.push(["grpc-message", encodeGrpcMessage(details)]);
  return fields;
}

/**
 * grpc-message is percent-encoded UTF-8: octets outside printable ASCII, and '%', as %XX. A
 * space at either end is encoded too: HTTP/2 forbids a field value that starts or ends with
 * whitespace (RFC 9113 §8.2.1), and nghttp2 clients (grpc-js) drop such a field.
 */
function encodeGrpcMessage(text: string): string {
  const bytes = Buffer.from(text, "utf8");
  let out = "";
  for (let i = 0; i < bytes.length; i++) {
    const byte = bytes[i]!;
    const edgeSpace = byte === 0x20 && (i === 0 || i === bytes.length - 1);
    out += byte >= 0x20 && byte <= 0x7e && byte !== 0x25 && !edgeSpace ? String.fromCharCode(byte) : `%${byte.toString(16).toUpperCase().padStart(2, "0")}`;
  }
  return out;
}

/** Status for a stream that names no method this server has: grpc-go's wording. */
export function unknownMethodStatus(path: string, services: ReadonlySet<string>): { code: number; details: string } {
  const slash = path.lastIndexOf("/");
  const service = path.slice(1, slash > 0 ? slash : undefined);
  if (slash <= 0 || !services.has(service)) return { code: GrpcCode.Unimplemented, details: `unknown service ${service}` };
  return { code: GrpcCode.Unimplemented, details: `unknown method ${path.slice(slash + 1)} for service ${service}` };
}

