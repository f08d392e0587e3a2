import type { BerthClient } from "@berth/client";
import { BERTH_VERSION } from "@berth/core";

/** `berth version`: client and server versions, as `ctr version` prints them. */
export async function versionCommand(client: BerthClient, out: (text: string) => void): Promise<void> {
  out(`Client:\n  Version:  ${BERTH_VERSION}\n  Node:     ${process.version}\n\n`);
  const [v, s] = await Promise.all([client.version(), client.server()]);
  out(`Server:\n  Version:  ${v.version}\n  Revision: ${v.revision}\n  UUID:     ${s.uuid}\n`);
}
