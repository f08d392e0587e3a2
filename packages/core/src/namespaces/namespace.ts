import { failedPrecondition, invalidArgument } from "../errdefs/index.js";
import type { CallContext } from "../grpc/service.js";

/** The gRPC metadata key containerd clients use to carry the namespace. */
export const NAMESPACE_HEADER = "containerd-namespace";
/** The gRPC metadata key containerd clients use for the lease a call works under. */
export const LEASE_HEADER = "containerd-lease";
/** The namespace `ctr` and Berth's CLI use when none is given. */
export const DEFAULT_NAMESPACE = "default";
/** The environment variable containerd's clients read for the namespace. */
export const NAMESPACE_ENV = "CONTAINERD_NAMESPACE";

// containerd's identifier rules: alphanumeric runs joined by single '.', '_' or '-', at most 76.
const MAX_IDENTIFIER_LENGTH = 76;
const IDENTIFIER = /^[A-Za-z0-9]+(?:[._-][A-Za-z0-9]+)*$/;

/** Checks a namespace, container or other object identifier; throws InvalidArgument. */
export function validateIdentifier(name: string): void {
  if (name === "") throw invalidArgument("identifier must not be empty");
  if (name.length > MAX_IDENTIFIER_LENGTH) {
    throw invalidArgument(`identifier "${name}" greater than maximum length (${MAX_IDENTIFIER_LENGTH} characters)`);
  }
  if (!IDENTIFIER.test(name)) throw invalidArgument(`identifier "${name}" must match ${IDENTIFIER.source}`);
}

/** The namespace a call is scoped to; FailedPrecondition when the caller sent none. */
export function requireNamespace(ctx: Pick<CallContext, "namespace">): string {
  if (ctx.namespace === undefined) throw failedPrecondition("namespace is required");
  return ctx.namespace;
}
