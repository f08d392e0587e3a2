import { createHash } from "node:crypto";
import { invalidArgument } from "@berth/core";

/**
 * Digests and refs become file names, so nothing reaches a path before it is checked here:
 * a digest must be exactly `sha256:` and 64 lowercase hex characters (as go-digest's
 * Validate demands), and a ref is never used as a name at all, only its sha256.
 */

const SHA256_DIGEST = /^sha256:([a-f0-9]{64})$/;
const HEX64 = /^[a-f0-9]{64}$/;

/** The hex part of a valid digest; InvalidArgument for anything else. */
export function digestHex(digest: string): string {
  const match = typeof digest === "string" ? SHA256_DIGEST.exec(digest) : null;
  if (!match) throw invalidArgument(`invalid digest ${quoteShort(digest)}: expected sha256:<64 lowercase hex characters>`);
  return match[1]!;
}

/** True for a digest this store accepts, without throwing. */
export const isDigest = (value: string): boolean => SHA256_DIGEST.test(value);

export const digestOf = (hex: string): string => `sha256:${hex}`;

/** True for names that can be a blob or ingest directory (anything else on disk is ignored). */
export const isHex64 = (name: string): boolean => HEX64.test(name);

/** Checks a writer ref: any non-empty string, since it is only ever hashed. */
export function checkRef(ref: string): string {
  if (typeof ref !== "string" || ref === "") throw invalidArgument("ref must not be empty");
  return ref;
}

/** The ingest directory name for a ref: fixed length whatever the ref contains ("/", "..", NUL). */
export const refKey = (ref: string): string => createHash("sha256").update(ref, "utf8").digest("hex");

/** Error messages quote user input, but never a megabyte of it. */
export function quoteShort(value: unknown): string {
  const text = typeof value === "string" ? value : String(value);
  return JSON.stringify(text.length > 100 ? `${text.slice(0, 100)}…` : text);
}
