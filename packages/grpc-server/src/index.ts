export { GrpcServer, type GrpcServerOptions } from "./server.js";
export type { MethodObserver } from "./call.js";
