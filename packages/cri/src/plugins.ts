// berthd imports this module and loads every registration it exports: export each one once.
export { criGrpcPlugin } from "./plugin.js";
