/**
 * The API's routes and who may call them: the one definition that the handler's routing, the CDK
 * methods and resource policy, the local API's identities and the caller client derive from.
 *
 * Pure data and pure functions: no AWS or Node imports, so every side (Lambda, CDK, local, client)
 * can load it.
 *
 * @example
 * routesForGroup('writers'); // ['GET /client', 'PATCH /client', 'GET /client/changes']
 * findRoute('PUT', '/client/secrets')?.groups; // ['rotators']
 * routesForGroup('verifiers'); // ['POST /webhooks/verify']
 */

/**
 * The caller groups a stage file names principals for. A group's routes are the ones whose `groups`
 * list it; `rotators` may call everything a writer may, plus the secret routes.
 */
export const CALLER_GROUPS = ['readers', 'writers', 'rotators', 'verifiers'] as const;
export type CallerGroup = (typeof CALLER_GROUPS)[number];

import { DEFAULT_MAX_BODY_BYTES, WEBHOOK_MAX_BODY_BYTES } from './limits.ts';

// Kept importable from here: the limits are route properties.
export { DEFAULT_MAX_BODY_BYTES, WEBHOOK_MAX_BODY_BYTES };

export type HttpMethod = 'GET' | 'PATCH' | 'PUT' | 'POST';

export interface RouteDefinition {
  readonly method: HttpMethod;
  /** The API Gateway resource path. */
  readonly path: string;
  /** The groups allowed to call it; everyone else is denied, whatever their own IAM policy says. */
  readonly groups: readonly CallerGroup[];
  /**
   * Media types the body may have; absent for a route without a body. {@link ANY_MEDIA_TYPE} alone
   * means any (or none): the body is taken as bytes, never parsed as JSON.
   */
  readonly mediaTypes?: readonly string[];
  /** The largest body accepted (decoded bytes); {@link DEFAULT_MAX_BODY_BYTES} when absent. */
  readonly maxBodyBytes?: number;
  /** A route that changes the client: it takes the write lock and leaves an audit line. */
  readonly writes: boolean;
  /** The OpenAPI `operationId`, also the typed client's method name: how code names a route without its path. */
  readonly operationId: string;
  /** Whether it asks Affix (and so reads the Affix credentials): the Affix and SSM problems are its. */
  readonly callsAffix: boolean;
  /** The query parameters it reads, each validated; any other query parameter is ignored. */
  readonly queryParameters?: readonly string[];
}

/** A route whose body is opaque bytes (any or no content type), such as a webhook delivery. */
export const ANY_MEDIA_TYPE = '*/*';

/** Every route of the API; each is `AWS_IAM`-authorized. */
export const ROUTES = [
  {
    method: 'GET',
    path: '/client',
    groups: ['readers', 'writers', 'rotators'],
    writes: false,
    operationId: 'getClient',
    callsAffix: true,
  },
  {
    method: 'PATCH',
    path: '/client',
    groups: ['writers', 'rotators'],
    // application/merge-patch+json is RFC 7396, which is what the PATCH body means.
    mediaTypes: ['application/json', 'application/merge-patch+json'],
    writes: true,
    operationId: 'updateClient',
    callsAffix: true,
  },
  {
    method: 'PUT',
    path: '/client/secrets',
    groups: ['rotators'],
    mediaTypes: ['application/json'],
    writes: true,
    operationId: 'replaceSecrets',
    callsAffix: true,
  },
  {
    // A receiver of Affix webhooks asks whether a delivery's signature matches a current secret.
    method: 'POST',
    path: '/webhooks/verify',
    groups: ['verifiers'],
    mediaTypes: [ANY_MEDIA_TYPE],
    maxBodyBytes: WEBHOOK_MAX_BODY_BYTES,
    writes: false,
    operationId: 'verifyWebhook',
    callsAffix: true,
  },
  {
    // The change journal, newest first: one DynamoDB query, no Affix request.
    method: 'GET',
    path: '/client/changes',
    groups: ['readers', 'writers', 'rotators'],
    writes: false,
    operationId: 'listChanges',
    callsAffix: false,
    queryParameters: ['limit', 'cursor'],
  },
] as const satisfies readonly RouteDefinition[];

type RouteOf<R> = R extends { readonly method: infer M extends string; readonly path: infer P extends string }
  ? `${M} ${P}`
  : never;

/** `'GET /client' | 'PATCH /client' | ...`: a route's method and path, as one key. */
export type RouteKey = RouteOf<(typeof ROUTES)[number]>;

export function routeKeyOf(route: Pick<RouteDefinition, 'method' | 'path'>): RouteKey {
  return `${route.method} ${route.path}` as RouteKey;
}

/** `'getClient' | 'updateClient' | ...`: the routes' operation ids. */
export type OperationId = (typeof ROUTES)[number]['operationId'];

/** The route with this operation id: how code outside the table names a route without spelling its path. */
export function routeOf(operationId: OperationId): RouteDefinition {
  const route = ROUTES.find((entry) => entry.operationId === operationId);
  if (route === undefined) throw new Error(`no route ${operationId}`);
  return route;
}

/** The operation id of a route key: how the handler dispatches without spelling a route. */
export function operationIdOf(key: RouteKey): OperationId {
  // The table's entries are typed `RouteDefinition` in the map; each one's id is one of OperationId.
  return routeDefinition(key).operationId as OperationId;
}

/** The route key (`'GET /client'`) of an operation id. */
export function routeKeyOfOperation(operationId: OperationId): RouteKey {
  return routeKeyOf(routeOf(operationId));
}

/** The routes keyed by {@link RouteKey}. */
export const ROUTES_BY_KEY: ReadonlyMap<RouteKey, RouteDefinition> = new Map(
  ROUTES.map((route) => [routeKeyOf(route), route]),
);

export const ROUTE_KEYS: readonly RouteKey[] = [...ROUTES_BY_KEY.keys()];

/** The distinct resource paths, in definition order. */
export const RESOURCE_PATHS: readonly string[] = [...new Set(ROUTES.map((route) => route.path))];

export function routeDefinition(key: RouteKey): RouteDefinition {
  const route = ROUTES_BY_KEY.get(key);
  if (route === undefined) throw new Error(`no route ${key}`);
  return route;
}

/** The route for a method and resource path, if any (exact, case-sensitive path; method upper-cased). */
export function findRoute(method: string, path: string): RouteDefinition | undefined {
  const upper = method.toUpperCase();
  return ROUTES.find((route) => route.path === path && route.method === upper);
}

/** The methods a resource path serves (for `Allow`), empty for an unknown path. */
export function methodsOf(path: string): HttpMethod[] {
  return ROUTES.filter((route) => route.path === path).map((route) => route.method);
}

/** The body limit of a route (decoded bytes). */
export function maxBodyBytesOf(route: RouteDefinition): number {
  return route.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
}

/** The query parameters a route reads (none for most). */
export function queryParametersOf(route: RouteDefinition): readonly string[] {
  return route.queryParameters ?? [];
}

/** Whether a route takes its body as opaque bytes rather than JSON. */
export function takesRawBody(route: RouteDefinition): boolean {
  return route.mediaTypes?.includes(ANY_MEDIA_TYPE) ?? false;
}

/** The routes a group may call. */
export function routesForGroup(group: CallerGroup): RouteKey[] {
  return ROUTES.filter((route) => (route.groups as readonly CallerGroup[]).includes(group)).map(routeKeyOf);
}

/** Whether a member of `group` may call `key`. */
export function groupMayCall(group: CallerGroup, key: RouteKey): boolean {
  return (routeDefinition(key).groups as readonly CallerGroup[]).includes(group);
}
