/**
 * The closed set of error classes Berth uses, the same as containerd's errdefs. Code anywhere
 * throws a BerthError of one class; only the gRPC edge (./grpc-status.ts) turns classes into
 * status codes and back.
 */
export type ErrorClass =
  | "Unknown"
  | "InvalidArgument"
  | "NotFound"
  | "AlreadyExists"
  | "PermissionDenied"
  | "ResourceExhausted"
  | "FailedPrecondition"
  | "Conflict"
  | "NotModified"
  | "Aborted"
  | "OutOfRange"
  | "NotImplemented"
  | "Internal"
  | "Unavailable"
  | "DataLoss"
  | "Unauthenticated"
  | "Canceled"
  | "DeadlineExceeded";

// A global symbol, so two copies of @berth/core in one process still recognise each other's errors.
const BRAND = Symbol.for("berth.errdefs.v1");

export class BerthError extends Error {
  readonly [BRAND] = true;
  override readonly name = "BerthError";

  constructor(
    readonly errClass: ErrorClass,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }

  static override [Symbol.hasInstance](value: unknown): boolean {
    return typeof value === "object" && value !== null && (value as Record<symbol, unknown>)[BRAND] === true;
  }
}

export function isBerthError(value: unknown): value is BerthError {
  return value instanceof BerthError;
}

/** The class of the first BerthError found along `err`'s cause chain, else Canceled/Unknown. */
export function classOf(err: unknown): ErrorClass {
  for (let e: unknown = err, depth = 0; e !== undefined && e !== null && depth < 32; depth++) {
    if (isBerthError(e)) return e.errClass;
    if (e instanceof Error && e.name === "AbortError") return "Canceled";
    e = e instanceof Error ? e.cause : undefined;
  }
  return "Unknown";
}

const make = (cls: ErrorClass) => (message: string, cause?: unknown) =>
  new BerthError(cls, message, cause === undefined ? undefined : { cause });

export const unknown = make("Unknown");
export const invalidArgument = make("InvalidArgument");
export const notFound = make("NotFound");
export const alreadyExists = make("AlreadyExists");
export const permissionDenied = make("PermissionDenied");
export const resourceExhausted = make("ResourceExhausted");
export const failedPrecondition = make("FailedPrecondition");
export const conflict = make("Conflict");
export const notModified = make("NotModified");
export const aborted = make("Aborted");
export const outOfRange = make("OutOfRange");
export const notImplemented = make("NotImplemented");
export const internal = make("Internal");
export const unavailable = make("Unavailable");
export const dataLoss = make("DataLoss");
export const unauthenticated = make("Unauthenticated");
export const canceled = make("Canceled");
export const deadlineExceeded = make("DeadlineExceeded");

const is = (cls: ErrorClass) => (err: unknown) => classOf(err) === cls;

export const isNotFound = is("NotFound");
export const isAlreadyExists = is("AlreadyExists");
export const isInvalidArgument = is("InvalidArgument");
export const isFailedPrecondition = is("FailedPrecondition");
export const isUnavailable = is("Unavailable");
export const isNotImplemented = is("NotImplemented");
export const isCanceled = is("Canceled");
