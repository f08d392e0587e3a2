import { invalidArgument } from "../errdefs/index.js";
import { validateIdentifier } from "../namespaces/index.js";

/** Throws InvalidArgument unless `topic` is a well-formed event topic. */
export function validateTopic(topic: string): void {
  if (topic === "") throw invalidArgument("must not be empty for event");
  if (!topic.startsWith("/")) throw invalidArgument(`must start with '/' for event: ${topic}`);
  if (topic.length === 1) throw invalidArgument(`must have at least one component for event: ${topic}`);
  // containerd topics are absolute paths whose components are identifiers: /tasks/exit.
  for (const component of topic.slice(1).split("/")) {
    try {
      validateIdentifier(component);
    } catch (err) {
      throw invalidArgument(`invalid component "${component}" in event topic ${topic}: ${(err as Error).message}`, err);
    }
  }
}
