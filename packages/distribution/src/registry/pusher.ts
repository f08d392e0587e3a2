import { failedPrecondition, invalidArgument, isBerthError, type Descriptor } from "@berth/core";
import type { HttpResponse } from "../http/http-client.js";
import { backoff, isTransientError } from "../http/retry.js";
import type { RegistryHost } from "../hosts/registry-host.js";
import { createDigester, parseDigest } from "../reference/digest.js";
import type { ImageReference } from "../reference/reference.js";
import { isManifestOrIndex } from "./media-types.js";
import { responseError } from "./registry-error.js";
import { repositoryScope, type Repository } from "./repository.js";
import { send, type RegistryRequest } from "./session.js";

/** The bytes to push: all of them, or a function that streams them (called again on a retry). */
export type PushBody = Uint8Array | (() => AsyncIterable<Uint8Array>);

export interface PushOptions {
  readonly signal?: AbortSignal | undefined;
  /**
   * Manifests and indexes: put under the reference's tag (default true when it has one and does
   * not pin another digest) or only by digest (false: children of an index, pushed before it).
   */
  readonly tag?: boolean | undefined;
  /**
   * Repositories on the same registry that may already hold this blob: tried in order with a
   * cross-repository mount before uploading. The descriptor annotation
   * `containerd.io/distribution.source.<registry>` ("repo1,repo2") is used too.
   */
  readonly mountFrom?: readonly string[] | undefined;
  /** Upload blobs in PATCH chunks of this many bytes instead of one PUT. */
  readonly chunkSize?: number | undefined;
}

export interface PushResult {
  readonly descriptor: Descriptor;
  /** exists: the registry had it; mounted: linked from another repository; uploaded: sent. */
  readonly outcome: "exists" | "mounted" | "uploaded";
  /** For "mounted": the repository it came from. */
  readonly mountedFrom?: string | undefined;
}

/** Writes blobs and manifests into one repository. */
export interface Pusher {
  readonly reference: ImageReference;
  /** Pushes `desc` (existence check, mount, upload; manifests by tag or digest). */
  push(desc: Descriptor, body: PushBody, opts?: PushOptions): Promise<PushResult>;
}

const SOURCE_ANNOTATION = "containerd.io/distribution.source.";

export function createPusher(repo: Repository): Pusher {
  return {
    reference: repo.reference,
    async push(desc, body, opts = {}) {
      parseDigest(desc.digest, "descriptor digest");
      if (!Number.isSafeInteger(desc.size) || desc.size < 0) throw invalidArgument(`push ${desc.digest}: invalid size ${desc.size}`);
      const [endpoint] = await repo.endpoints(["push"]);
      const ctx = { repo, endpoint: endpoint!, desc, opts };
      if (isManifestOrIndex(desc.mediaType)) return pushManifest(ctx, body);
      return pushBlob(ctx, body);
    },
  };
}

interface PushContext {
  readonly repo: Repository;
  readonly endpoint: RegistryHost;
  readonly desc: Descriptor;
  readonly opts: PushOptions;
}

function request(ctx: PushContext, req: Omit<RegistryRequest, "repository" | "domain" | "scopes" | "signal" | "what"> & { scopes?: readonly string[] }) {
  const { repo, desc, opts } = ctx;
  return send(repo.session, ctx.endpoint, {
    repository: repo.reference.path,
    domain: repo.reference.domain,
    scopes: [repositoryScope(repo.reference.path, true)],
    signal: opts.signal,
    what: `push ${desc.digest} to ${repo.name}`,
    ...req,
  });
}

