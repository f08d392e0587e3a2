import { failedPrecondition, isBerthError, isNotFound, notFound, notImplemented, resourceExhausted, unavailable, type Descriptor } from "@berth/core";
import type { HttpResponse } from "../http/http-client.js";
import { createDigester, isValidDigest, parseDigest } from "../reference/digest.js";
import { MANIFEST_ACCEPT, isSchema1, mediaTypeOf } from "./media-types.js";
import { responseError } from "./registry-error.js";
import { repositoryScope, type Repository } from "./repository.js";
import { send } from "./session.js";

/**
 * Resolves the repository's tag (or digest) to the descriptor of its manifest or index: HEAD on
 * each endpoint in order, GET when the registry does not say the digest and size (or refuses
 * HEAD). The first endpoint that knows it wins; a mirror that fails or lacks it is skipped.
 */
export async function resolveDescriptor(repo: Repository, signal?: AbortSignal): Promise<Descriptor> {
  const { reference } = repo;
  const digest = reference.digest;
  const endpoints = await repo.endpoints(digest !== undefined ? ["pull"] : ["pull", "resolve"]);
  // By digest, some registries only answer on /blobs/ (containerd tries both).
  const targets = digest !== undefined ? [`manifests/${digest}`, `blobs/${digest}`] : [`manifests/${reference.tag!}`];
  const failures: Error[] = [];

  for (const target of targets) {
    for (const [i, endpoint] of endpoints.entries()) {
      const request = {
        target,
        repository: reference.path,
        domain: reference.domain,
        headers: { accept: MANIFEST_ACCEPT },
        scopes: [repositoryScope(reference.path, false)],
        signal,
        retry: i === endpoints.length - 1,
        what: `resolve ${repo.name}`,
      };
      try {
        // (A registry that refuses HEAD gets a GET: send() switches, so this may carry a body.)
        const head = await send(repo.session, endpoint, { ...request, method: "HEAD" });
        if (!(await usable(head, failures, `resolve ${repo.name} at ${endpoint.host}`))) continue;
        await head.discard();
        const mediaType = mediaTypeOf(head.header("content-type"));
        const size = Number(head.header("content-length") ?? NaN);
        const served = head.header("docker-content-digest");
        const known = digest ?? (served !== undefined && isValidDigest(served) ? served : undefined);
        if (head.header("content-length") !== undefined && Number.isSafeInteger(size) && known !== undefined) {
          if (digest !== undefined && served !== undefined && served !== digest) {
            throw failedPrecondition(`resolve ${repo.name}: ${endpoint.host} answered for digest ${served}`);
          }
          return describe(repo, mediaType, known, size);
        }
        // No digest or size in the HEAD answer: read the manifest and hash it.
        const get = await send(repo.session, endpoint, { ...request, method: "GET" });
        if (!(await usable(get, failures, `resolve ${repo.name} at ${endpoint.host}`))) continue;
        const body = await readLimited(get, repo.maxManifestSize, repo.name);
        const computed = createDigester(digest !== undefined ? parseDigest(digest).algorithm : "sha256");
        computed.update(body);
        const actual = computed.digest();
        if (digest !== undefined && actual !== digest) {
          throw failedPrecondition(`resolve ${repo.name}: ${endpoint.host} served content with digest ${actual}`);
        }
        return describe(repo, mediaTypeOf(get.header("content-type")), actual, body.byteLength);
      } catch (err) {
        if (signal?.aborted) throw err;
        // A manifest we refuse to pull is the answer, not a reason to ask the next mirror.
        if (isBerthError(err) && (err.errClass === "NotImplemented" || err.errClass === "ResourceExhausted")) throw err;
        failures.push(err as Error);
      }
    }
  }
  throw summarize(repo.name, failures, endpoints.map((e) => e.host));
}

function describe(repo: Repository, mediaType: string, digest: string, size: number): Descriptor {
  if (isSchema1(mediaType)) {
    throw notImplemented(`${repo.name}: Docker schema 1 manifests (${mediaType}) are not supported; rebuild the image as OCI or Docker schema 2`);
  }
  if (size > repo.maxManifestSize) {
    throw resourceExhausted(`${repo.name}: the manifest ${digest} is ${size} bytes, over the ${repo.maxManifestSize}-byte limit for manifests`);
  }
  return { mediaType, digest, size };
}

/** 2xx: use it. 404 and other errors: remember why and try the next endpoint. */
async function usable(res: HttpResponse, failures: Error[], what: string): Promise<boolean> {
  if (res.status >= 200 && res.status < 300) return true;
  failures.push(await responseError(res, what));
  return false;
}

async function readLimited(res: HttpResponse, limit: number, name: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of res.body) {
    size += chunk.byteLength;
    if (size > limit) {
      await res.discard();
      throw resourceExhausted(`${name}: the manifest is over the ${limit}-byte limit for manifests`);
    }
    chunks.push(Buffer.from(chunk));
  }
  return Buffer.concat(chunks);
}

/** NotFound only when every endpoint said so; otherwise the first other failure, with the rest listed. */
function summarize(name: string, failures: readonly Error[], hosts: readonly string[]): Error {
  if (failures.every((f) => isNotFound(f))) return notFound(`${name}: not found at ${hosts.join(", ")}`, failures[0]);
  const main = failures.find((f) => !isNotFound(f))!;
  const others = [...new Set(failures.filter((f) => f !== main).map((f) => f.message))];
  if (others.length === 0) return main;
  const err = isBerthError(main) ? main : unavailable(main.message, main);
  err.message = `${err.message} (also: ${others.join("; ")})`;
  return err;
}
