import { healthPlugin } from "./health.js";
import { introspectionPlugin } from "./introspection.js";
import { versionPlugin } from "./version.js";

/** The services every Berth daemon serves about itself, whatever else is installed. */
export const serverPlugins = [versionPlugin, introspectionPlugin, healthPlugin] as const;
