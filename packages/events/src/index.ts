export { createExchange, type ExchangeOptions } from "./exchange.js";
export { createEventsService } from "./events-service.js";
export { exchangePlugin, eventsGrpcPlugin } from "./plugins.js";
