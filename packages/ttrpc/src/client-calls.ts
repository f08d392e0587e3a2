import { create, fromBinary, toBinary, type DescMessage, type DescMethod, type MessageInitShape, type MessageShape } from "@bufbuild/protobuf";
import { internal, resourceExhausted, type BerthError } from "@berth/core";
import type { ClientConnection, StreamReceiver } from "./client-connection.js";
import { openCallScope, type TtrpcCallOptions } from "./call-scope.js";
import { decodeResponse } from "./envelope.js";
import { Flag, hasFlag, MessageType, type Frame } from "./frame.js";
import { MessageQueue, STREAM_BUFFER_MESSAGES, STREAM_STALL_MS } from "./message-queue.js";
import { errorFromStatus } from "./status.js";

const EMPTY = new Uint8Array(0);

export interface CallTarget {
  readonly connection: ClientConnection;
  readonly method: DescMethod;
  readonly defaults: TtrpcCallOptions;
}

type In = MessageInitShape<DescMessage>;
type Out = MessageShape<DescMessage>;

export function callUnary({ connection, method, defaults }: CallTarget, request: In, options?: TtrpcCallOptions): Promise<Out> {
  return new Promise((resolve, reject) => {
    const payload = encode(method.input, request);
    let id = 0;
    const scope = openCallScope(method.parent.typeName, method.name, defaults, options, (error) => {
      connection.forget(id);
      reject(error);
    });
    if (scope.ended) return reject(scope.ended);
    const receiver: StreamReceiver = {
      receive(frame) {
        scope.dispose();
        if (frame.type !== MessageType.Response) {
          connection.forget(id);
          reject(internal(`ttrpc: unexpected ${frameName(frame.type)} frame on unary call ${method.parent.typeName}/${method.name}`));
          return undefined;
        }
        try {
          const response = decodeResponse(frame.data);
          const error = errorFromStatus(response.status);
          if (error) reject(error);
          else resolve(decode(method.output, response.payload));
        } catch (err) {
          reject(err);
        }
        return undefined;
      },
      fail(error) {
        scope.dispose();
        reject(error);
      },
    };
    try {
      id = connection.open(scope.head, payload, 0, receiver);
    } catch (err) {
      scope.dispose();
      reject(err);
    }
  });
}

/** A server stream: the request is sent when iteration starts; breaking out abandons the stream. */
export async function* callServerStream(target: CallTarget, request: In, options?: TtrpcCallOptions): AsyncGenerator<Out> {
  const payload = encode(target.method.input, request);
  yield* runStream(target, options, Flag.RemoteClosed, payload, undefined);
}

/** Sends every request as stream data, then waits for the server's one response. */
export async function callClientStream(target: CallTarget, requests: AsyncIterable<In>, options?: TtrpcCallOptions): Promise<Out> {
  for await (const response of runStream(target, options, Flag.RemoteOpen, EMPTY, requests)) return response;
  throw internal(`ttrpc: ${target.method.parent.typeName}/${target.method.name} ended without a response`);
}

/** Requests flow out while responses flow in; the call starts when iteration starts. */
export async function* callBidiStream(target: CallTarget, requests: AsyncIterable<In>, options?: TtrpcCallOptions): AsyncGenerator<Out> {
  yield* runStream(target, options, Flag.RemoteOpen, EMPTY, requests);
}

/**
 * Any non-unary call: opens the stream, sends `requests` (if the client streams) as data
 * frames closed by a bare remote-closed frame, and yields what the server sends. A final
 * Response carries an error or, for a client-streaming method, the one response message.
 */
async function* runStream(
  { connection, method, defaults }: CallTarget,
  options: TtrpcCallOptions | undefined,
  flags: number,
  payload: Uint8Array,
  requests: AsyncIterable<In> | undefined,
): AsyncGenerator<Out> {
  let id = 0;
  const queue = new MessageQueue<Uint8Array>(STREAM_BUFFER_MESSAGES, () => connection.forget(id));
  const scope = openCallScope(method.parent.typeName, method.name, defaults, options, (error) => {
    connection.forget(id);
    queue.fail(error);
  });
  if (scope.ended) throw scope.ended;
  const serverStreams = method.methodKind === "server_streaming" || method.methodKind === "bidi_streaming";
  const receiver = streamReceiver(queue, serverStreams, (error) => {
    connection.forget(id);
    queue.fail(error);
  });
  let stopped = false;
  try {
    id = connection.open(scope.head, payload, flags, receiver);
    if (requests) {
      sendRequests(connection, id, method.input, requests, () => stopped || !connection.isOpen(id)).catch((error: unknown) => {
        connection.forget(id);
        queue.fail(error);
      });
    }
    for await (const data of queue) yield decode(method.output, data);
  } finally {
    stopped = true;
    scope.dispose();
    connection.forget(id);
  }
}

async function sendRequests(
  connection: ClientConnection,
  id: number,
  schema: DescMessage,
  requests: AsyncIterable<In>,
  done: () => boolean,
): Promise<void> {
  try {
    for await (const request of requests) {
      if (done()) return;
      await connection.sendData(id, 0, encode(schema, request));
    }
  } catch (err) {
    // Closing lets the server finish instead of waiting for data that will never come.
    if (!done()) await connection.sendData(id, Flag.RemoteClosed | Flag.NoData, EMPTY).catch(() => {});
    throw err;
  }
  if (!done()) await connection.sendData(id, Flag.RemoteClosed | Flag.NoData, EMPTY);
}

function streamReceiver(queue: MessageQueue<Uint8Array>, serverStreams: boolean, fail: (error: BerthError) => void): StreamReceiver {
  return {
    receive(frame: Frame) {
      if (frame.type === MessageType.Response) {
        try {
          const response = decodeResponse(frame.data);
          const error = errorFromStatus(response.status);
          if (error) return void queue.fail(error);
          // A client-streaming method's result comes as the response, even when it is empty.
          if (!serverStreams || response.payload.length > 0) queue.push(response.payload);
          queue.end();
        } catch (err) {
          queue.fail(err);
        }
        return undefined;
      }
      if (frame.type !== MessageType.Data) return undefined;
      if (!serverStreams) {
        fail(internal("ttrpc: received stream data from a method that does not stream responses"));
        return undefined;
      }
      if (!hasFlag(frame.flags, Flag.NoData)) queue.push(frame.data);
      if (hasFlag(frame.flags, Flag.RemoteClosed)) queue.end();
      if (!queue.full) return undefined;
      return queue.waitForRoom(STREAM_STALL_MS).then((room) => {
        if (!room) fail(resourceExhausted(`ttrpc: stream buffer full: its reader has not taken a message for ${STREAM_STALL_MS} ms`));
      });
    },
    fail: (error) => queue.fail(error),
  };
}

function encode(schema: DescMessage, message: In): Uint8Array {
  return toBinary(schema, create(schema, message));
}

function decode(schema: DescMessage, data: Uint8Array): Out {
  try {
    return fromBinary(schema, data);
  } catch (err) {
    throw internal(`ttrpc: cannot decode ${schema.typeName}: ${(err as Error).message}`, err);
  }
}

function frameName(type: number): string {
  return type === MessageType.Data ? "data" : type === MessageType.Request ? "request" : `type ${type}`;
}
