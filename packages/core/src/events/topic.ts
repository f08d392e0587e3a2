import { invalidArgument } from "../errdefs/index.js";

// containerd topics are absolute paths of identifier-like components: /tasks/exit, /images/create.
const COMPONENT = /^[A-Za-z0-9]+(?:[._-][A-Za-z0-9]+)*$/;

/** Throws InvalidArgument unless `topic` is a well-formed event topic. */
export function validateTopic(topic: string): void {
  if (topic === "") throw invalidArgument("must not be empty for event");
  if (!topic.startsWith("/")) throw invalidArgument(`must start with '/' for event: ${topic}`);
  if (topic.length === 1) throw invalidArgument(`must have at least one component for event: ${topic}`);
  for (const component of topic.slice(1).split("/")) {
    if (!COMPONENT.test(component)) throw invalidArgument(`invalid component "${component}" in event topic ${topic}`);
  }
}
