import { invalidArgument } from "@berth/core";
import { currentCapabilities, KNOWN_CAPABILITIES } from "../capabilities.js";
import { capabilitiesOf } from "../spec-parts.js";
import type { SpecOpt } from "../spec-opt.js";

function requireCapNames(caps: readonly string[]): void {
  for (const cap of caps) {
    if (!/^CAP_[A-Z_]+$/.test(cap)) throw invalidArgument(`capability ${JSON.stringify(cap)} must be a CAP_* name`);
  }
}

/**
 * Exactly these capabilities in the bounding, effective and permitted sets; inheritable keeps only
 * those among them (and is cleared with an empty list).
 */
export function withCapabilities(caps: readonly string[]): SpecOpt {
  requireCapNames(caps);
  return (spec) => {
    const sets = capabilitiesOf(spec);
    sets.bounding = [...caps];
    sets.effective = [...caps];
    sets.permitted = [...caps];
    if (caps.length === 0) delete sets.inheritable;
    else if (sets.inheritable?.length) sets.inheritable = sets.inheritable.filter((c) => caps.includes(c));
  };
}

/** Adds capabilities to the bounding, effective and permitted sets. */
export function withAddedCapabilities(caps: readonly string[]): SpecOpt {
  requireCapNames(caps);
  return (spec) => {
    const sets = capabilitiesOf(spec);
    for (const key of ["bounding", "effective", "permitted"] as const) {
      const set = (sets[key] ??= []);
      for (const cap of caps) if (!set.includes(cap)) set.push(cap);
    }
  };
}

/** Removes capabilities from every set but ambient. */
export function withDroppedCapabilities(caps: readonly string[]): SpecOpt {
  requireCapNames(caps);
  return (spec) => {
    const sets = capabilitiesOf(spec);
    for (const key of ["bounding", "effective", "permitted", "inheritable"] as const) {
      const set = sets[key];
      if (set) sets[key] = set.filter((c) => !caps.includes(c));
    }
  };
}

/** Ambient (and inheritable) capabilities: how a non-root process keeps capabilities across exec. */
export function withAmbientCapabilities(caps: readonly string[]): SpecOpt {
  requireCapNames(caps);
  return (spec) => {
    const sets = capabilitiesOf(spec);
    sets.inheritable = [...caps];
    sets.ambient = [...caps];
  };
}

/** Every capability Linux knows. Fails at start where the runtime lacks some; prefer the next. */
export const withAllKnownCapabilities: SpecOpt = (spec, ctx) => withCapabilities(KNOWN_CAPABILITIES)(spec, ctx);

/** The capabilities this process holds, which the runtime it starts can pass on. */
export const withAllCurrentCapabilities: SpecOpt = async (spec, ctx) => withCapabilities(await currentCapabilities(ctx.signal))(spec, ctx);
