import { describe, expect, it } from "vitest";
import { packAny, streamingApi, unpackAny, type AnyPayload } from "@berth/api";
import { classOf, type CallContext, type ServiceImpl } from "@berth/core";
import { create } from "@bufbuild/protobuf";
import { AnySchema, EmptySchema, StringValueSchema, type Any } from "@bufbuild/protobuf/wkt";
import { MessageQueue, createStreamManager, createStreamingService } from "../src/index.js";

function call(namespace = "default") {
  const abort = new AbortController();
  const ctx: CallContext = { namespace, metadata: new Map(), signal: abort.signal };
  return { ctx, abort };
}

/** A client side: messages pushed become the handler's request stream. */
function clientStream() {
  const queue = new MessageQueue<Any>();
  const requests: AsyncIterable<Any> = {
    async *[Symbol.asyncIterator]() {
      for (;;) {
        try {
          yield await queue.next();
        } catch {
          return;
        }
      }
    },
  };
  return { queue, requests };
}

function serve(manager = createStreamManager()) {
  const binding = createStreamingService(manager).bindings[0]!;
  return { manager, impl: binding.impl as unknown as ServiceImpl<typeof streamingApi.Streaming> };
}

const text = (value: string) => create(AnySchema, packAny(StringValueSchema, { value }));
const init = (id: string) => create(AnySchema, packAny(streamingApi.StreamInitSchema, { id }));

describe("Streaming service", () => {
  it("registers the stream named by StreamInit, acks, and carries messages both ways", async () => {
    const { manager, impl } = serve();
    const { queue, requests } = clientStream();
    const { ctx, abort } = call();
    queue.push(init("progress-1"));
    const responses = impl.stream(requests, ctx)[Symbol.asyncIterator]();

    const ack = await responses.next();
    expect(unpackAny(EmptySchema, ack.value as AnyPayload)).toBeDefined();
    const stream = manager.get("default", "progress-1");
    expect(() => manager.get("other", "progress-1")).toThrow(/not found/);

    await stream.send(text("from server"));
    expect(unpackAny(StringValueSchema, (await responses.next()).value as AnyPayload)?.value).toBe("from server");

    queue.push(text("from client"));
    expect(unpackAny(StringValueSchema, await stream.recv())?.value).toBe("from client");

    await stream.close();
    expect((await responses.next()).done).toBe(true);
    expect(() => manager.get("default", "progress-1")).toThrow(/not found/);
    abort.abort();
  });

  it("refuses a first message that is not a StreamInit, and a taken ID", async () => {
    const { impl } = serve();
    const bad = clientStream();
    bad.queue.push(text("hello"));
    await expect(impl.stream(bad.requests, call().ctx)[Symbol.asyncIterator]().next()).rejects.toSatisfy((e) => classOf(e) === "InvalidArgument");

    const first = clientStream();
    first.queue.push(init("s"));
    await impl.stream(first.requests, call().ctx)[Symbol.asyncIterator]().next();
    const second = clientStream();
    second.queue.push(init("s"));
    await expect(impl.stream(second.requests, call().ctx)[Symbol.asyncIterator]().next()).rejects.toSatisfy((e) => classOf(e) === "AlreadyExists");
  });

  it("a cancelled call unregisters the stream and fails the server's pending recv", async () => {
    const { manager, impl } = serve();
    const { queue, requests } = clientStream();
    const { ctx, abort } = call();
    queue.push(init("gone"));
    const responses = impl.stream(requests, ctx)[Symbol.asyncIterator]();
    await responses.next();
    const stream = manager.get("default", "gone");
    const pending = stream.recv();
    queue.end();
    await expect(pending).rejects.toSatisfy((e) => classOf(e) === "Unavailable");
    abort.abort();
    expect((await responses.next()).done).toBe(true);
    expect(() => manager.get("default", "gone")).toThrow(/not found/);
  });
});
