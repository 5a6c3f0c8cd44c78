/**
 * The telemetry names the functions emit and the stack watches: the service, the metrics namespace,
 * every metric name and the dimensions that tell them apart. One definition, so an alarm cannot watch
 * a name no function emits.
 *
 * @example
 * metrics.addMetric(METRIC.requestOutcome, MetricUnit.Count, 1); // dimension `outcome`
 */

/** `POWERTOOLS_SERVICE_NAME`; also the `service` dimension of every metric. */
export const SERVICE_NAME = 'affix-webhook-config';

/** `POWERTOOLS_METRICS_NAMESPACE`: the CloudWatch namespace of every EMF metric. */
export const METRICS_NAMESPACE = 'AffixWebhookConfig';

/** Metric names. Dimensions besides `service` (and `stage`, set in deployed stages) in the comments. */
export const METRIC = {
  /** Count, once per request; dimension `outcome` (`ok` or the problem slug). */
  requestOutcome: 'RequestOutcome',
  /**
   * Count, once per answer with a status of 500 or above; dimension {@link EXECUTED_VERSION_DIMENSION}
   * (and no `outcome`), so a release's rollback alarm sees the new version's own 5xx answers.
   */
  serverErrorAnswers: 'ServerErrorAnswers',
  /** Milliseconds spent in Affix exchanges for one request. */
  upstreamLatency: 'UpstreamLatency',
  /** Milliseconds a write waited for the cross-container write lease. */
  writeLockWait: 'WriteLockWait',
  /** Count, once per HTTP exchange with Affix; dimensions `method` (GET/POST) and `outcome` (status or failure kind). */
  affixRequests: 'AffixRequests',
  /** Count, once per `GET /client`: 1 when answered from the shared cache, 0 when Affix was read. */
  clientCacheHit: 'ClientCacheHit',
  /** Count, once per failed read or write of the shared read cache (the request read Affix instead). */
  clientCacheFailure: 'ClientCacheFailure',
  /** Count, once per request answered from the shared back-off after an Affix 429 (no Affix call made). */
  rateLimitBackoff: 'RateLimitBackoff',
  /** Count, once per Affix read that found a change no write through the proxy explains. */
  outsideChange: 'OutsideChange',
  /**
   * Count, once per accepted change of a destination field (a write through the proxy, or an outside
   * change the watch reported); dimension {@link DESTINATION_FIELD_DIMENSION}, one of
   * {@link DESTINATION_FIELDS}. Each field has its own alarm: someone must see every such change.
   */
  destinationChange: 'DestinationChange',
  /** Count, once per rotation job run: 1 on failure, 0 otherwise. */
  rotationFailure: 'RotationFailure',
  /** Count, once per rotation job run: 1 when it rotated, 0 otherwise. */
  rotationOutcome: 'RotationOutcome',
  /** Count, once per synthetic check: 1 when `GET /client` answered 200 with a valid client. */
  syntheticSuccess: 'SyntheticCheckSuccess',
  /** Milliseconds the synthetic check took. */
  syntheticLatency: 'SyntheticCheckLatency',
} as const;

/**
 * The Lambda version that answered (`AWS_LAMBDA_FUNCTION_VERSION`: `$LATEST` or the number); the same
 * name Lambda gives the dimension on its own per-version metrics.
 */
export const EXECUTED_VERSION_DIMENSION = 'ExecutedVersion';

/**
 * The client fields that decide where Affix sends things: `webhook_uri` our employees' data,
 * `redirect_uris` Affix Connect's OAuth codes.
 */
export const DESTINATION_FIELDS = ['webhook_uri', 'redirect_uris'] as const;
export type DestinationField = (typeof DESTINATION_FIELDS)[number];

/** The dimension of {@link METRIC.destinationChange} that names the changed field. */
export const DESTINATION_FIELD_DIMENSION = 'field';

export type MetricName = (typeof METRIC)[keyof typeof METRIC];
