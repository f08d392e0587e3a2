export { bindService } from "./service.js";
export type { CallContext, MethodImpl, ServiceImpl, ServiceBinding, GrpcService } from "./service.js";
