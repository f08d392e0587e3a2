import { invalidArgument } from "@berth/core";
import { parseDigest } from "./digest.js";

/**
 * An image reference normalised as docker and containerd's CRI do: `busybox` is
 * `docker.io/library/busybox:latest`, `host:port/repo:tag`, `repo@sha256:…`, `repo:tag@sha256:…`.
 */
export interface ImageReference {
  /** Registry host as written, with its port: "docker.io", "127.0.0.1:5000", "[::1]:5000". */
  readonly domain: string;
  /** Repository path inside the registry: "library/busybox". */
  readonly path: string;
  readonly tag?: string | undefined;
  /** With a tag too, the digest is what resolves; the tag is kept for pushes and display. */
  readonly digest?: string | undefined;
}

export const DEFAULT_DOMAIN = "docker.io";
export const DEFAULT_TAG = "latest";
const LEGACY_DEFAULT_DOMAIN = "index.docker.io";
const OFFICIAL_REPO_PREFIX = "library/";
const MAX_NAME_LENGTH = 255;

// distribution/reference's grammar, written out as one regexp per part.
const DOMAIN_COMPONENT = "(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])";
const DOMAIN = new RegExp(`^(?:${DOMAIN_COMPONENT}(?:\\.${DOMAIN_COMPONENT})*|\\[[a-fA-F0-9:]+\\])(?::[0-9]+)?$`);
const PATH_COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const TAG = /^[\w][\w.-]{0,127}$/;
const HEX_64 = /^[a-f0-9]{64}$/;

export interface ParseReferenceOptions {
  /** Add `:latest` when the reference names neither tag nor digest (default true). */
  readonly defaultTag?: boolean;
}

/** Parses and normalises `input`; InvalidArgument names what is wrong with it. */
export function parseReference(input: string, opts: ParseReferenceOptions = {}): ImageReference {
  const bad = (why: string) => invalidArgument(`invalid image reference "${input}": ${why}`);
  if (input === "") throw bad("it is empty");
  if (input.includes("://")) throw bad("a reference has no scheme; write host[:port]/repository[:tag]");

  let name = input;
  let digest: string | undefined;
  const at = name.indexOf("@");
  if (at >= 0) {
    digest = name.slice(at + 1);
    name = name.slice(0, at);
    try {
      parseDigest(digest);
    } catch (err) {
      throw bad((err as Error).message);
    }
  }

  let tag: string | undefined;
  const colon = name.lastIndexOf(":");
  if (colon > name.lastIndexOf("/")) {
    tag = name.slice(colon + 1);
    name = name.slice(0, colon);
    if (!TAG.test(tag)) throw bad(`tag "${tag}" must match [A-Za-z0-9_][A-Za-z0-9_.-]{0,127}`);
  }

  if (name === "") throw bad("the repository name is empty");
  if (HEX_64.test(name)) throw bad("a repository name cannot be a 64-character hexadecimal string (an image ID?)");

  let { domain, path } = splitDomain(name);
  if (!DOMAIN.test(domain)) throw bad(`"${domain}" is not a valid registry host`);
  if (path.toLowerCase() !== path) throw bad(`repository name "${path}" must be lowercase`);
  for (const component of path.split("/")) {
    if (!PATH_COMPONENT.test(component)) {
      throw bad(`repository path component "${component}" must be lowercase letters and digits joined by . _ __ or -`);
    }
  }
  if (domain === LEGACY_DEFAULT_DOMAIN) domain = DEFAULT_DOMAIN;
  if (domain === DEFAULT_DOMAIN && !path.includes("/")) path = OFFICIAL_REPO_PREFIX + path;
  if (domain.length + 1 + path.length > MAX_NAME_LENGTH) throw bad(`the name is longer than ${MAX_NAME_LENGTH} characters`);

  if (tag === undefined && digest === undefined && opts.defaultTag !== false) tag = DEFAULT_TAG;
  return { domain, path, tag, digest };
}

/** docker's rule: the first component is a host only if it has a dot or a port, or is "localhost". */
function splitDomain(name: string): { domain: string; path: string } {
  const slash = name.indexOf("/");
  if (slash < 0) return { domain: DEFAULT_DOMAIN, path: name };
  const first = name.slice(0, slash);
  const looksLikeHost = /[.:]/.test(first) || first === "localhost" || first.toLowerCase() !== first;
  return looksLikeHost ? { domain: first, path: name.slice(slash + 1) } : { domain: DEFAULT_DOMAIN, path: name };
}

/** "docker.io/library/busybox": the repository without tag or digest. */
export function repositoryName(ref: ImageReference): string {
  return `${ref.domain}/${ref.path}`;
}

/** The canonical string: domain/path[:tag][@digest]. */
export function formatReference(ref: ImageReference): string {
  return `${repositoryName(ref)}${ref.tag !== undefined ? `:${ref.tag}` : ""}${ref.digest !== undefined ? `@${ref.digest}` : ""}`;
}

/** parseReference then formatReference: "busybox" → "docker.io/library/busybox:latest". */
export function normalizeReference(input: string, opts?: ParseReferenceOptions): string {
  return formatReference(parseReference(input, opts));
}

/** What docker shows: "busybox:latest" for docker.io/library/busybox:latest, else the full name. */
export function familiarName(ref: ImageReference): string {
  let name = repositoryName(ref);
  if (ref.domain === DEFAULT_DOMAIN) {
    name = ref.path.startsWith(OFFICIAL_REPO_PREFIX) ? ref.path.slice(OFFICIAL_REPO_PREFIX.length) : ref.path;
  }
  return formatReference({ ...ref, domain: "", path: name }).slice(1);
}
