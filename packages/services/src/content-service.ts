import { contentApi, eventPayloads } from "@berth/api";
import {
  bindService,
  invalidArgument,
  outOfRange,
  type CallContext,
  type GrpcService,
  type MetadataStore,
  type Publisher,
} from "@berth/core";
import type { MessageInitShape } from "@bufbuild/protobuf";
import {
  contentInfoToWire,
  contentUpdateFromWire,
  ingestStatusToWire,
  type ContentInfoOut,
} from "@berth/wire";
import { serveWrite } from "./content-write.js";
import { checkFilters, digestProblem, int64ToNumber, maskPaths, opContext, publishEvent, required, withPrefix } from "./edge.js";

/** Infos per ListContentResponse, as containerd batches them. */
export const LIST_BATCH = 100;
/** The largest chunk of blob data one ReadContentResponse carries (containerd's read buffer). */
export const READ_CHUNK = 1 << 20;

type ReadOut = MessageInitShape<typeof contentApi.ReadContentResponseSchema>;

/**
 * containerd.services.content.v1.Content over the metadata store's namespaced content view.
 * Publishes /content/create after a commit through Write and /content/delete after Delete.
 */
export function createContentService(metadata: Pick<MetadataStore, "content">, publisher: Publisher): GrpcService {
  const store = metadata.content;
  return {
    bindings: [
      bindService(contentApi.Content, {
        async info(req, ctx) {
          requireDigest(req.digest, `"${req.digest}" failed validation`);
          return { info: contentInfoToWire(await store.info(opContext(ctx), req.digest)) };
        },

        async update(req, ctx) {
          const info = required(req.info, "info");
          requireDigest(info.digest, `"${info.digest}" failed validation`);
          const updated = await store.update(opContext(ctx), contentUpdateFromWire(info), maskPaths(req.updateMask));
          return { info: contentInfoToWire(updated) };
        },

        async *list(req, ctx) {
          const op = opContext(ctx);
          let batch: ContentInfoOut[] = [];
          for await (const info of store.walk(op, checkFilters(req.filters))) {
            batch.push(contentInfoToWire(info));
            if (batch.length >= LIST_BATCH) {
              yield { info: batch };
              batch = [];
            }
          }
          if (batch.length > 0) yield { info: batch };
        },

        async delete(req, ctx) {
          requireDigest(req.digest);
          const op = opContext(ctx);
          await store.delete(op, req.digest);
          await publishEvent(publisher, op.namespace, "/content/delete", eventPayloads.ContentDeleteSchema, { digest: req.digest });
          return {};
        },

        read: (req, ctx) => read(req, ctx),

        async status(req, ctx) {
          const op = opContext(ctx);
          try {
            return { status: ingestStatusToWire(await store.status(op, req.ref)) };
          } catch (err) {
            throw withPrefix(err, `could not get status for ref "${req.ref}"`);
          }
        },

        async listStatuses(req, ctx) {
          const op = opContext(ctx);
          const statuses = await store.listStatuses(op, checkFilters(req.filters));
          return { statuses: statuses.map(ingestStatusToWire) };
        },

        write: (requests, ctx) => serveWrite(store, publisher, requests, ctx),

        async abort(req, ctx) {
          await store.abort(opContext(ctx), req.ref);
          return {};
        },
      }),
    ],
  };

  /**
   * `size` bytes (0 or past the end: to the end) from `offset`, in chunks of at most
   * READ_CHUNK bytes, each with its offset in the blob.
   */
  async function* read(req: contentApi.ReadContentRequest, ctx: CallContext): AsyncGenerator<ReadOut> {
    const problem = digestProblem(req.digest);
    if (problem) throw invalidArgument(`${req.digest}: ${problem}`);
    const op = opContext(ctx);
    const info = await store.info(op, req.digest);
    const offset = Math.max(0, int64ToNumber(req.offset, "offset"));
    if (offset > info.size) throw outOfRange(`read past object length ${info.size} bytes`);
    let size = int64ToNumber(req.size, "size");
    if (size <= 0 || offset + size > info.size) size = info.size - offset;
    if (size === 0) return;

    // The stream ends right after the last byte asked for, without waiting for the store's
    // cleanup (a file close): containerd's remote reader cancels each Read the moment it has
    // its bytes, and every stream still open then costs an HTTP/2 reset. (Node's HTTP/2
    // server allows 1000 resets plus 33 a second per connection; the daemon has to raise
    // that for ctr's 32 KiB reads of large blobs.)
    const end = offset + size;
    const chunks = store.read(op, req.digest, { offset, size })[Symbol.asyncIterator]();
    let position = offset;
    let done = false;
    try {
      while (!done) {
        const next = await chunks.next();
        if (next.done) break;
        const chunk = next.value;
        for (let start = 0; start < chunk.length && !done; start += READ_CHUNK) {
          const length = Math.min(READ_CHUNK, chunk.length - start, end - position);
          const data = start === 0 && length === chunk.length ? chunk : chunk.subarray(start, start + length);
          position += data.length;
          done = position >= end;
          yield { offset: BigInt(position - data.length), data };
        }
      }
    } catch (err) {
      // A client that has what it wanted cancels the call: the store's abort ends the stream,
      // it is not a failure.
      if (ctx.signal.aborted) return;
      throw err;
    } finally {
      void Promise.resolve(chunks.return?.()).catch(() => undefined);
    }
  }
}

function requireDigest(digest: string, message?: string): void {
  const problem = digestProblem(digest);
  if (problem) throw invalidArgument(message ?? problem);
}
