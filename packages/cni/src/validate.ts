import { invalidArgument } from "@berth/core";

// The same shapes libcni accepts, so a name that works with containerd works here and the
// cache file name built from them stays a single path component.
const ID_PATTERN = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;
const IFNAMSIZ = 16;

export function validateContainerId(id: string): void {
  if (!ID_PATTERN.test(id)) throw invalidArgument(`invalid CNI container id ${JSON.stringify(id)}: must match ${ID_PATTERN.source}`);
}

export function validateNetworkName(name: string): string | undefined {
  return ID_PATTERN.test(name) ? undefined : `network name ${JSON.stringify(name)} must match ${ID_PATTERN.source}`;
}

export function validateIfName(name: string): void {
  const why =
    name === "" ? "is empty"
    : name.length >= IFNAMSIZ ? `is longer than ${IFNAMSIZ - 1} characters`
    : name === "." || name === ".." ? "is not a name"
    : /[/:\s]/.test(name) ? "contains '/', ':' or white space"
    : undefined;
  if (why) throw invalidArgument(`invalid interface name ${JSON.stringify(name)}: ${why}`);
}
