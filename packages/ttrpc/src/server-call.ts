import { create, fromBinary, toBinary, type DescMessage, type DescMethod, type MessageShape } from "@bufbuild/protobuf";
import { classOf, invalidArgument, isBerthError, type CallContext, type Logger } from "@berth/core";
import { Flag } from "./frame.js";
import type { ResponseStatus } from "./envelope.js";
import type { MessageQueue } from "./message-queue.js";
import { OK_STATUS, statusFromError } from "./status.js";

/** A registered handler, in any of core's MethodImpl forms. */
export type AnyHandler = (input: unknown, ctx: CallContext) => unknown;

/** How a call answers on its stream. */
export interface CallIo {
  /** The final Response frame (status and payload). */
  respond(status: ResponseStatus, payload: Uint8Array): Promise<void>;
  /** A data frame; rejects with ResourceExhausted when the message is too large for a frame. */
  sendData(flags: number, payload: Uint8Array): Promise<void>;
}

export interface ServerCall {
  readonly method: DescMethod;
  readonly handler: AnyHandler;
  readonly ctx: CallContext;
  /** The request's payload: the request message for unary and server-streaming methods. */
  readonly payload: Uint8Array;
  /** Messages the client streams (client- and bidi-streaming methods). */
  readonly input: MessageQueue<Uint8Array> | undefined;
  readonly io: CallIo;
  readonly log: Logger | undefined;
}

const EMPTY = new Uint8Array(0);

/**
 * Runs one call's handler and answers it the way Go's ttrpc server does: a unary or
 * client-streaming method ends with a Response carrying the result; a server-streaming method
 * sends each message as data and ends with a bare remote-closed data frame; any failure ends
 * the stream with a Response carrying the error's status.
 */
export async function runServerCall(call: ServerCall): Promise<void> {
  const { method, handler, ctx, io } = call;
  try {
    switch (method.methodKind) {
      case "unary": {
        const response = await handler(decode(method.input, call.payload), ctx);
        await io.respond(OK_STATUS, encode(method.output, response));
        return;
      }
      case "client_streaming": {
        const response = await handler(decodeAll(method.input, call.input!), ctx);
        await io.respond(OK_STATUS, encode(method.output, response));
        return;
      }
      case "server_streaming":
      case "bidi_streaming": {
        const input = method.methodKind === "server_streaming" ? decode(method.input, call.payload) : decodeAll(method.input, call.input!);
        for await (const response of handler(input, ctx) as AsyncIterable<unknown>) {
          if (ctx.signal.aborted) throw ctx.signal.reason;
          await io.sendData(0, encode(method.output, response));
        }
        await io.sendData(Flag.RemoteClosed | Flag.NoData, EMPTY);
        return;
      }
    }
  } catch (err) {
    if (!isBerthError(err) && !ctx.signal.aborted) {
      call.log?.error("ttrpc handler failed", { method: `${method.parent.typeName}/${method.name}`, error: err });
    }
    await io.respond(statusFor(err, ctx.signal), EMPTY).catch(() => {
      // The connection is gone; nobody is left to tell.
    });
  }
}

/** A handler that gave up because its signal fired reports why the signal fired (deadline, closed connection). */
function statusFor(err: unknown, signal: AbortSignal): ResponseStatus {
  const cls = classOf(err);
  if (signal.aborted && (cls === "Canceled" || cls === "Unknown")) return statusFromError(signal.reason);
  return statusFromError(err);
}

function decode(schema: DescMessage, data: Uint8Array): MessageShape<DescMessage> {
  try {
    return fromBinary(schema, data);
  } catch (err) {
    throw invalidArgument(`ttrpc: cannot decode ${schema.typeName}: ${(err as Error).message}`, err);
  }
}

async function* decodeAll(schema: DescMessage, input: MessageQueue<Uint8Array>): AsyncGenerator<MessageShape<DescMessage>> {
  for await (const data of input) yield decode(schema, data);
}

function encode(schema: DescMessage, message: unknown): Uint8Array {
  return toBinary(schema, create(schema, message as never));
}
