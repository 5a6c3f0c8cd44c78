/**
 * A stage file's destination policy: required, checked at synth with the same rules the function
 * applies, never loopback, and handed to the function as `DESTINATION_POLICY` exactly as it reads it.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { destinationRefusal } from '../../functions/contract/destination-policy.ts';
import { loadDestinationPolicy } from '../../functions/core/domain/client-state.ts';
import { loadStage, parseStageConfig, STAGES } from '../../infra/stages.ts';
import { functionEnvironment } from '../../infra/webhook-config-stack.ts';
import { FIXTURE_STAGES_DIR, fixtureStage } from './fixtures.ts';

const BASIC_TEXT = readFileSync(join(FIXTURE_STAGES_DIR, 'basic.json'), 'utf8');

const withDestinations = (destinations: unknown) => () => {
  const file = JSON.parse(BASIC_TEXT) as Record<string, unknown>;
  if (destinations === undefined) delete file.destinations;
  else file.destinations = destinations;
  return parseStageConfig('x', 'test/x.json', JSON.stringify(file));
};

describe('destinations in a stage file', () => {
  it('is required: a file without a policy is refused at synth', () => {
    expect(withDestinations(undefined)).toThrow(/^test\/x\.json: destinations: is required$/);
  });

  it('accepts host lists and an explicit anyHost', () => {
    expect(withDestinations({ anyHost: true })().destinations).toEqual({ anyHost: true });
    const policy = { webhookUri: { hosts: ['*.example.com'], ports: [8443] }, redirectUris: { hosts: [] } };
    expect(withDestinations(policy)().destinations).toEqual(policy);
  });

  it.each([
    [{}, /^test\/x\.json: destinations: must be \{ "webhookUri"/],
    [{ anyHost: true, allowLoopback: true }, /destinations\.allowLoopback: is not a known field/],
    [
      { webhookUri: { hosts: ['exa_mple.com'] }, redirectUris: { hosts: [] } },
      /destinations\.webhookUri\.hosts\.0: must be a fully qualified host name/,
    ],
    [
      { webhookUri: { hosts: ['*.com'] }, redirectUris: { hosts: [] } },
      /destinations\.webhookUri\.hosts\.0: /,
    ],
    [{ webhookUri: { hosts: ['10.0.0.7'] }, redirectUris: { hosts: [] } }, /numeric label/],
    [{ webhookUri: { hosts: [] }, redirectUris: { hosts: [], ports: [0] } }, /port 0 is never a destination/],
    [{ webhookUri: { hosts: [] } }, /destinations: must be/],
  ])('refuses %j', (destinations, message) => {
    expect(withDestinations(destinations)).toThrow(message);
  });

  it.each(STAGES)('the committed stage %s declares a policy without loopback', (stage) => {
    const { destinations } = loadStage(stage);
    expect(destinations).toBeDefined();
    expect(destinations.allowLoopback).toBeUndefined();
  });
});

describe('DESTINATION_POLICY', () => {
  it('is the stage policy, read back by the function as the stage file says it', () => {
    const config = fixtureStage('canary');
    const env = functionEnvironment('canary', config, 'state-table');
    const policy = loadDestinationPolicy(env);
    expect(policy).toEqual(config.destinations);
    expect(destinationRefusal('webhook_uri', 'https://hooks.example.com:8443/h', policy)).toBeUndefined();
    expect(destinationRefusal('webhook_uri', 'https://hooks.attacker.net/h', policy)?.rule).toBe(
      'host-not-allowed',
    );
    expect(destinationRefusal('redirect_uris', 'https://hooks.example.com/cb', policy)?.rule).toBe(
      'host-not-allowed',
    );
  });
});
