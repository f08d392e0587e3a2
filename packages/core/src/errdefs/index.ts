export * from "./errdefs.js";
export { GrpcCode, toGrpcStatus, fromGrpcStatus, type GrpcStatus } from "./grpc-status.js";
