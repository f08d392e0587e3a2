import { readdir, readFile, realpath } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { isPluginRegistration, type Logger, type PluginRegistration } from "@berth/core";

/** A package that declares Berth plugins: `"berth": { "plugins": "./dist/plugins.js" }`. */
export interface PluginPackage {
  readonly name: string;
  readonly dir: string;
  /** Absolute path of the module whose exports are registrations. */
  readonly entry: string;
}

/**
 * Finds installed plugin packages in every node_modules directory from each start directory
 * up to the filesystem root (Node's own resolution path), so a daemon run from a checkout, a
 * global install or npx sees the packages installed beside it. Each package is found once.
 */
export async function findPluginPackages(startDirs: readonly string[]): Promise<PluginPackage[]> {
  const found = new Map<string, PluginPackage>();
  for (const nodeModules of nodeModulesDirs(startDirs)) {
    for (const dir of await packageDirs(nodeModules)) {
      const real = await realpath(dir).catch(() => undefined);
      if (!real || found.has(real)) continue;
      const manifest = await readManifest(real);
      const entry = manifest?.berth?.plugins;
      if (typeof entry === "string") found.set(real, { name: manifest!.name ?? dir, dir: real, entry: resolve(real, entry) });
    }
  }
  return [...found.values()].sort((a, b) => a.name.localeCompare(b.name));
}

/** Imports each package's entry and collects every exported registration (or array of them). */
export async function importPlugins(packages: readonly PluginPackage[], log: Logger): Promise<PluginRegistration[]> {
  const registrations: PluginRegistration[] = [];
  for (const pkg of packages) {
    try {
      const mod = (await import(pathToFileURL(pkg.entry).href)) as Record<string, unknown>;
      const exported = Object.values(mod).flatMap((v) => (Array.isArray(v) ? v : [v])).filter(isPluginRegistration);
      registrations.push(...exported);
      log.debug("discovered plugin package", { package: pkg.name, plugins: exported.length });
    } catch (err) {
      log.error("cannot import plugin package", { package: pkg.name, entry: pkg.entry, error: err });
    }
  }
  return registrations;
}

function nodeModulesDirs(startDirs: readonly string[]): string[] {
  const dirs: string[] = [];
  for (const start of startDirs) {
    for (let dir = resolve(start); ; dir = dirname(dir)) {
      const candidate = dir.endsWith("/node_modules") ? dir : join(dir, "node_modules");
      if (!dirs.includes(candidate)) dirs.push(candidate);
      if (dirname(dir) === dir) break;
    }
  }
  return dirs;
}

async function packageDirs(nodeModules: string): Promise<string[]> {
  const entries = await readdir(nodeModules, { withFileTypes: true }).catch(() => []);
  const dirs: string[] = [];
  for (const e of entries) {
    if (e.name.startsWith(".")) continue;
    if (e.name.startsWith("@")) {
      const scoped = await readdir(join(nodeModules, e.name)).catch(() => []);
      dirs.push(...scoped.map((s) => join(nodeModules, e.name, s)));
    } else if (e.isDirectory() || e.isSymbolicLink()) {
      dirs.push(join(nodeModules, e.name));
    }
  }
  return dirs;
}

async function readManifest(dir: string): Promise<{ name?: string; berth?: { plugins?: unknown } } | undefined> {
  try {
    return JSON.parse(await readFile(join(dir, "package.json"), "utf8"));
  } catch {
    return undefined;
  }
}
