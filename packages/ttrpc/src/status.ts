import { BerthError, deadlineExceeded, fromGrpcStatus, GrpcCode, resourceExhausted, unavailable, toGrpcStatus } from "@berth/core";
import type { ttrpcWire } from "@berth/api";
import { MAX_DATA_LENGTH } from "./frame.js";
import type { ResponseStatus } from "./envelope.js";

/** The error a caller sees for a response's status, or undefined when it is OK. */
export function errorFromStatus(status: ttrpcWire.Response["status"]): BerthError | undefined {
  if (!status || status.code === GrpcCode.OK) return undefined;
  return fromGrpcStatus(status.code, status.message);
}

/** The status a server sends for an error a handler threw (errdefs classes map to gRPC codes). */
export function statusFromError(err: unknown): ResponseStatus {
  const { code, details } = toGrpcStatus(err);
  return { code, message: details };
}

export const OK_STATUS: ResponseStatus = { code: GrpcCode.OK, message: "" };

/** Worded as Go's ttrpc words it, so logs read the same on both sides. */
export function oversizedError(length: number): BerthError {
  return resourceExhausted(`message length ${length} exceed maximum message size of ${MAX_DATA_LENGTH}`);
}

export function connectionClosedError(cause?: unknown): BerthError {
  const why = cause instanceof Error ? `: ${cause.message}` : "";
  return unavailable(`ttrpc: connection closed${why}`, cause);
}

export function deadlineError(timeoutMs: number): BerthError {
  return deadlineExceeded(`ttrpc: deadline of ${timeoutMs} ms exceeded`);
}
