import * as grpc from "@grpc/grpc-js";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { AnySchema } from "@bufbuild/protobuf/wkt";
import { eventsApi } from "@berth/api";
import { NAMESPACE_HEADER, fromGrpcStatus, invalidArgument, type BerthError } from "@berth/core";

export interface PublishArgs {
  /** The daemon's gRPC socket. */
  readonly address: string;
  readonly topic: string;
  readonly namespace: string;
}

/** How long the whole publish may take: a shim waits on it. */
const PUBLISH_TIMEOUT_MS = 10_000;

/**
 * `berthd [--address SOCK] publish --topic T --namespace NS`, with a google.protobuf.Any on
 * stdin: what shims run through `-publish-binary` to send an event. Like `containerd publish`,
 * it is a client of the running daemon's gRPC Events.Publish.
 */
export async function publishFromStdin(args: PublishArgs, stdin: NodeJS.ReadableStream): Promise<void> {
  if (args.topic === "") throw invalidArgument("topic required to publish event: invalid argument");
  const bytes = await readAll(stdin);
  let event: ReturnType<typeof fromBinary<typeof AnySchema>>;
  try {
    event = fromBinary(AnySchema, bytes);
  } catch (err) {
    throw invalidArgument(`the event on stdin is not a protobuf Any: ${(err as Error).message}`, err);
  }
  await publish(args, { topic: args.topic, event });
}

function publish(args: PublishArgs, request: { topic: string; event: { typeUrl: string; value: Uint8Array } }): Promise<void> {
  const schema = eventsApi.PublishRequestSchema;
  const method = eventsApi.Events.method.publish;
  const target = args.address.startsWith("unix:") ? args.address : `unix://${args.address}`;
  const client = new grpc.Client(target, grpc.credentials.createInsecure());
  const metadata = new grpc.Metadata();
  if (args.namespace !== "") metadata.set(NAMESPACE_HEADER, args.namespace);
  return new Promise<void>((resolve, reject) => {
    client.makeUnaryRequest(
      `/${method.parent.typeName}/${method.name}`,
      (msg: typeof request) => Buffer.from(toBinary(schema, create(schema, msg))),
      () => undefined,
      request,
      metadata,
      { deadline: Date.now() + PUBLISH_TIMEOUT_MS },
      (err) => {
        client.close();
        if (err) reject(fromGrpcStatus(err.code, err.details, err) satisfies BerthError);
        else resolve();
      },
    );
  });
}

async function readAll(stream: NodeJS.ReadableStream): Promise<Uint8Array> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(typeof chunk === "string" ? Buffer.from(chunk) : chunk);
  return Buffer.concat(chunks);
}

