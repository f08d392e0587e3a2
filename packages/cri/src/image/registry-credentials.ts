import type { criApi } from "@berth/api";
import { invalidArgument } from "@berth/core";
import type { CredentialsProvider } from "@berth/distribution";

/**
 * The kubelet's AuthConfig as credentials for the registry client, read as containerd's CRI
 * reads it: only for the host `server_address` names (when it names one); username and
 * password first, then an identity token, then `auth` (base64 "user:password").
 */
export function registryCredentials(auth: criApi.AuthConfig | undefined): CredentialsProvider | undefined {
  if (auth === undefined) return undefined;
  const forHost = serverHost(auth.serverAddress);
  return (host) => {
    if (forHost !== undefined && forHost !== host) return undefined;
    if (auth.username !== "") return { username: auth.username, password: auth.password };
    if (auth.identityToken !== "") return { username: "", password: auth.identityToken };
    if (auth.auth !== "") return decodeBasicAuth(auth.auth);
    return undefined;
  };
}

/** "https://registry.example:5000/v2/" or a bare "registry.example:5000" → "registry.example:5000". */
function serverHost(address: string): string | undefined {
  if (address === "") return undefined;
  try {
    return new URL(address.includes("://") ? address : `https://${address}`).host;
  } catch (err) {
    throw invalidArgument(`auth server_address "${address}" is not a URL`, err);
  }
}

function decodeBasicAuth(encoded: string): { username: string; password: string } {
  const decoded = Buffer.from(encoded, "base64").toString("utf8");
  const colon = decoded.indexOf(":");
  if (colon < 0) throw invalidArgument("auth is not base64 of user:password");
  return { username: decoded.slice(0, colon), password: decoded.slice(colon + 1).replace(/\0+$/, "") };
}
