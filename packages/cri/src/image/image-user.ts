/**
 * The user an image runs as, as ImageStatus reports it: the part of the config's `User`
 * before any ":group"; a number is a uid, anything else a user name. Empty when unset.
 */
export function imageUser(user: string | undefined): { uid?: bigint; username: string } {
  const name = (user ?? "").split(":", 1)[0] ?? "";
  if (name === "") return { username: "" };
  return /^\d+$/.test(name) ? { uid: BigInt(name), username: "" } : { username: name };
}
