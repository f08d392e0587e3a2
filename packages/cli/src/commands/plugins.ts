import type { BerthClient, PluginInfo } from "@berth/client";
import { formatTable } from "../table.js";

/** `berth plugins ls [--detailed] [filter…]`: TYPE ID PLATFORMS STATUS, as `ctr plugins ls`. */
export async function pluginsListCommand(client: BerthClient, filters: string[], detailed: boolean, out: (text: string) => void): Promise<void> {
  const plugins = await client.plugins(filters);
  if (detailed) {
    out(plugins.map(describe).join("\n"));
    return;
  }
  out(formatTable(["TYPE", "ID", "PLATFORMS", "STATUS"], plugins.map((p) => [p.type, p.id, platforms(p), p.status])));
}

function platforms(p: PluginInfo): string {
  if (p.platforms.length === 0) return "-";
  return p.platforms.map((x) => [x.os, x.architecture, x.variant].filter(Boolean).join("/")).join(",");
}

function describe(p: PluginInfo): string {
  const lines = [`Type:          ${p.type}`, `ID:            ${p.id}`];
  if (p.requires.length) lines.push("Requires:", ...p.requires.map((r) => `               ${r}`));
  if (p.platforms.length) lines.push(`Platforms:     ${platforms(p)}`);
  for (const [k, v] of Object.entries(p.exports)) lines.push(`Exports:       ${k}  ${v}`);
  if (p.capabilities.length) lines.push(`Capabilities:  ${p.capabilities.join(", ")}`);
  if (p.error !== undefined) lines.push(`Error:`, `               ${p.error}`);
  return lines.join("\n") + "\n";
}
