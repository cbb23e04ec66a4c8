/**
 * @module The client side of the kernel: the `Client` contract and its two
 * transports, informers, the work queue, the controller runner and the event
 * recorder. Plugins use these and nothing below them. Design: README.md.
 */
export type * from "./types.ts";
export { type ClientOptions, FetchClient, type FetchClientOptions, type FetchFn, httpClient, type HttpClientOptions, IN_PROCESS_BASE, inProcessClient } from "./fetch-client.ts";
export { errorFromResponse, errorFromStatus, reasonForCode } from "./status.ts";
export { LineSplitter, parseWatchLine, ResponseWatchStream } from "./watch-stream.ts";
export { groupVersion, isNamespaced, resourcePath } from "./paths.ts";
export { type InformerFactoryOptions, type InformerOptions, type InformerSelection, NAMESPACE_INDEX, SharedInformer, SharedInformerFactory } from "./informer.ts";
export { RateLimitingQueue, type WorkQueueOptions } from "./work-queue.ts";
export {
  BucketRateLimiter,
  defaultRateLimiter,
  ExponentialFailureRateLimiter,
  MaxOfRateLimiter,
  type RateLimiter,
  type RateLimitOptions,
} from "./rate-limit.ts";
export { Controller, type ControllerOptions, TerminalError } from "./controller.ts";
export { keyFor, keyOf, splitKey } from "./keys.ts";
export { EventRecorder, type EventRecorderOptions, type EventType, EVENTS, type InvolvedObject, referenceOf } from "./events.ts";
export { Backoff, type BackoffOptions, sleep } from "./backoff.ts";
