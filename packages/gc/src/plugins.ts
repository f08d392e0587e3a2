// What berthd loads from this package ("berth": { "plugins": "./dist/plugins.js" }): registrations only.
export { gcSchedulerPlugin } from "./plugin.js";
