export { NAMESPACE_HEADER, LEASE_HEADER, DEFAULT_NAMESPACE, NAMESPACE_ENV, validateIdentifier, requireNamespace } from "./namespace.js";
