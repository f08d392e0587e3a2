export { NAMESPACE_HEADER, DEFAULT_NAMESPACE, NAMESPACE_ENV, validateIdentifier, requireNamespace } from "./namespace.js";
