import { realpathSync } from "node:fs";
import { basename } from "node:path";

/**
 * What shims run to publish events (`-publish-binary`): this process's own script when it is
 * berthd (containerd passes its own executable), else `berthd` looked up on PATH by the shim.
 */
export function defaultPublishBinary(): string {
  const script = process.argv[1];
  if (script && /^berthd(\.js)?$/.test(basename(script))) {
    try {
      return realpathSync(script);
    } catch {
      // fall through to PATH
    }
  }
  return "berthd";
}
