import { contentApi } from "@berth/api";
import { internal, notImplemented, type ContentInfo, type ContentWriter, type IngestStatus, type OpContext, type WriterOptions } from "@berth/core";
import type { MessageInitShape } from "@bufbuild/protobuf";
import { timestampDate } from "@bufbuild/protobuf/wkt";
import { callOptions, nameProxy, type ProxyConnection } from "./proxy-connection.js";
import { RequestQueue } from "./request-queue.js";

type WriteIn = MessageInitShape<typeof contentApi.WriteContentRequestSchema>;
const { STAT, WRITE, COMMIT } = contentApi.WriteAction;

/**
 * One ingest held over a Write stream, in lock-step: each request waits for its response, as
 * containerd's remote writer does. The stream holds the ref on the server until close.
 */
export async function openProxyWriter(
  conn: ProxyConnection,
  name: string,
  ctx: OpContext,
  opts: WriterOptions,
  info: (digest: string) => Promise<ContentInfo>,
): Promise<ContentWriter> {
  const client = conn.service(contentApi.Content);
  const requests = new RequestQueue<WriteIn>();
  const responses = client.write(requests, callOptions(ctx))[Symbol.asyncIterator]();
  let offset = 0;
  let total = opts.total ?? 0;
  let digest = "";
  let startedAt = new Date(0);
  let updatedAt = new Date(0);
  let restart = false;
  let done = false;

  const exchange = async (req: WriteIn): Promise<contentApi.WriteContentResponse> => {
    if (done) throw internal(`ingest ${opts.ref}: writer already closed`);
    try {
      requests.push({ ref: opts.ref, ...req });
      const next = await responses.next();
      if (next.done) throw internal(`proxy plugin ${name} ended the write stream of ${opts.ref} early`);
      const res = next.value;
      offset = Number(res.offset);
      if (res.total > 0n) total = Number(res.total);
      if (res.digest !== "") digest = res.digest;
      if (res.startedAt) startedAt = timestampDate(res.startedAt);
      if (res.updatedAt) updatedAt = timestampDate(res.updatedAt);
      return res;
    } catch (err) {
      await finish();
      throw nameProxy(name, conn.target, err);
    }
  };
  const finish = async () => {
    if (done) return;
    done = true;
    // Half-close and wait for the server to end the call: it releases the ref before it ends,
    // so a writer opened right after close() finds the ref free.
    requests.end();
    try {
      while (!(await responses.next()).done);
    } catch {
      // The stream failed or was cut: the ref is released with it.
    }
  };

  // The first message opens (or resumes) the ingest and fails as writer() must (locked, exists).
  await exchange({ action: STAT, total: BigInt(total), expected: opts.expected ?? "" });

  const status = (): IngestStatus => ({ ref: opts.ref, offset, total, expected: opts.expected ?? "", startedAt, updatedAt });
  return {
    ref: opts.ref,
    status: async () => {
      await exchange({ action: STAT });
      return status();
    },
    write: async (data) => {
      // offset 0 on an ingest with data restarts it: that is how the protocol truncates.
      await exchange({ action: WRITE, offset: restart ? 0n : BigInt(offset), data });
      restart = false;
      return offset;
    },
    truncate: async (size) => {
      if (size === offset) return;
      if (size !== 0) throw notImplemented(`proxy plugin ${name}: content.v1 can only truncate an ingest to 0, not ${size}`);
      restart = true;
      offset = 0;
    },
    digest: () => digest,
    commit: async (size, expected, labels) => {
      try {
        const res = await exchange({ action: COMMIT, offset: restart ? 0n : BigInt(offset), total: BigInt(size), expected, labels: { ...labels } });
        return await info(res.digest);
      } finally {
        await finish();
      }
    },
    close: finish,
  };
}
