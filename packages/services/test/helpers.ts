import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { create, type DescMessage, type DescService, type MessageInitShape, type MessageShape } from "@bufbuild/protobuf";
import { classOf, type ErrorClass, type GrpcService, type ServiceImpl } from "@berth/core";

export const exec = promisify(execFile);

/** The handlers a GrpcService binds for `desc`, typed from the descriptor. */
export function handlers<S extends DescService>(service: GrpcService, desc: S): ServiceImpl<S> {
  const binding = service.bindings.find((b) => b.service.typeName === desc.typeName);
  if (!binding) throw new Error(`${desc.typeName} is not bound`);
  return binding.impl as unknown as ServiceImpl<S>;
}

/** A request message as the server decodes it. */
export function msg<D extends DescMessage>(schema: D, init: MessageInitShape<D>): MessageShape<D> {
  return create(schema, init);
}

/** The error class `promise` rejects with (fails if it resolves). */
export async function errClass(promise: Promise<unknown>): Promise<ErrorClass> {
  try {
    await promise;
  } catch (err) {
    return classOf(err);
  }
  throw new Error("expected a rejection");
}

export async function collect<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of iterable) out.push(item);
  return out;
}

/**
 * A request stream the test feeds one message at a time, read by a handler as an async
 * iterable (what the gRPC server hands a bidi handler).
 */
export class RequestStream<T> implements AsyncIterable<T> {
  readonly #items: T[] = [];
  #waiter: ((r: IteratorResult<T>) => void) | undefined;
  #ended = false;

  push(item: T): void {
    if (this.#waiter) {
      const w = this.#waiter;
      this.#waiter = undefined;
      w({ value: item, done: false });
    } else this.#items.push(item);
  }

  end(): void {
    this.#ended = true;
    if (this.#waiter) {
      const w = this.#waiter;
      this.#waiter = undefined;
      w({ value: undefined, done: true });
    }
  }

  [Symbol.asyncIterator](): AsyncIterator<T> {
    return {
      next: () => {
        const item = this.#items.shift();
        if (item !== undefined) return Promise.resolve({ value: item, done: false });
        if (this.#ended) return Promise.resolve({ value: undefined, done: true });
        return new Promise((resolve) => (this.#waiter = resolve));
      },
    };
  }
}

/** Fails (never skips) when a tool the test drives is missing, saying how to get it. */
export async function requireTool(tool: string, debianPackage: string): Promise<void> {
  try {
    await exec("sh", ["-c", `command -v ${tool}`]);
  } catch {
    throw new Error(`${tool} is required for this test (Debian package ${debianPackage}); run scripts/setup.sh`);
  }
}

export function requireRoot(): void {
  if (process.getuid?.() !== 0) throw new Error("this test needs root (the daemon chowns its socket and locks its root); run it as root");
}
