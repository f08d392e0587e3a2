/** One WWW-Authenticate challenge: `Bearer realm="…",service="…",scope="…"` or `Basic realm="…"`. */
export interface AuthChallenge {
  /** Lower case: "bearer", "basic", … */
  readonly scheme: string;
  /** Lower-case parameter names. */
  readonly params: Readonly<Record<string, string>>;
}

/**
 * Parses WWW-Authenticate header values, one or more challenges each (RFC 7235: a new challenge
 * starts at a token not followed by "="). Bearer challenges come first: they are preferred.
 */
export function parseChallenges(values: readonly string[]): AuthChallenge[] {
  const challenges: AuthChallenge[] = [];
  for (const value of values) challenges.push(...parseHeader(value));
  return challenges.sort((a, b) => rank(a.scheme) - rank(b.scheme));
}

const rank = (scheme: string) => (scheme === "bearer" ? 0 : scheme === "basic" ? 1 : 2);

const TOKEN = /[!#$%&'*+.^_`|~0-9A-Za-z-]+/y;

function parseHeader(header: string): AuthChallenge[] {
  const out: Array<{ scheme: string; params: Record<string, string> }> = [];
  let at = 0;
  const skip = (re: RegExp) => {
    re.lastIndex = at;
    const m = re.exec(header);
    if (m) at = re.lastIndex;
    return m;
  };
  const token = () => {
    TOKEN.lastIndex = at;
    const m = TOKEN.exec(header);
    if (!m) return undefined;
    at = TOKEN.lastIndex;
    return m[0];
  };

  while (at < header.length) {
    skip(/[\s,]*/y);
    const scheme = token();
    if (scheme === undefined) break;
    const current = { scheme: scheme.toLowerCase(), params: {} as Record<string, string> };
    out.push(current);
    for (;;) {
      const save = at;
      skip(/[\s,]*/y);
      const name = token();
      if (name === undefined || !skip(/\s*=\s*/y)) {
        at = save; // not a parameter: the next challenge's scheme (or the end)
        break;
      }
      current.params[name.toLowerCase()] = header[at] === '"' ? quoted() : (token() ?? "");
    }
    if (at === header.length) break;
    skip(/[\s,]*/y);
  }
  return out;

  function quoted(): string {
    let value = "";
    for (at++; at < header.length; at++) {
      const c = header[at];
      if (c === "\\" && at + 1 < header.length) value += header[++at];
      else if (c === '"') {
        at++;
        break;
      } else value += c;
    }
    return value;
  }
}