async function pushManifest(ctx: PushContext, body: PushBody): Promise<PushResult> {
  const { repo, desc } = ctx;
  // A reference pinned to another digest names a different root: this one goes by digest.
  const pinnedElsewhere = repo.reference.digest !== undefined && repo.reference.digest !== desc.digest;
  const tag = ctx.opts.tag !== false && !pinnedElsewhere ? repo.reference.tag : undefined;
  const target = `manifests/${tag ?? desc.digest}`;
  const what = `push ${desc.digest} to ${repo.name}`;

  const head = await request(ctx, { method: "HEAD", target, headers: { accept: `${desc.mediaType}, */*` } });
  await head.discard();
  // By tag, the tag must already point at this digest; by digest, presence is enough.
  if (head.status === 200 && (tag === undefined || head.header("docker-content-digest") === desc.digest)) {
    return { descriptor: desc, outcome: "exists" };
  }
  if (head.status !== 200 && head.status !== 404) throw await responseError(head, `${what}: existence check`);

  const bytes = await collect(body, desc, what);
  const res = await request(ctx, {
    method: "PUT",
    target,
    headers: { "content-type": desc.mediaType, "content-length": String(bytes.byteLength) },
    body: () => bytes,
  });
  await expectCreated(res, desc, what);
  return { descriptor: desc, outcome: "uploaded" };
}

async function pushBlob(ctx: PushContext, body: PushBody): Promise<PushResult> {
  const { repo, desc, opts } = ctx;
  const what = `push ${desc.digest} to ${repo.name}`;
  const head = await request(ctx, { method: "HEAD", target: `blobs/${desc.digest}` });
  await head.discard();
  if (head.status === 200) return { descriptor: desc, outcome: "exists" };
  if (head.status !== 404) throw await responseError(head, `${what}: existence check`);

  for (const from of mountCandidates(ctx)) {
    const mounted = await tryMount(ctx, from);
    if (mounted === "mounted") return { descriptor: desc, outcome: "mounted", mountedFrom: from };
  }

  // A whole upload is repeated (from a fresh session) when it fails in transit.
  for (let attempt = 1; ; attempt++) {
    try {
      const location = await startUpload(ctx);
      if (opts.chunkSize !== undefined && opts.chunkSize > 0) await uploadChunked(ctx, location, body, opts.chunkSize);
      else await uploadMonolithic(ctx, location, body);
      return { descriptor: desc, outcome: "uploaded" };
    } catch (err) {
      const retriable = isTransientError(err) || (isBerthError(err) && err.errClass === "Unavailable");
      if (opts.signal?.aborted || !retriable || attempt >= repo.session.retry.attempts) throw err;
      repo.session.logger.debug("upload failed; starting it again", { what, attempt, error: err });
      await backoff(repo.session.retry, attempt, opts.signal);
    }
  }
}

function mountCandidates(ctx: PushContext): string[] {
  const { repo, desc } = ctx;
  const annotated = desc.annotations?.[`${SOURCE_ANNOTATION}${repo.reference.domain}`];
  const all = [...(ctx.opts.mountFrom ?? []), ...(annotated ? annotated.split(",") : [])].map((s) => s.trim());
  return [...new Set(all)].filter((r) => r !== "" && r !== repo.reference.path);
}

/** POST …/blobs/uploads/?mount=<digest>&from=<repo>: 201 when the registry linked it. */
async function tryMount(ctx: PushContext, from: string): Promise<"mounted" | "no"> {
  const { repo, desc } = ctx;
  const res = await request(ctx, {
    method: "POST",
    target: "blobs/uploads/",
    query: { mount: desc.digest, from },
    scopes: [repositoryScope(repo.reference.path, true), repositoryScope(from, false)],
  }).catch((err: unknown) => {
    // A mount is an optimisation: when we may not read `from`, upload instead.
    if (isBerthError(err) && (err.errClass === "Unauthenticated" || err.errClass === "PermissionDenied")) return undefined;
    throw err;
  });
  if (res === undefined) return "no";
  await res.discard();
  // 202: the registry opened an ordinary upload instead; it is abandoned and a fresh one started.
  return res.status === 201 ? "mounted" : "no";
}

async function startUpload(ctx: PushContext): Promise<URL> {
  const what = `push ${ctx.desc.digest} to ${ctx.repo.name}`;
  const res = await request(ctx, { method: "POST", target: "blobs/uploads/", headers: { "content-length": "0" } });
  if (res.status !== 202) throw await responseError(res, `${what}: starting the upload`);
  await res.discard();
  return uploadLocation(res, what);
}

