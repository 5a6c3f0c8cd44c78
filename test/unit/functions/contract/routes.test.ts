/** The route table and what the other parts derive from it. */
import { describe, expect, it } from 'vitest';
import {
  ANY_MEDIA_TYPE,
  CALLER_GROUPS,
  DEFAULT_MAX_BODY_BYTES,
  findRoute,
  groupMayCall,
  maxBodyBytesOf,
  methodsOf,
  operationIdOf,
  queryParametersOf,
  RESOURCE_PATHS,
  ROUTE_KEYS,
  ROUTES,
  routeDefinition,
  routeKeyOf,
  routeKeyOfOperation,
  routeOf,
  routesForGroup,
  takesRawBody,
} from '../../../../functions/contract/routes.ts';

describe('the route table', () => {
  it('has one entry per method and path, and one per operation id', () => {
    expect(new Set(ROUTE_KEYS).size).toBe(ROUTES.length);
    expect(new Set(ROUTES.map((route) => route.operationId)).size).toBe(ROUTES.length);
    expect(RESOURCE_PATHS).toEqual([...new Set(ROUTES.map((route) => route.path))]);
  });

  it('gives every route at least one caller group, and only known groups', () => {
    for (const route of ROUTES) {
      expect(route.groups.length, routeKeyOf(route)).toBeGreaterThan(0);
      for (const group of route.groups) expect(CALLER_GROUPS).toContain(group);
    }
  });

  it('lets rotators call whatever writers may', () => {
    for (const key of routesForGroup('writers')) expect(groupMayCall('rotators', key), key).toBe(true);
  });

  it('makes only body routes writes or raw, and no write raw', () => {
    for (const route of ROUTES) {
      if (route.writes) expect('mediaTypes' in route, routeKeyOf(route)).toBe(true);
      if (takesRawBody(route)) expect(route.writes, routeKeyOf(route)).toBe(false);
    }
  });
});

describe('names of a route', () => {
  it.each(ROUTES.map((route) => [route.operationId, route] as const))(
    '%s: operation id, key and definition name one route',
    (operationId, route) => {
      const key = routeKeyOf(route);
      expect(routeOf(operationId)).toBe(route);
      expect(operationIdOf(key)).toBe(operationId);
      expect(routeKeyOfOperation(operationId)).toBe(key);
      expect(routeDefinition(key)).toBe(route);
      expect(findRoute(route.method.toLowerCase(), route.path)).toBe(route);
    },
  );

  it('throws for what the table does not have', () => {
    expect(() => routeOf('nope' as never)).toThrow(/no route nope/);
    expect(() => routeDefinition('DELETE /client' as never)).toThrow(/no route DELETE \/client/);
    expect(findRoute('DELETE', '/client')).toBeUndefined();
    // Paths are exact and case-sensitive, as API Gateway's resources are.
    expect(findRoute('GET', '/Client')).toBeUndefined();
    expect(findRoute('GET', '/client/')).toBeUndefined();
  });
});

describe('route properties', () => {
  it('lists the methods of a path for Allow, none for an unknown one', () => {
    for (const path of RESOURCE_PATHS) {
      expect(methodsOf(path).sort()).toEqual(
        ROUTES.filter((route) => route.path === path)
          .map((route) => route.method)
          .sort(),
      );
    }
    expect(methodsOf('/nowhere')).toEqual([]);
  });

  it('takes a raw body exactly where any media type is accepted', () => {
    for (const route of ROUTES) {
      const mediaTypes: readonly string[] = 'mediaTypes' in route ? route.mediaTypes : [];
      expect(takesRawBody(route), routeKeyOf(route)).toBe(mediaTypes.includes(ANY_MEDIA_TYPE));
    }
  });

  it('uses the default body limit unless a route names its own', () => {
    for (const route of ROUTES) {
      const own = 'maxBodyBytes' in route ? route.maxBodyBytes : undefined;
      expect(maxBodyBytesOf(route), routeKeyOf(route)).toBe(own ?? DEFAULT_MAX_BODY_BYTES);
    }
  });

  it('answers groupMayCall and routesForGroup alike', () => {
    for (const group of CALLER_GROUPS) {
      expect(routesForGroup(group)).toEqual(ROUTE_KEYS.filter((key) => groupMayCall(group, key)));
    }
  });
});

describe('GET /client/changes', () => {
  it('is a read of the reading groups, without body or Affix, reading limit and cursor', () => {
    const route = routeOf('listChanges');
    expect(routeKeyOf(route)).toBe('GET /client/changes');
    expect(route.groups).toEqual(['readers', 'writers', 'rotators']);
    expect(route.writes).toBe(false);
    expect(route.callsAffix).toBe(false);
    expect(route.mediaTypes).toBeUndefined();
    expect(queryParametersOf(route)).toEqual(['limit', 'cursor']);
    expect(groupMayCall('verifiers', 'GET /client/changes')).toBe(false);
    expect(findRoute('GET', '/client/changes')).toBe(route);
    expect(methodsOf('/client/changes')).toEqual(['GET']);
  });

  it('leaves every other route without query parameters, and asking Affix', () => {
    for (const route of ROUTES.filter((entry) => entry.operationId !== 'listChanges')) {
      expect(queryParametersOf(route), routeKeyOf(route)).toEqual([]);
      expect(route.callsAffix, routeKeyOf(route)).toBe(true);
    }
  });
});
