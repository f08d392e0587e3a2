import { alreadyExists, invalidArgument } from "@berth/core";

/**
 * Names reserved for IDs, one name per ID. The kubelet may retry a create whose first attempt
 * is still running; reserving the name first makes the second attempt fail at once instead of
 * creating a twin. Reserving a name again for the same ID succeeds.
 */
export interface NameRegistry {
  /** AlreadyExists when `name` is held by another ID. */
  reserve(name: string, id: string): void;
  releaseByName(name: string): void;
  releaseById(id: string): void;
  /** The ID holding `name`, if any. */
  idOf(name: string): string | undefined;
}

export function createNameRegistry(what: string): NameRegistry {
  const idByName = new Map<string, string>();
  const nameById = new Map<string, string>();
  return {
    reserve(name, id) {
      if (name === "" || id === "") throw invalidArgument(`${what} name and ID must not be empty`);
      const holder = idByName.get(name);
      if (holder !== undefined) {
        if (holder === id) return;
        throw alreadyExists(`${what} name "${name}" is reserved for "${holder}"`);
      }
      const held = nameById.get(id);
      if (held !== undefined) throw alreadyExists(`${what} ID "${id}" already holds the name "${held}"`);
      idByName.set(name, id);
      nameById.set(id, name);
    },
    releaseByName(name) {
      const id = idByName.get(name);
      if (id === undefined) return;
      idByName.delete(name);
      nameById.delete(id);
    },
    releaseById(id) {
      const name = nameById.get(id);
      if (name === undefined) return;
      nameById.delete(id);
      idByName.delete(name);
    },
    idOf: (name) => idByName.get(name),
  };
}
