/**
 * The local API's access log: one {@link AccessEntry} per answered request, reported after its last
 * byte is written. Names, numbers and ids only, never a body or a header value.
 *
 * @example
 * ```ts
 * const access = trackAccess(req, res, requestId, onAccess);
 * access.caller = 'arn:aws:sts::000000000000:assumed-role/local-reader/local';
 * access.outcome = 'success';
 * ```
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { findRoute, routeKeyOf } from '../functions/contract/routes.ts';
import { resourceOf } from './lambda-event.ts';
import { ENVIRONMENT_ID_HEADER } from './lambda-pool.ts';

/** One answered request, for an access log: names, numbers and ids only, never a body or a header value. */
export interface AccessEntry {
  requestId: string;
  method: string;
  /** The path without its query string. */
  path: string;
  /** The contract's route key, or null when no route matches. */
  route: string | null;
  status: number;
  latencyMs: number;
  /** `success`, or the slug of the problem answered (from its `type`), or `http-<status>`. */
  outcome: string;
  /** The verified caller's ARN, else its access key id; null when no caller was verified. */
  caller: string | null;
  /** The pool environment that served it (`x-local-environment-id`), if any. */
  environmentId: string | null;
}

/** What the server learns while it handles the request; read when the answer is finished. */
export interface AccessFacts {
  caller: string | null;
  /** Unset: `http-<status>`. */
  outcome: string | undefined;
}

/** Reports one entry when `res` finishes (nothing when `onAccess` is undefined); set the facts as they become known. */
export function trackAccess(
  req: IncomingMessage,
  res: ServerResponse,
  requestId: string,
  onAccess: ((entry: AccessEntry) => void) | undefined,
): AccessFacts {
  const facts: AccessFacts = { caller: null, outcome: undefined };
  if (onAccess === undefined) return facts;
  const startedAt = performance.now();
  res.once('finish', () => {
    const method = req.method ?? 'GET';
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    const route = findRoute(method, resourceOf(path));
    const environmentId = res.getHeader(ENVIRONMENT_ID_HEADER);
    onAccess({
      requestId,
      method,
      path,
      route: route === undefined ? null : routeKeyOf(route),
      status: res.statusCode,
      latencyMs: performance.now() - startedAt,
      outcome: facts.outcome ?? `http-${res.statusCode}`,
      caller: facts.caller,
      environmentId: typeof environmentId === 'string' ? environmentId : null,
    });
  });
  return facts;
}
