/** A mistake in how the command was called: printed without an error class. */
export class UsageError extends Error {
  override readonly name = "UsageError";
}
