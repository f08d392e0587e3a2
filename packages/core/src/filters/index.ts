export { alwaysFilter } from "./filter.js";
export type { FieldLookup, Filter, Selector } from "./filter.js";
export { parseFilter, parseFilters } from "./parser.js";
export { lookupLabel } from "./adaptor.js";
