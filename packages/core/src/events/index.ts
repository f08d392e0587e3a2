export { envelopeFields } from "./exchange.js";
export type { EventPayload, Envelope, Publisher, Forwarder, Subscriber, Exchange } from "./exchange.js";
export { validateTopic } from "./topic.js";
