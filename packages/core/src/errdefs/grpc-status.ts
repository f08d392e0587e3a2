import { BerthError, classOf, type ErrorClass } from "./errdefs.js";

/** gRPC status codes (numeric values fixed by the gRPC spec). */
export const GrpcCode = {
  OK: 0,
  Canceled: 1,
  Unknown: 2,
  InvalidArgument: 3,
  DeadlineExceeded: 4,
  NotFound: 5,
  AlreadyExists: 6,
  PermissionDenied: 7,
  ResourceExhausted: 8,
  FailedPrecondition: 9,
  Aborted: 10,
  OutOfRange: 11,
  Unimplemented: 12,
  Internal: 13,
  Unavailable: 14,
  DataLoss: 15,
  Unauthenticated: 16,
} as const;
export type GrpcCode = (typeof GrpcCode)[keyof typeof GrpcCode];

// Conflict and NotModified have no code of their own: containerd sends both as FailedPrecondition.
const classToCode: Record<ErrorClass, GrpcCode> = {
  Unknown: GrpcCode.Unknown,
  InvalidArgument: GrpcCode.InvalidArgument,
  NotFound: GrpcCode.NotFound,
  AlreadyExists: GrpcCode.AlreadyExists,
  PermissionDenied: GrpcCode.PermissionDenied,
  ResourceExhausted: GrpcCode.ResourceExhausted,
  FailedPrecondition: GrpcCode.FailedPrecondition,
  Conflict: GrpcCode.FailedPrecondition,
  NotModified: GrpcCode.FailedPrecondition,
  Aborted: GrpcCode.Aborted,
  OutOfRange: GrpcCode.OutOfRange,
  NotImplemented: GrpcCode.Unimplemented,
  Internal: GrpcCode.Internal,
  Unavailable: GrpcCode.Unavailable,
  DataLoss: GrpcCode.DataLoss,
  Unauthenticated: GrpcCode.Unauthenticated,
  Canceled: GrpcCode.Canceled,
  DeadlineExceeded: GrpcCode.DeadlineExceeded,
};

const codeToClass = new Map<number, ErrorClass>([
  [GrpcCode.Canceled, "Canceled"],
  [GrpcCode.Unknown, "Unknown"],
  [GrpcCode.InvalidArgument, "InvalidArgument"],
  [GrpcCode.DeadlineExceeded, "DeadlineExceeded"],
  [GrpcCode.NotFound, "NotFound"],
  [GrpcCode.AlreadyExists, "AlreadyExists"],
  [GrpcCode.PermissionDenied, "PermissionDenied"],
  [GrpcCode.ResourceExhausted, "ResourceExhausted"],
  [GrpcCode.FailedPrecondition, "FailedPrecondition"],
  [GrpcCode.Aborted, "Aborted"],
  [GrpcCode.OutOfRange, "OutOfRange"],
  [GrpcCode.Unimplemented, "NotImplemented"],
  [GrpcCode.Internal, "Internal"],
  [GrpcCode.Unavailable, "Unavailable"],
  [GrpcCode.DataLoss, "DataLoss"],
  [GrpcCode.Unauthenticated, "Unauthenticated"],
]);

export interface GrpcStatus {
  code: GrpcCode;
  details: string;
}

/** The status a server sends for `err`, as containerd's errgrpc.ToGRPC chooses it. */
export function toGrpcStatus(err: unknown): GrpcStatus {
  const details = err instanceof Error ? err.message : String(err);
  return { code: classToCode[classOf(err)], details };
}

/** The typed error a client raises for a status it received, as containerd's errgrpc.ToNative. */
export function fromGrpcStatus(code: number, details: string, cause?: unknown): BerthError {
  return new BerthError(codeToClass.get(code) ?? "Unknown", details, cause === undefined ? undefined : { cause });
}
