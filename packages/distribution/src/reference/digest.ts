import { createHash, type Hash } from "node:crypto";
import { invalidArgument } from "@berth/core";

/** Hex lengths of the algorithms a registry may use; anything else cannot be verified here. */
const HEX_LENGTH: Readonly<Record<string, number>> = { sha256: 64, sha384: 96, sha512: 128 };

/** The OCI digest grammar (algorithm ":" encoded); the length check per algorithm comes after. */
const DIGEST_GRAMMAR = /^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$/;

export interface ParsedDigest {
  readonly algorithm: string;
  readonly hex: string;
}

/** Splits and validates "sha256:<64 lowercase hex>" (also sha384, sha512); InvalidArgument otherwise. */
export function parseDigest(digest: string, what = "digest"): ParsedDigest {
  if (!DIGEST_GRAMMAR.test(digest)) throw invalidArgument(`invalid ${what} "${digest}": expected <algorithm>:<hex>`);
  const colon = digest.indexOf(":");
  const algorithm = digest.slice(0, colon);
  const hex = digest.slice(colon + 1);
  const length = HEX_LENGTH[algorithm];
  if (length === undefined) throw invalidArgument(`invalid ${what} "${digest}": unsupported algorithm ${algorithm}`);
  if (hex.length !== length || !/^[a-f0-9]+$/.test(hex)) {
    throw invalidArgument(`invalid ${what} "${digest}": ${algorithm} needs ${length} lowercase hex characters`);
  }
  return { algorithm, hex };
}

export function isValidDigest(digest: string): boolean {
  try {
    parseDigest(digest);
    return true;
  } catch {
    return false;
  }
}

/** Incremental hashing in the algorithm of `expected`, so a blob is checked as it streams. */
export interface Digester {
  update(chunk: Uint8Array): void;
  /** "<algorithm>:<hex>" of everything seen. */
  digest(): string;
}

export function createDigester(algorithm: string): Digester {
  const hash: Hash = createHash(algorithm);
  return {
    update: (chunk) => void hash.update(chunk),
    digest: () => `${algorithm}:${hash.digest("hex")}`,
  };
}

export function digestOf(data: Uint8Array, algorithm = "sha256"): string {
  const d = createDigester(algorithm);
  d.update(data);
  return d.digest();
}
