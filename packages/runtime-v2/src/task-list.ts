import { alreadyExists, notFound } from "@berth/core";
import type { ShimInstance } from "./shim-instance.js";

/** The shims of running tasks by namespace and ID; an ID is reserved while its task is created. */
export class TaskList {
  readonly #byNamespace = new Map<string, Map<string, ShimInstance>>();
  readonly #reserved = new Set<string>();

  /** Claims `id` for a create in progress; AlreadyExists if a task has it or another create does. */
  reserve(namespace: string, id: string): () => void {
    const key = `${namespace}/${id}`;
    if (this.#reserved.has(key) || this.find(namespace, id)) throw alreadyExists(`task ${id}: already exists`);
    this.#reserved.add(key);
    return () => this.#reserved.delete(key);
  }

  add(shim: ShimInstance): void {
    let tasks = this.#byNamespace.get(shim.namespace);
    if (!tasks) this.#byNamespace.set(shim.namespace, (tasks = new Map()));
    if (tasks.has(shim.id)) throw alreadyExists(`task ${shim.id}: already exists`);
    tasks.set(shim.id, shim);
  }

  find(namespace: string, id: string): ShimInstance | undefined {
    return this.#byNamespace.get(namespace)?.get(id);
  }

  get(namespace: string, id: string): ShimInstance {
    const shim = this.find(namespace, id);
    if (!shim) throw notFound(`task ${id} not found`);
    return shim;
  }

  /** Removes `shim` if it is still the one listed under its ID; true if it was. */
  remove(shim: ShimInstance): boolean {
    const tasks = this.#byNamespace.get(shim.namespace);
    if (tasks?.get(shim.id) !== shim) return false;
    tasks.delete(shim.id);
    if (tasks.size === 0) this.#byNamespace.delete(shim.namespace);
    return true;
  }

  /** The shims of `namespace`, or of every namespace when it is undefined. */
  list(namespace: string | undefined): ShimInstance[] {
    if (namespace !== undefined) return [...(this.#byNamespace.get(namespace)?.values() ?? [])];
    return [...this.#byNamespace.values()].flatMap((tasks) => [...tasks.values()]);
  }
}
