/**
 * What may be logged of an AWS SDK failure: its name and HTTP status, never its message (a message can
 * echo values from the request).
 *
 * @example
 * logger.warn('write lease release failed', { lease: { reason, ...describeFailure(error) } });
 */
export function describeFailure(error: unknown): Record<string, unknown> {
  if (!(error instanceof Error)) return { error: typeof error };
  const status = (error as { $metadata?: { httpStatusCode?: unknown } }).$metadata?.httpStatusCode;
  return { error: error.name, ...(typeof status === 'number' ? { status } : {}) };
}
