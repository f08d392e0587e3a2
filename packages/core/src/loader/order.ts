import { invalidArgument } from "../errdefs/index.js";
import { pluginUri, type PluginRegistration } from "../plugin/define-plugin.js";

/**
 * Orders registrations so that every plugin comes after all plugins of the types it requires;
 * a plugin requiring "*" comes after every plugin that does not. Input order never matters:
 * registrations are visited sorted by URI, so the result is the same for any permutation.
 * A cycle is an InvalidArgument error naming the whole cycle.
 */
export function orderPlugins(registrations: readonly PluginRegistration[]): PluginRegistration[] {
  const sorted = [...registrations].sort((a, b) => compare(pluginUri(a), pluginUri(b)));
  const seen = new Set<string>();
  for (const reg of sorted) {
    const uri = pluginUri(reg);
    if (seen.has(uri)) throw invalidArgument(`plugin ${uri} is registered twice`);
    seen.add(uri);
  }

  const byType = new Map<string, PluginRegistration[]>();
  for (const reg of sorted) {
    const list = byType.get(reg.type.uri) ?? [];
    list.push(reg);
    byType.set(reg.type.uri, list);
  }
  const dependencies = (reg: PluginRegistration): PluginRegistration[] => {
    const deps =
      reg.requires === "*"
        ? sorted.filter((other) => other.requires !== "*")
        : reg.requires.flatMap((type) => byType.get(type.uri) ?? []);
    return deps.filter((other) => other !== reg);
  };

  const order: PluginRegistration[] = [];
  const done = new Set<PluginRegistration>();
  const stack: PluginRegistration[] = [];
  const visit = (reg: PluginRegistration): void => {
    if (done.has(reg)) return;
    const at = stack.indexOf(reg);
    if (at >= 0) {
      const cycle = [...stack.slice(at), reg].map(pluginUri).join(" → ");
      throw invalidArgument(`plugin dependency cycle: ${cycle}`);
    }
    stack.push(reg);
    for (const dep of dependencies(reg)) visit(dep);
    stack.pop();
    done.add(reg);
    order.push(reg);
  };
  for (const reg of sorted) visit(reg);
  return order;
}

const compare = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
