// What berthd loads from this package ("berth": { "plugins": "./dist/plugins.js" }): registrations only.
export { lmdbMetadataPlugin } from "./plugin.js";
