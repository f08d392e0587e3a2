// The Write stream of containerd.services.content.v1.Content, message for message as
// containerd's content server runs it:
//
//   - The first message names the ingest (`ref`, else InvalidArgument) and may declare
//     `total` and `expected`; it opens (or resumes) the ingest and holds it for the stream.
//     A ref another stream holds is Unavailable.
//   - Every message gets exactly one response, echoing its action and carrying the ingest's
//     offset. One response object lives for the whole stream, so fields set by an earlier
//     message (total, started/updated, digest) stay in later responses, as containerd's do.
//   - STAT reports the ingest: offset, total, digest so far, started/updated.
//   - WRITE and COMMIT carry `offset` and `data`. A non-zero offset other than the ingest's
//     is OutOfRange; offset 0 on an ingest that has data restarts it (truncates to 0). The
//     data is appended.
//   - Any message with `expected` whose blob already exists aborts the ingest: AlreadyExists.
//     A non-zero `total` replaces the expected size.
//   - COMMIT then verifies size and digest (FailedPrecondition on a mismatch, the ingest is
//     kept) and commits with the message's labels; its response carries the digest, and the
//     stream ends after it. /content/create is published before that response.
//   - When the client ends the stream (or cancels it), the writer is closed: the ingest stays
//     for a later stream to resume, and the ref is free again.
import { contentApi, eventPayloads } from "@berth/api";
import {
  alreadyExists,
  canceled,
  invalidArgument,
  outOfRange,
  type CallContext,
  type ContentStore,
  type ContentWriter,
  type OpContext,
  type Publisher,
} from "@berth/core";
import type { MessageInitShape } from "@bufbuild/protobuf";
import { timestampFromDate, type Timestamp } from "@bufbuild/protobuf/wkt";
import { int64ToNumber, opContext, publishEvent } from "./edge.js";

type WriteIn = contentApi.WriteContentRequest;
type WriteOut = MessageInitShape<typeof contentApi.WriteContentResponseSchema>;
interface Response {
  action: contentApi.WriteAction;
  offset: bigint;
  total: bigint;
  digest: string;
  startedAt?: Timestamp;
  updatedAt?: Timestamp;
}

const { STAT, WRITE, COMMIT } = contentApi.WriteAction;

export async function* serveWrite(
  store: ContentStore,
  publisher: Publisher,
  requests: AsyncIterable<WriteIn>,
  ctx: CallContext,
): AsyncGenerator<WriteOut> {
  const incoming = receiver(requests, ctx.signal);
  let req = await incoming.next();
  if (req === undefined) throw invalidArgument("write stream ended before its first message");
  const ref = req.ref;
  if (ref === "") throw invalidArgument("first message must have a reference");
  const op = opContext(ctx);
  let total = int64ToNumber(req.total, "total");
  let expected = req.expected;

  const ingest = new HeldWriter(await store.writer(op, { ref, total: Math.max(total, 0), expected }));
  try {
    const resp: Response = { action: STAT, offset: 0n, total: 0n, digest: "" };
    for (;;) {
      resp.action = req.action;
      const status = await ingest.writer.status();
      resp.offset = BigInt(status.offset);

      if (req.expected !== "") {
        expected = req.expected;
        if (await exists(store, op, expected)) {
          await ingest.close();
          await store.abort(op, ref).catch(() => undefined);
          throw alreadyExists(`blob with expected digest ${expected} exists`);
        }
      }
      const reqTotal = int64ToNumber(req.total, "total");
      if (reqTotal > 0) total = reqTotal;

      switch (req.action) {
        case STAT:
          resp.digest = ingest.writer.digest();
          resp.startedAt = timestampFromDate(status.startedAt);
          resp.updatedAt = timestampFromDate(status.updatedAt);
          resp.total = BigInt(total);
          break;
        case WRITE:
        case COMMIT: {
          const offset = int64ToNumber(req.offset, "offset");
          if (offset > 0 && offset !== status.offset) {
            throw outOfRange(`write @${offset} must occur at current offset ${status.offset}`);
          }
          if (offset === 0 && status.offset > 0) {
            await ingest.writer.truncate(0);
            resp.offset = 0n;
          }
          if (req.data.length > 0) resp.offset = BigInt(await ingest.writer.write(req.data));
          if (req.action === COMMIT) {
            const labels = Object.keys(req.labels).length > 0 ? { ...req.labels } : undefined;
            const info = await ingest.commit(Math.max(total, 0), expected, labels);
            resp.digest = info.digest;
            await publishEvent(publisher, op.namespace, "/content/create", eventPayloads.ContentCreateSchema, {
              digest: info.digest,
              size: BigInt(info.size),
            });
          } else {
            resp.digest = ingest.writer.digest();
          }
          break;
        }
        default:
          // containerd answers an action it does not know with the offset and nothing else.
          break;
      }

      yield { ...resp };
      if (req.action === COMMIT) return;

      req = await incoming.next();
      if (req === undefined) return;
    }
  } finally {
    // Releasing the ref must not hide why the stream ended; a failed close has no one to tell.
    await ingest.close().catch(() => undefined);
  }
}

/** The writer a stream holds, released exactly once: by close, or by commit whatever its outcome. */
class HeldWriter {
  #closed = false;
  constructor(readonly writer: ContentWriter) {}

  async commit(size: number, expected: string, labels: Readonly<Record<string, string>> | undefined) {
    this.#closed = true;
    return this.writer.commit(size, expected, labels);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.writer.close();
  }
}

async function exists(store: ContentStore, op: OpContext, digest: string): Promise<boolean> {
  try {
    await store.info(op, digest);
    return true;
  } catch {
    // As containerd: only a successful lookup counts; any error means "not there".
    return false;
  }
}

/**
 * Pulls one request at a time; undefined at the end of the stream. A cancelled call ends the
 * wait at once (Canceled), so the writer is released even if the transport never ends the
 * request stream. The source is never closed from here: for a gRPC call that would tear down
 * the response side too.
 */
function receiver<T>(source: AsyncIterable<T>, signal: AbortSignal) {
  const iterator = source[Symbol.asyncIterator]();
  return {
    async next(): Promise<T | undefined> {
      if (signal.aborted) throw canceled("write stream canceled");
      let onAbort: (() => void) | undefined;
      const aborted = new Promise<never>((_, reject) => {
        onAbort = () => reject(canceled("write stream canceled"));
        signal.addEventListener("abort", onAbort, { once: true });
      });
      try {
        const result = await Promise.race([iterator.next(), aborted]);
        return result.done ? undefined : result.value;
      } finally {
        signal.removeEventListener("abort", onAbort!);
      }
    },
  };
}
