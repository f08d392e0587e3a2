import {
  failedPrecondition,
  isBerthError,
  isNotFound,
  notFound,
  outOfRange,
  resourceExhausted,
  unavailable,
  type Descriptor,
} from "@berth/core";
import type { HttpResponse } from "../http/http-client.js";
import { backoff, isTransientError } from "../http/retry.js";
import type { RegistryHost } from "../hosts/registry-host.js";
import { parseDigest } from "../reference/digest.js";
import type { ImageReference } from "../reference/reference.js";
import { isManifestOrIndex } from "./media-types.js";
import { responseError } from "./registry-error.js";
import { repositoryScope, type Repository } from "./repository.js";
import { redact, send } from "./session.js";

export interface FetchOptions {
  /** Start this many bytes in (a Range request); default 0. */
  readonly offset?: number | undefined;
  readonly signal?: AbortSignal | undefined;
}

/** Reads blobs and manifests of one repository by descriptor. */
export interface Fetcher {
  readonly reference: ImageReference;
  /**
   * The bytes of `desc` from `offset` to its end, in chunks, as the registry sends them. A
   * connection that drops mid-way is reopened with a Range from where it stopped (retries with
   * backoff); a registry that ignores Range is read past the offset. More bytes than
   * `desc.size` is FailedPrecondition. The bytes are not verified here: the content store verifies on commit.
   */
  fetch(desc: Descriptor, opts?: FetchOptions): AsyncIterable<Uint8Array>;
}

export function createFetcher(repo: Repository): Fetcher {
  return {
    reference: repo.reference,
    fetch: (desc, opts = {}) => fetchBytes(repo, desc, opts),
  };
}

async function* fetchBytes(repo: Repository, desc: Descriptor, opts: FetchOptions): AsyncGenerator<Uint8Array> {
  parseDigest(desc.digest, "descriptor digest");
  const offset = opts.offset ?? 0;
  const what = `fetch ${desc.digest} from ${repo.name}`;
  const manifest = isManifestOrIndex(desc.mediaType);
  if (manifest && desc.size > repo.maxManifestSize) {
    throw resourceExhausted(`${what}: the manifest is ${desc.size} bytes, over the ${repo.maxManifestSize}-byte limit for manifests`);
  }
  if (!Number.isSafeInteger(offset) || offset < 0 || offset > desc.size) {
    throw outOfRange(`${what}: offset ${offset} is outside the blob's ${desc.size} bytes`);
  }
  if (offset === desc.size) return;

  const endpoints = await repo.endpoints(["pull"]);
  const target = `${manifest ? "manifests" : "blobs"}/${desc.digest}`;
  let position = offset;
  let failures = 0;
  let endpoint: RegistryHost | undefined;

  for (;;) {
    let res: HttpResponse;
    let skip: number;
    if (endpoint === undefined) {
      ({ res, skip, endpoint } = await openFirst(repo, endpoints, target, desc, position, opts.signal, what));
    } else {
      // Resuming: the endpoint that served the first bytes serves the rest.
      const opened = await open(repo, endpoint, target, desc, position, opts.signal, what, true);
      if (typeof opened === "object" && "error" in opened) throw opened.error;
      ({ res, skip } = opened);
    }

    try {
      for await (const raw of res.body) {
        let chunk = raw as Uint8Array;
        if (skip > 0) {
          // The registry ignored our Range: drop what we already have.
          const drop = Math.min(skip, chunk.byteLength);
          skip -= drop;
          chunk = chunk.subarray(drop);
          if (chunk.byteLength === 0) continue;
        }
        if (position + chunk.byteLength > desc.size) {
          throw failedPrecondition(`${what}: ${endpoint.host} sent more than the descriptor's ${desc.size} bytes`);
        }
        position += chunk.byteLength;
        failures = 0;
        yield chunk;
      }
      if (position === desc.size) return;
      throw Object.assign(new Error(`connection closed after ${position} of ${desc.size} bytes`), { code: "ERR_STREAM_PREMATURE_CLOSE" });
    } catch (err) {
      if (opts.signal?.aborted || isBerthError(err) || !isTransientError(err)) throw err;
      if (++failures >= repo.session.retry.attempts) {
        throw unavailable(`${what}: ${endpoint.host} dropped the connection at byte ${position} of ${desc.size}, ${failures} times: ${(err as Error).message}`, err);
      }
      repo.session.logger.debug("fetch interrupted; resuming with a Range request", { what, position, error: err });
      await backoff(repo.session.retry, failures, opts.signal);
    }
  }
}

/** Tries each endpoint in order until one serves the blob. */
async function openFirst(
  repo: Repository,
  endpoints: readonly RegistryHost[],
  target: string,
  desc: Descriptor,
  position: number,
  signal: AbortSignal | undefined,
  what: string,
): Promise<{ res: HttpResponse; skip: number; endpoint: RegistryHost }> {
  const failures: Error[] = [];
  for (const [i, endpoint] of endpoints.entries()) {
    let opened;
    try {
      opened = await open(repo, endpoint, target, desc, position, signal, what, i === endpoints.length - 1);
    } catch (err) {
      if (signal?.aborted) throw err;
      failures.push(err as Error);
      continue;
    }
    if ("error" in opened) {
      failures.push(opened.error);
      continue;
    }
    return { ...opened, endpoint };
  }
  if (failures.every((f) => isNotFound(f))) {
    throw notFound(`${what}: not found on ${endpoints.map((e) => e.host).join(", ")}`, failures[0]);
  }
  const main = failures.find((f) => !isNotFound(f))!;
  if (failures.length > 1) main.message += ` (also: ${failures.filter((f) => f !== main).map((f) => f.message).join("; ")})`;
  throw main;
}

/** One GET, with a Range when resuming. Error statuses come back as values so mirrors can be skipped. */
async function open(
  repo: Repository,
  endpoint: RegistryHost,
  target: string,
  desc: Descriptor,
  position: number,
  signal: AbortSignal | undefined,
  what: string,
  retry: boolean,
): Promise<{ res: HttpResponse; skip: number } | { error: Error }> {
  const headers: Record<string, string> = { accept: desc.mediaType ? `${desc.mediaType}, */*` : "*/*" };
  if (position > 0) headers["range"] = `bytes=${position}-`;
  const res = await send(repo.session, endpoint, {
    method: "GET",
    target,
    repository: repo.reference.path,
    domain: repo.reference.domain,
    headers,
    scopes: [repositoryScope(repo.reference.path, false)],
    signal,
    retry,
    what,
  });
  if (res.status === 206) {
    const range = res.header("content-range") ?? "";
    if (!range.startsWith(`bytes ${position}-`)) {
      await res.discard();
      return { error: failedPrecondition(`${what}: asked ${redact(res.url)} for bytes ${position}- and got "${range}"`) };
    }
    return { res, skip: 0 };
  }
  if (res.status === 200) return { res, skip: position };
  return { error: await responseError(res, `${what} at ${endpoint.host}`) };
}
