import { invalidArgument } from "@berth/core";
import type { SpecOpt } from "../spec-opt.js";

// sethostname(2) takes up to 64 bytes; runc would fail late on more. Whitespace is refused because
// it is always a mistake in a host name. Otherwise the kernel's rules, not RFC 1123's.
const MAX_HOSTNAME_BYTES = 64;

/** The container's host name (it needs its own uts namespace, which the default spec has). */
export function withHostname(hostname: string): SpecOpt {
  const bytes = Buffer.byteLength(hostname);
  if (bytes === 0 || bytes > MAX_HOSTNAME_BYTES || /[\s\0]/.test(hostname)) {
    throw invalidArgument(`hostname ${JSON.stringify(hostname)}: want 1 to ${MAX_HOSTNAME_BYTES} bytes without whitespace`);
  }
  return (spec) => {
    spec.hostname = hostname;
  };
}

/** The container's NIS domain name. */
export function withDomainname(domainname: string): SpecOpt {
  return (spec) => {
    spec.domainname = domainname;
  };
}

/** Adds or replaces annotations (free-form metadata the runtime passes on, e.g. to hooks). */
export function withAnnotations(annotations: Readonly<Record<string, string>>): SpecOpt {
  return (spec) => {
    spec.annotations = { ...spec.annotations, ...annotations };
  };
}
