/**
 * How images in an imported archive get their names, as containerd's transfer image store
 * decides: from the annotations of the archive's index entries, through the destination's
 * references ("base names").
 */

/** The full image name an archive's index entry carries (containerd's exporter writes it). */
export const IMAGE_NAME_ANNOTATION = "io.containerd.image.name";
/** The OCI ref name: a tag ("latest") in most layouts, sometimes a full reference. */
export const REF_NAME_ANNOTATION = "org.opencontainers.image.ref.name";

/** One of containerd's ImageStore extra references. */
export interface ReferenceRule {
  readonly name: string;
  /** A base name: entries' names are checked against it (or, when bare tags, put under it). */
  readonly isPrefix?: boolean;
  /** With a prefix: accept any full name in the archive, and put bare tags under the prefix. */
  readonly allowOverwrite?: boolean;
  /** Also name each entry `<name>@<digest>`. */
  readonly addDigest?: boolean;
  /** With addDigest: not for entries that got a name. */
  readonly skipNamedDigest?: boolean;
}

/** The names an imported index entry is stored under. */
export function importedNames(annotations: Readonly<Record<string, string>> | undefined, digest: string, rules: readonly ReferenceRule[]): string[] {
  const names: string[] = [];
  for (const rule of rules) {
    if (!rule.isPrefix) continue;
    const name = entryName(annotations ?? {}, refTranslator(rule.name, !rule.allowOverwrite));
    if (name !== "") names.push(name);
    if (rule.addDigest && (name === "" || !rule.skipNamedDigest)) names.push(`${rule.name}@${digest}`);
  }
  return [...new Set(names)];
}

/**
 * Bare tags go under `prefix` ("latest" → "prefix:latest"); full names are kept, or with
 * `mustMatch` kept only when they lie under the prefix. "" means no name.
 */
function refTranslator(prefix: string, mustMatch: boolean): (ref: string) => string {
  return (ref) => {
    if (prefix === "") return "";
    if (!/[/:@]/.test(ref)) return `${prefix}:${ref}`;
    return mustMatch && !isUnderPrefix(ref, prefix) ? "" : ref;
  };
}

function isUnderPrefix(ref: string, prefix: string): boolean {
  if (!ref.startsWith(prefix)) return false;
  return ref.length === prefix.length || "/:@".includes(ref[prefix.length]!);
}

/** A full name annotation is used only as it stands; a ref name goes through the translator. */
function entryName(annotations: Readonly<Record<string, string>>, translate: (ref: string) => string): string {
  const full = annotations[IMAGE_NAME_ANNOTATION];
  if (full !== undefined && full !== "") return translate(full) === full ? full : "";
  const ref = annotations[REF_NAME_ANNOTATION];
  return ref === undefined || ref === "" ? "" : translate(ref);
}

/** The OCI ref name for a full image name: what follows the repository ("tag", "tag@sha256:…"), or the whole name without a tag. */
export function ociRefName(name: string): string {
  const at = name.indexOf("@");
  const repoAndTag = at >= 0 ? name.slice(0, at) : name;
  const colon = repoAndTag.lastIndexOf(":");
  return colon > repoAndTag.lastIndexOf("/") ? name.slice(colon + 1) : name;
}
