// What every service in this package does at the gRPC edge: scope a call to its namespace
// and lease, turn wire scalars into record values, check what containerd checks before the
// store sees a request, and publish events.
import { packAny } from "@berth/api";
import {
  BerthError,
  classOf,
  invalidArgument,
  parseFilters,
  LEASE_HEADER,
  requireNamespace,
  type CallContext,
  type OpContext,
  type Publisher,
} from "@berth/core";
import type { DescMessage, MessageInitShape } from "@bufbuild/protobuf";

/** The store context of a call: its namespace (FailedPrecondition if none), lease and signal. */
export function opContext(ctx: CallContext): OpContext {
  const namespace = requireNamespace(ctx);
  const lease = ctx.metadata.get(LEASE_HEADER)?.[0];
  return lease ? { namespace, lease, signal: ctx.signal } : { namespace, signal: ctx.signal };
}

export { int64ToNumber } from "@berth/wire";

/** Update-mask paths; an absent mask is an empty list (update everything updatable). */
export function maskPaths(mask: { paths: string[] } | undefined): string[] {
  return mask ? [...mask.paths] : [];
}

/**
 * Parses `filters` so a malformed one is InvalidArgument before any store work, whatever
 * the store does with them afterwards.
 */
export function checkFilters(filters: readonly string[]): string[] {
  parseFilters(filters);
  return [...filters];
}

// go-digest's algorithms and their encoded lengths; the encoding is lower-case hex.
const DIGEST_HEX_LENGTH: Readonly<Record<string, number>> = { sha256: 64, sha384: 96, sha512: 128 };

/** Why `digest` is not a valid "algorithm:hex" digest, or undefined when it is. */
export function digestProblem(digest: string): string | undefined {
  const colon = digest.indexOf(":");
  if (colon <= 0 || colon === digest.length - 1) return "invalid checksum digest format";
  const algorithm = digest.slice(0, colon);
  const encoded = digest.slice(colon + 1);
  const length = Object.hasOwn(DIGEST_HEX_LENGTH, algorithm) ? DIGEST_HEX_LENGTH[algorithm] : undefined;
  if (length === undefined) return "unsupported digest algorithm";
  if (encoded.length !== length) return "invalid checksum digest length";
  if (!/^[a-f0-9]+$/.test(encoded)) return "invalid checksum digest format";
  return undefined;
}

/** The same error class with `prefix: ` before its message (containerd's errgrpc.ToGRPCf). */
export function withPrefix(err: unknown, prefix: string): BerthError {
  const message = err instanceof Error ? err.message : String(err);
  return new BerthError(classOf(err), `${prefix}: ${message}`, { cause: err });
}

/** A required sub-message, or InvalidArgument naming it. */
export function required<T>(value: T | undefined, name: string): T {
  if (value === undefined || value === null) throw invalidArgument(`${name} is required`);
  return value;
}

/** Packs `message` as containerd's typeurl does and publishes it on `topic` in `namespace`. */
export async function publishEvent<D extends DescMessage>(
  publisher: Publisher,
  namespace: string,
  topic: string,
  schema: D,
  message: MessageInitShape<D>,
): Promise<void> {
  await publisher.publish(namespace, topic, packAny(schema, message));
}
