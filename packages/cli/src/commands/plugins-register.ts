import { proxyPluginsApi } from "@berth/api";
import type { BerthClient } from "@berth/client";
import { parseLeadingOptions } from "../command-args.js";
import { formatTable } from "../table.js";
import { UsageError } from "../usage-error.js";

export const PLUGINS_REGISTER_USAGE = `berth plugins register --type snapshot --id NAME --address SOCK [--persist] [--export KEY=VALUE…]
berth plugins unregister --id NAME [--type snapshot]
berth plugins registered

register: a proxy plugin serving containerd's Snapshots service on SOCK joins the running
  daemon as snapshotter NAME (listed by "plugins ls", usable with --snapshotter NAME at once);
  --persist keeps it across daemon restarts. unregister: it leaves. registered: what joined.`;

/** `berth plugins register …`: Berth's ProxyPlugins.Register (beyond containerd, which needs a restart). */
export async function pluginsRegisterCommand(client: BerthClient, args: readonly string[]): Promise<void> {
  const { values, positionals } = parseLeadingOptions(args, {
    type: { type: "string", default: "snapshot" },
    id: { type: "string" },
    address: { type: "string" },
    persist: { type: "boolean", default: false },
    export: { type: "string", multiple: true, default: [] },
  });
  if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"\n${PLUGINS_REGISTER_USAGE}`);
  if (!values.id || !values.address) throw new UsageError(`--id and --address are required\n${PLUGINS_REGISTER_USAGE}`);
  await client.service(proxyPluginsApi.ProxyPlugins).register({
    plugin: { type: values.type, id: values.id, address: values.address, persist: values.persist, exports: parseExports(values.export) },
  });
}

/** `berth plugins unregister --id NAME [--type T]`. */
export async function pluginsUnregisterCommand(client: BerthClient, args: readonly string[]): Promise<void> {
  const { values, positionals } = parseLeadingOptions(args, { type: { type: "string", default: "" }, id: { type: "string" } });
  if (positionals.length > 0 || !values.id) throw new UsageError(`--id is required\n${PLUGINS_REGISTER_USAGE}`);
  await client.service(proxyPluginsApi.ProxyPlugins).unregister({ type: values.type, id: values.id });
}

/** `berth plugins registered`: ID TYPE ADDRESS PERSIST of the proxy plugins registered at run time. */
export async function pluginsRegisteredCommand(client: BerthClient, out: (text: string) => void): Promise<void> {
  const { plugins } = await client.service(proxyPluginsApi.ProxyPlugins).list({});
  out(formatTable(["ID", "TYPE", "ADDRESS", "PERSIST"], plugins.map((p) => [p.id, p.type, p.address, String(p.persist)])));
}

function parseExports(pairs: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const pair of pairs) {
    const eq = pair.indexOf("=");
    if (eq <= 0) throw new UsageError(`--export wants KEY=VALUE, got "${pair}"`);
    out[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  return out;
}
