import { failedPrecondition, invalidArgument, validateIdentifier, type OpContext } from "@berth/core";

/** containerd's label rule: key and value together at most 4096 bytes. */
const MAX_LABEL_BYTES = 4096;

/**
 * Free-form names that become part of a key (image names, ingest refs, lease and resource
 * IDs). lmdb refuses keys over 1978 bytes with an opaque error; capping each part well below
 * that turns it into InvalidArgument. 512 bytes is above any reference docker's grammar allows.
 */
export const MAX_KEY_PART_BYTES = 512;

const utf8Length = (s: string) => Buffer.byteLength(s, "utf8");

export function validateLabels(labels: Readonly<Record<string, string>> | undefined, what: string): void {
  for (const [k, v] of Object.entries(labels ?? {})) {
    const total = utf8Length(k) + utf8Length(v);
    if (total > MAX_LABEL_BYTES) {
      throw invalidArgument(
        `${what}: label key and value length (${total} bytes) greater than maximum size (${MAX_LABEL_BYTES} bytes), key: ${k.slice(0, 64)}`,
      );
    }
  }
}

export function validateKeyPart(value: string, what: string): void {
  if (value === "") throw invalidArgument(`${what} must not be empty`);
  if (utf8Length(value) > MAX_KEY_PART_BYTES) {
    throw invalidArgument(`${what} is longer than ${MAX_KEY_PART_BYTES} bytes`);
  }
}

// go-digest's registered algorithms and their encoded lengths (lowercase hex).
const DIGEST_HEX_LENGTH: Readonly<Record<string, number>> = { sha256: 64, sha384: 96, sha512: 128 };

export function isValidDigest(digest: string): boolean {
  const colon = digest.indexOf(":");
  if (colon <= 0) return false;
  const algorithm = digest.slice(0, colon);
  const encoded = digest.slice(colon + 1);
  const length = Object.hasOwn(DIGEST_HEX_LENGTH, algorithm) ? DIGEST_HEX_LENGTH[algorithm] : undefined;
  return length !== undefined && encoded.length === length && /^[a-f0-9]+$/.test(encoded);
}

export function validateDigest(digest: string, what: string): void {
  if (!isValidDigest(digest)) throw invalidArgument(`${what} ${JSON.stringify(digest)} is not a valid digest`);
}

/**
 * The namespace of an operation, as containerd's NamespaceRequired: FailedPrecondition when
 * none was given, InvalidArgument when it is not an identifier.
 */
export function namespaceOf(ctx: OpContext): string {
  if (!ctx.namespace) throw failedPrecondition("namespace is required");
  validateIdentifier(ctx.namespace);
  return ctx.namespace;
}