function uploadLocation(res: HttpResponse, what: string): URL {
  const location = res.header("location");
  if (location === undefined) throw failedPrecondition(`${what}: the registry answered ${res.status} without a Location`);
  return new URL(location, res.url);
}

async function uploadMonolithic(ctx: PushContext, location: URL, body: PushBody): Promise<void> {
  const { desc } = ctx;
  const what = `push ${desc.digest} to ${ctx.repo.name}`;
  const res = await request(ctx, {
    method: "PUT",
    target: location,
    query: { digest: desc.digest },
    headers: { "content-type": "application/octet-stream", "content-length": String(desc.size) },
    body: () => checked(body, desc, what),
    retry: false,
  });
  await expectCreated(res, desc, what);
}

/** PATCH chunk by chunk (Content-Range start-end), then PUT ?digest= with no body. */
async function uploadChunked(ctx: PushContext, first: URL, body: PushBody, chunkSize: number): Promise<void> {
  const { desc } = ctx;
  const what = `push ${desc.digest} to ${ctx.repo.name}`;
  let location = first;
  let offset = 0;
  for await (const chunk of rechunk(checked(body, desc, what), chunkSize)) {
    const res = await request(ctx, {
      method: "PATCH",
      target: location,
      headers: {
        "content-type": "application/octet-stream",
        "content-length": String(chunk.byteLength),
        "content-range": `${offset}-${offset + chunk.byteLength - 1}`,
      },
      body: () => chunk,
      retry: false,
    });
    if (res.status !== 202) throw await responseError(res, `${what}: chunk at ${offset}`);
    await res.discard();
    location = uploadLocation(res, what);
    offset += chunk.byteLength;
  }
  const res = await request(ctx, {
    method: "PUT",
    target: location,
    query: { digest: desc.digest },
    headers: { "content-length": "0" },
    retry: false,
  });
  await expectCreated(res, desc, what);
}

async function expectCreated(res: HttpResponse, desc: Descriptor, what: string): Promise<void> {
  if (res.status !== 201 && res.status !== 200 && res.status !== 204) throw await responseError(res, what);
  await res.discard();
  const stored = res.header("docker-content-digest");
  if (stored !== undefined && stored !== desc.digest) {
    throw failedPrecondition(`${what}: the registry stored it as ${stored}`);
  }
}

/** The body as bytes, checked against the descriptor before the request is sent. */
async function collect(body: PushBody, desc: Descriptor, what: string): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  for await (const chunk of checked(body, desc, what)) chunks.push(chunk);
  return Buffer.concat(chunks);
}

/** Streams the body, failing (FailedPrecondition) when its size or digest is not the descriptor's. */
async function* checked(body: PushBody, desc: Descriptor, what: string): AsyncGenerator<Uint8Array> {
  const digester = createDigester(parseDigest(desc.digest).algorithm);
  let size = 0;
  const source = body instanceof Uint8Array ? [body] : body();
  for await (const chunk of source) {
    size += chunk.byteLength;
    if (size > desc.size) throw failedPrecondition(`${what}: the body is longer than the descriptor's ${desc.size} bytes`);
    digester.update(chunk);
    yield chunk;
  }
  if (size !== desc.size) throw failedPrecondition(`${what}: the body has ${size} bytes, the descriptor ${desc.size}`);
  const actual = digester.digest();
  if (actual !== desc.digest) throw failedPrecondition(`${what}: the body's digest is ${actual}`);
}

/** Regroups a stream into chunks of exactly `size` bytes (the last may be shorter). */
async function* rechunk(source: AsyncIterable<Uint8Array>, size: number): AsyncGenerator<Uint8Array> {
  let pending: Uint8Array[] = [];
  let pendingBytes = 0;
  for await (let chunk of source) {
    while (pendingBytes + chunk.byteLength >= size) {
      const take = size - pendingBytes;
      pending.push(chunk.subarray(0, take));
      yield Buffer.concat(pending);
      chunk = chunk.subarray(take);
      pending = [];
      pendingBytes = 0;
    }
    if (chunk.byteLength > 0) {
      pending.push(chunk);
      pendingBytes += chunk.byteLength;
    }
  }
  if (pendingBytes > 0) yield Buffer.concat(pending);
}
