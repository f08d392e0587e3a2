import { packAny, streamingApi, unpackAny, type AnyPayload } from "@berth/api";
import { bindService, invalidArgument, requireNamespace, type GrpcService, type Stream, type StreamManager, type TypedValue } from "@berth/core";
import { EmptySchema } from "@bufbuild/protobuf/wkt";
import { MessageQueue } from "./message-queue.js";

/**
 * containerd.services.streaming.v1.Streaming: the client's first message names the stream
 * (StreamInit); the stream is registered, acknowledged with an Empty, and then carries
 * messages both ways until either side closes it or the call ends.
 */
export function createStreamingService(manager: StreamManager): GrpcService {
  return {
    bindings: [
      bindService(streamingApi.Streaming, {
        async *stream(requests, ctx) {
          const namespace = requireNamespace(ctx);
          const incoming = requests[Symbol.asyncIterator]();
          const first = await incoming.next();
          const init = first.done ? undefined : unpackAny(streamingApi.StreamInitSchema, first.value);
          if (init === undefined || init.id === "") throw invalidArgument("the first message of a stream must be a StreamInit with an id");

          const fromClient = new MessageQueue<TypedValue>();
          const toClient = new MessageQueue<TypedValue>();
          const stream: Stream = {
            send: async (message) => toClient.push(message),
            recv: (signal) => fromClient.next(signal),
            close: async () => {
              toClient.end();
              fromClient.end();
            },
          };
          const unregister = manager.register(namespace, init.id, stream);
          try {
            void pump(incoming, fromClient);
            yield packAny(EmptySchema, {});
            for (;;) {
              let message: AnyPayload;
              try {
                message = await toClient.next(ctx.signal);
              } catch {
                return;
              }
              yield message;
            }
          } finally {
            fromClient.end();
            unregister();
          }
        },
      }),
    ],
  };
}

/** Moves the client's messages into the queue; a half-close leaves the other direction open. */
async function pump(incoming: AsyncIterator<AnyPayload>, into: MessageQueue<TypedValue>): Promise<void> {
  try {
    for (let r = await incoming.next(); !r.done; r = await incoming.next()) into.push({ typeUrl: r.value.typeUrl, value: r.value.value });
  } catch {
    // The call ended; the generator's finally closes the queue.
  } finally {
    into.end();
  }
}
