import { packAny, transferTypes, unpackAny, type AnyPayload } from "@berth/api";
import type { StreamManager } from "@berth/core";
import { createResolver, type Credentials, type Resolver } from "@berth/distribution";
import type { TransferServiceDeps } from "./deps.js";

/** A resolver configured as the client's OCIRegistry asks: hosts dir, scheme, headers, credentials on its auth stream. */
export function registryResolver(deps: TransferServiceDeps, namespace: string, registry: transferTypes.OCIRegistry, signal: AbortSignal): Resolver {
  const opts = registry.resolver;
  return createResolver({
    hostsDir: opts?.hostDir || undefined,
    plainHttp: opts?.defaultScheme === "http",
    headers: opts?.headers,
    credentials: opts?.authStream ? askClientForCredentials(deps.streams.get(namespace, opts.authStream), registry.reference, signal) : undefined,
    logger: deps.log,
  });
}

/** Credentials through the client's auth stream: one AuthRequest per challenge, as containerd asks. */
function askClientForCredentials(stream: ReturnType<StreamManager["get"]>, reference: string, signal: AbortSignal) {
  return async (host: string): Promise<Credentials | undefined> => {
    await stream.send(packAny(transferTypes.AuthRequestSchema, { host, reference }));
    const answer: AnyPayload = await stream.recv(signal);
    const auth = unpackAny(transferTypes.AuthResponseSchema, answer);
    if (auth === undefined || auth.authType === transferTypes.AuthType.NONE) return undefined;
    return { username: auth.username, password: auth.secret };
  };
}
