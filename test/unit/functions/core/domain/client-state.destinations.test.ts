/**
 * The destination policy as configuration (the stage file's and the environment's schema) and the
 * check a write goes through: the problem it answers names each refused field and the rule.
 */
import * as v from 'valibot';
import { describe, expect, it } from 'vitest';
import {
  type DestinationPolicy,
  LOCAL_DESTINATION_POLICY,
} from '../../../../../functions/contract/destination-policy.ts';
import {
  checkDestinations,
  DestinationPolicyError,
  loadDestinationPolicy,
  parseDestinationPolicy,
  StageDestinationsSchema,
} from '../../../../../functions/core/domain/client-state.ts';
import { ProblemError } from '../../../../../functions/core/domain/problems.ts';

const STAGE: DestinationPolicy = {
  webhookUri: { hosts: ['example.com', '*.example.com'], ports: [8443] },
  redirectUris: { hosts: ['app.example.org'] },
};

const problemOf = (run: () => void): ProblemError => {
  try {
    run();
  } catch (error) {
    if (error instanceof ProblemError) return error;
    throw error;
  }
  throw new Error('no problem was thrown');
};

describe('checkDestinations', () => {
  it('lets allowed destinations, null and untouched fields through', () => {
    expect(() =>
      checkDestinations({ webhook_uri: 'https://hooks.example.com/allowed' }, STAGE),
    ).not.toThrow();
    expect(() => checkDestinations({ webhook_uri: null }, STAGE)).not.toThrow();
    expect(() => checkDestinations({}, STAGE)).not.toThrow();
    expect(() => checkDestinations({ redirect_uris: ['https://app.example.org/cb'] }, STAGE)).not.toThrow();
  });

  it('answers destination-not-allowed naming each refused field and its rule', () => {
    const problem = problemOf(() =>
      checkDestinations(
        {
          webhook_uri: 'https://169.254.169.254/latest/meta-data/',
          redirect_uris: ['https://app.example.org/cb', 'https://app.attacker.net/cb'],
        },
        STAGE,
      ),
    );
    expect(problem.slug).toBe('destination-not-allowed');
    expect(problem.status).toBe(422);
    expect(problem.message).toMatch(
      /^webhook_uri must name a host, not an IP address .*; rule ip-literal \(2 destinations refused/,
    );
    expect(problem.errors).toEqual([
      { pointer: '/webhook_uri', detail: expect.stringMatching(/^ip-literal: webhook_uri /) },
      {
        pointer: '/redirect_uris/1',
        detail: expect.stringMatching(/^host-not-allowed: redirect_uris\[1\] host app.attacker.net /),
      },
    ]);
  });
});

describe('the policy schemas', () => {
  it('accepts both shapes in a stage file, and no allowLoopback there', () => {
    expect(v.safeParse(StageDestinationsSchema, { anyHost: true }).success).toBe(true);
    expect(v.safeParse(StageDestinationsSchema, STAGE).success).toBe(true);
    expect(v.safeParse(StageDestinationsSchema, { ...STAGE, allowLoopback: true }).success).toBe(false);
    expect(v.safeParse(StageDestinationsSchema, {}).success).toBe(false);
    expect(v.safeParse(StageDestinationsSchema, { anyHost: false }).success).toBe(false);
    expect(v.safeParse(StageDestinationsSchema, { webhookUri: { hosts: [] } }).success).toBe(false);
    expect(v.safeParse(StageDestinationsSchema, { anyHost: true, webhookUri: { hosts: [] } }).success).toBe(
      false,
    );
    expect(
      v.safeParse(StageDestinationsSchema, {
        webhookUri: { hosts: [], ports: [0] },
        redirectUris: { hosts: [] },
      }).success,
    ).toBe(false);
  });

  it('names the bad member', () => {
    expect(() =>
      parseDestinationPolicy({ webhookUri: { hosts: ['exa_mple.com'] }, redirectUris: { hosts: [] } }),
    ).toThrow(/DESTINATION_POLICY\.webhookUri\.hosts\.0 must be a fully qualified host name/);
    expect(() => parseDestinationPolicy({ anyHost: true, ports: [0] })).toThrow(
      /port 0 is never a destination/,
    );
  });

  it('loads the environment variable once, and refuses a missing or broken one', () => {
    expect(loadDestinationPolicy({ DESTINATION_POLICY: JSON.stringify(LOCAL_DESTINATION_POLICY) })).toEqual(
      LOCAL_DESTINATION_POLICY,
    );
    expect(() => loadDestinationPolicy({})).toThrow(DestinationPolicyError);
    expect(() => loadDestinationPolicy({ DESTINATION_POLICY: '{' })).toThrow(/is not JSON/);
    expect(() => loadDestinationPolicy({ DESTINATION_POLICY: '{}' })).toThrow(DestinationPolicyError);
    expect(() =>
      loadDestinationPolicy({ DESTINATION_POLICY: '{"anyHost":true,"allowLoopback":"yes"}' }),
    ).toThrow(DestinationPolicyError);
  });
});
