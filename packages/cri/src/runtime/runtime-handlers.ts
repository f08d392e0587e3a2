import type { criApi } from "@berth/api";
import type { ServiceImpl } from "@berth/core";

/** Every RuntimeService handler, typed from the descriptor: (request, CallContext) → response. */
export type RuntimeHandlers = ServiceImpl<typeof criApi.RuntimeService>;
