/**
 * The fixed local IAM identities, alone: one signer per caller group of the contract, named as the
 * docs say, with the assumed-role identity API Gateway reports, frozen.
 */
import { describe, expect, it } from 'vitest';
import { CALLER_GROUPS } from '../../../functions/contract/routes.ts';
import {
  LOCAL_ACCOUNT_ID,
  LOCAL_IDENTITIES,
  LOCAL_SIGNERS,
  LOCAL_SIGNING_REGION,
  LOCAL_SIGNING_SERVICE,
  localSigner,
} from '../../../local/identities.ts';

describe('LOCAL_IDENTITIES', () => {
  it('has one signer per caller group, named local-<member> with the secret <id>-secret', () => {
    expect(Object.keys(LOCAL_IDENTITIES)).toEqual([...CALLER_GROUPS]);
    expect(
      Object.fromEntries(
        Object.entries(LOCAL_IDENTITIES).map(([group, signer]) => [
          group,
          [signer.group, signer.accessKeyId, signer.secretAccessKey],
        ]),
      ),
    ).toEqual({
      readers: ['readers', 'local-reader', 'local-reader-secret'],
      writers: ['writers', 'local-writer', 'local-writer-secret'],
      rotators: ['rotators', 'local-rotator', 'local-rotator-secret'],
      verifiers: ['verifiers', 'local-verifier', 'local-verifier-secret'],
    });
    expect(LOCAL_SIGNERS).toEqual(Object.values(LOCAL_IDENTITIES));
  });

  it('carries an assumed-role identity in the local account, as API Gateway reports one', () => {
    expect(LOCAL_IDENTITIES.writers.identity).toEqual({
      userArn: `arn:aws:sts::${LOCAL_ACCOUNT_ID}:assumed-role/local-writer/local`,
      caller: 'AROALOCALWRITER:local',
      user: 'AROALOCALWRITER:local',
      accountId: LOCAL_ACCOUNT_ID,
      accessKey: 'local-writer',
    });
    expect(LOCAL_SIGNING_REGION).toBe('us-east-1');
    expect(LOCAL_SIGNING_SERVICE).toBe('execute-api');
  });

  it('has no session credentials by default', () => {
    for (const signer of LOCAL_SIGNERS) expect(signer).not.toHaveProperty('sessionToken');
  });

  it('is frozen: a signer, its identity and the table cannot be changed', () => {
    expect(Object.isFrozen(LOCAL_IDENTITIES)).toBe(true);
    expect(Object.isFrozen(LOCAL_SIGNERS)).toBe(true);
    expect(Object.isFrozen(LOCAL_IDENTITIES.readers)).toBe(true);
    expect(Object.isFrozen(LOCAL_IDENTITIES.readers.identity)).toBe(true);
  });
});

describe('localSigner', () => {
  it('takes a name, a secret and a session token, and derives the role id from the name', () => {
    const signer = localSigner('rotators', {
      name: 'ci-rotator.2',
      secretAccessKey: 'other-secret',
      sessionToken: 'token',
    });
    expect(signer).toMatchObject({
      accessKeyId: 'ci-rotator.2',
      secretAccessKey: 'other-secret',
      sessionToken: 'token',
      group: 'rotators',
    });
    expect(signer.identity.caller).toBe('AROACIROTATOR2:local');
    expect(signer.identity.userArn).toBe(`arn:aws:sts::${LOCAL_ACCOUNT_ID}:assumed-role/ci-rotator.2/local`);
  });

  it('gives each group its own access key', () => {
    const keys = CALLER_GROUPS.map((group) => localSigner(group).accessKeyId);
    expect(new Set(keys).size).toBe(CALLER_GROUPS.length);
  });
});
