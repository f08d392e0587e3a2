import { describe, expect, it } from "vitest";
import type { BerthError, Envelope } from "@berth/core";
import { createExchange } from "../src/index.js";

const payload = (n: number) => ({ typeUrl: "test.Event", value: new Uint8Array([n]) });

async function take(iterable: AsyncIterable<Envelope>, n: number): Promise<Envelope[]> {
  const out: Envelope[] = [];
  if (n === 0) return out;
  for await (const e of iterable) {
    out.push(e);
    if (out.length === n) break;
  }
  return out;
}

describe("event exchange", () => {
  it("delivers to every subscriber whose filters match, in order", async () => {
    const ex = createExchange();
    const ctl = new AbortController();
    const all = ex.subscribe([], ctl.signal);
    const tasks = ex.subscribe(["topic~=^/tasks/"], ctl.signal);
    const nsB = ex.subscribe(['namespace==b,topic=="/images/create"'], ctl.signal);
    await ex.publish("a", "/tasks/exit", payload(1));
    await ex.publish("b", "/images/create", payload(2));
    await ex.publish("b", "/tasks/start", payload(3));
    expect((await take(all, 3)).map((e) => e.event.value[0])).toEqual([1, 2, 3]);
    expect((await take(tasks, 2)).map((e) => e.topic)).toEqual(["/tasks/exit", "/tasks/start"]);
    const [only] = await take(nsB, 1);
    expect(only).toMatchObject({ namespace: "b", topic: "/images/create" });
    ctl.abort();
  });

  it("a list of filters is OR", async () => {
    const ex = createExchange();
    const ctl = new AbortController();
    const sub = ex.subscribe([`topic=="/a/x"`, "namespace==n2"], ctl.signal);
    await ex.publish("n1", "/a/x", payload(1));
    await ex.publish("n1", "/a/y", payload(2));
    await ex.publish("n2", "/a/y", payload(3));
    expect((await take(sub, 2)).map((e) => e.event.value[0])).toEqual([1, 3]);
    ctl.abort();
  });

  it("events published right after subscribe() are not lost", async () => {
    const ex = createExchange();
    const ctl = new AbortController();
    const sub = ex.subscribe([], ctl.signal);
    await ex.publish("n", "/x/y", payload(7));
    expect((await take(sub, 1))[0]?.event.value[0]).toBe(7);
    ctl.abort();
  });

  it("aborting the signal ends the iteration", async () => {
    const ex = createExchange();
    const ctl = new AbortController();
    const sub = ex.subscribe([], ctl.signal);
    setTimeout(() => ctl.abort(), 20);
    expect(await take(sub, 5)).toEqual([]);
  });

  it("forward keeps the original timestamp and namespace", async () => {
    const ex = createExchange();
    const ctl = new AbortController();
    const sub = ex.subscribe([], ctl.signal);
    const timestamp = new Date("2020-01-01T00:00:00Z");
    await ex.forward({ timestamp, namespace: "shim-ns", topic: "/tasks/oom", event: payload(1) });
    expect((await take(sub, 1))[0]).toMatchObject({ timestamp, namespace: "shim-ns", topic: "/tasks/oom" });
    ctl.abort();
  });

  it("rejects malformed topics, namespaces and filters with InvalidArgument", async () => {
    const ex = createExchange();
    for (const [ns, topic] of [["n", "no-slash"], ["n", "/a//b"], ["bad/ns", "/a/b"]] as const) {
      const err = (await ex.publish(ns, topic, payload(0)).catch((e: unknown) => e)) as BerthError;
      expect(err.errClass, `${ns} ${topic}`).toBe("InvalidArgument");
    }
    expect(() => ex.subscribe(["topic=="], new AbortController().signal)).toThrow(expect.objectContaining({ errClass: "InvalidArgument" }));
  });

  it("a subscriber that falls too far behind is cut off; publishers never wait", async () => {
    const ex = createExchange({ maxBacklog: 10 });
    const ctl = new AbortController();
    const slow = ex.subscribe([], ctl.signal);
    const fast = ex.subscribe([], ctl.signal);
    const iterator = fast[Symbol.asyncIterator]();
    for (let i = 0; i < 25; i++) {
      await ex.publish("n", "/x/y", payload(i));
      expect((await iterator.next()).value?.event.value[0]).toBe(i);
    }
    const got: number[] = [];
    const err = await (async () => {
      for await (const e of slow) got.push(e.event.value[0]!);
    })().catch((e: unknown) => e);
    expect(got).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect((err as BerthError).errClass).toBe("ResourceExhausted");
    ctl.abort();
  });
});
