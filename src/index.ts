/** svcreg as a library: the same registry the CLI drives. */
export { Registry } from './registry/registry.js';
export type {
  DiscoverListing,
  RegistryOptions,
  ServiceSummary,
  ServiceListing,
  InstanceListing,
  WaitOptions,
  PurgeSelection,
  PurgeEntry,
  PurgeResult,
  ProgressOptions,
  FollowOptions,
} from './registry/registry.js';
export { Registration, DEFAULT_TTL_SECONDS } from './registry/registration.js';
export type { RegisterOptions, RegisteredInfo } from './registry/registration.js';
export type { ChangeEvent, ResyncEvent, WatchEvent, WatchOptions, WatchStatus } from './registry/watch.js';
export type { Instance, InstanceFilter } from './registry/instance.js';
export type { Health, HealthCheckOptions } from './registry/health.js';
export { isPassing, runChecks } from './registry/health.js';
export { decodeInstance, encodeInstance, hostPort, matchesFilter } from './registry/instance.js';
export type { InstanceRecord, MalformedEntry } from './registry/entry.js';
export { DEFAULT_PREFIX, validateSegment, validatePrefix, instanceKey, segmentProblem, segmentCaveat } from './registry/keys.js';
export { describeMatches, nothingMatches, selectInstances } from './registry/matches.js';
export { ServiceCounter } from './registry/listing.js';
export { renderModel } from './registry/render-model.js';
export type { RenderModel, RenderService, RenderInstance } from './registry/render-model.js';
// Retry pacing, for the commands that wait out an outage themselves (render's first read).
export { backoffMs } from './etcd/timers.js';
export type { MatchCounts } from './registry/matches.js';
export type { ConnectionOptions } from './etcd/connection.js';
export type { ClusterAlarm, ClusterStatus, EndpointStatus } from './etcd/cluster-status.js';
export { DEFAULT_ENDPOINT, DEFAULT_TIMEOUT_MS } from './etcd/endpoints.js';
export * from './registry/errors.js';
