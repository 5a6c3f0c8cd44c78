/**
 * The use cases alone, built from in-memory ports: an Affix port that keeps one client and counts
 * its calls, the in-memory write lock, a credentials provider whose cached and fresh (SSM) values can
 * differ. No HTTP, no AWS, no middy.
 */
import { describe, expect, it } from 'vitest';
import { createDeadline } from '../../../../../functions/core/app/deadline.ts';
import { createUseCases } from '../../../../../functions/core/app/use-cases.ts';
import { computeEtag } from '../../../../../functions/core/domain/client-state.ts';
import { parseEtagKey } from '../../../../../functions/core/domain/etag-key.ts';
import { ProblemError } from '../../../../../functions/core/domain/problems.ts';
import { type AffixClient, parseAffixClient } from '../../../../../functions/core/domain/schemas.ts';
import { signatureOf } from '../../../../../functions/core/domain/webhook-signature.ts';
import type {
  AffixPort,
  CallContext,
  CredentialsProvider,
  Ports,
  ProxyCredentials,
  WriteLock,
} from '../../../../../functions/core/ports.ts';
import { createInMemoryWriteLock } from '../../../../support/in-memory-write-lock.ts';

const OLD_SECRET = 'secret-OOOO-oooo-1111-old-one';
const NEW_SECRET = 'secret-NNNN-nnnn-2222-new-one';
const CLIENT_ID = 'client-0000-use-cases';
const ETAG_KEY = parseEtagKey(Buffer.alloc(32, 3).toString('base64'));

function initialClient(): AffixClient {
  const client = parseAffixClient({
    client_id: CLIENT_ID,
    client_secret: [OLD_SECRET],
    name: 'Use Case App',
    redirect_uris: ['https://app.example.com/callback'],
    webhook_uri: 'https://hooks.example.com/affix',
    logo_url: 'https://app.example.com/logo.png',
  });
  if (client === undefined) throw new Error('not an Affix client');
  return client;
}

/** Affix in memory: one client, replaced whole by `replaceClient`, every call logged. */
function inMemoryAffix(log: string[]) {
  const state = { client: initialClient(), gets: 0, replaces: 0 };
  const port: AffixPort = {
    async getClient() {
      state.gets += 1;
      log.push('affix:get');
      return state.client;
    },
    async replaceClient(update) {
      state.replaces += 1;
      log.push('affix:replace');
      const { extra, ...fields } = update;
      state.client = { ...fields, client_id: state.client.client_id, extra };
      return state.client;
    },
  };
  return { port, state };
}

/** The cached value (`get`) and the one SSM holds now (`refresh`), set apart by the test. */
function inMemoryCredentials() {
  const values = { cached: OLD_SECRET, ssm: OLD_SECRET, refreshes: 0 };
  const of = (clientSecret: string): ProxyCredentials => ({
    clientId: CLIENT_ID,
    clientSecret,
    etagKey: ETAG_KEY,
  });
  const provider: CredentialsProvider = {
    get: () => Promise.resolve(of(values.cached)),
    refresh: () => {
      values.refreshes += 1;
      values.cached = values.ssm;
      return Promise.resolve(of(values.ssm));
    },
  };
  return { provider, values };
}

/** Wraps a lock so its enter and exit land in the same log as Affix's calls. */
function recording(lock: WriteLock, log: string[]): WriteLock {
  return {
    runExclusive: (call, work) =>
      lock.runExclusive(call, async () => {
        log.push('lock:enter');
        try {
          return await work();
        } finally {
          log.push('lock:exit');
        }
      }),
  };
}

function setup() {
  const log: string[] = [];
  const affix = inMemoryAffix(log);
  const credentials = inMemoryCredentials();
  const ports: Ports = {
    affix: affix.port,
    credentials: credentials.provider,
    writeLock: recording(createInMemoryWriteLock(), log),
  };
  return { useCases: createUseCases(ports), affix, credentials, log };
}

const call = (): CallContext => ({ deadline: createDeadline(5_000) });

async function problemOf(promise: Promise<unknown>): Promise<ProblemError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(error instanceof ProblemError)) throw new Error(`expected a ProblemError, got ${String(error)}`);
  return error;
}

describe('getClient', () => {
  it('reads the client once, with its keyed ETag, outside the lock', async () => {
    const { useCases, affix, log } = setup();
    const result = await useCases.getClient(call());
    expect(result.client).toEqual(affix.state.client);
    expect(result.etag).toBe(computeEtag(affix.state.client, ETAG_KEY));
    expect(result.changed).toEqual([]);
    expect(log).toEqual(['affix:get']);
  });
});

describe('patchClient', () => {
  it('merges the patch into the full client and replaces it once', async () => {
    const { useCases, affix } = setup();
    const before = affix.state.client;
    const result = await useCases.patchClient({ webhook_uri: null }, call());
    expect(result.changed).toEqual(['webhook_uri']);
    expect(affix.state.replaces).toBe(1);
    expect(affix.state.client).toEqual({ ...before, webhook_uri: null });
    // The secrets and the unmodelled field went back as they were.
    expect(affix.state.client.client_secret).toEqual([OLD_SECRET]);
    expect(affix.state.client.extra).toEqual(before.extra);
    expect(result.etag).toBe(computeEtag(affix.state.client, ETAG_KEY));
    expect(result.etag).not.toBe(computeEtag(before, ETAG_KEY));
  });

  it('If-Match with the current ETag (or *) passes', async () => {
    const { useCases, affix } = setup();
    const { etag } = await useCases.getClient(call());
    await useCases.patchClient({ name: 'First' }, call(), { ifMatch: etag });
    await useCases.patchClient({ name: 'Second' }, call(), { ifMatch: '*' });
    expect(affix.state.replaces).toBe(2);
    expect(affix.state.client.name).toBe('Second');
  });

  it('If-Match with a stale or weak ETag: 412 precondition-failed, nothing replaced', async () => {
    const { useCases, affix } = setup();
    const { etag } = await useCases.getClient(call());
    for (const ifMatch of ['"stale"', `W/${etag}`]) {
      const problem = await problemOf(useCases.patchClient({ name: 'Late' }, call(), { ifMatch }));
      expect([problem.slug, problem.status]).toEqual(['precondition-failed', 412]);
    }
    expect(affix.state.replaces).toBe(0);
    expect(affix.state.client.name).toBe('Use Case App');
  });

  it('a patch that changes nothing sends nothing, and answers the current ETag', async () => {
    const { useCases, affix } = setup();
    const { etag } = await useCases.getClient(call());
    const result = await useCases.patchClient(
      { name: 'Use Case App', redirect_uris: ['https://app.example.com/callback'] },
      call(),
    );
    expect(result.changed).toEqual([]);
    expect(result.etag).toBe(etag);
    expect(affix.state.replaces).toBe(0);
  });

  it('runs the read, the check and the replace inside the lock', async () => {
    const { useCases, log } = setup();
    await useCases.patchClient({ name: 'Locked' }, call());
    expect(log).toEqual(['lock:enter', 'affix:get', 'affix:replace', 'lock:exit']);
  });
});

describe('replaceSecrets', () => {
  it('replaces the secret list when it keeps the secret SSM serves, inside the lock', async () => {
    const { useCases, affix, credentials, log } = setup();
    const result = await useCases.replaceSecrets([OLD_SECRET, NEW_SECRET], call());
    expect(affix.state.client.client_secret).toEqual([OLD_SECRET, NEW_SECRET]);
    expect(result.changed).toEqual(['client_secret']);
    expect(credentials.values.refreshes).toBe(1);
    expect(log).toEqual(['lock:enter', 'affix:get', 'affix:replace', 'lock:exit']);
  });

  it('lock-out guard: a list without the secret SSM serves is refused (409), nothing replaced', async () => {
    const { useCases, affix } = setup();
    const problem = await problemOf(useCases.replaceSecrets([NEW_SECRET], call()));
    expect([problem.slug, problem.status]).toEqual(['would-lock-out', 409]);
    expect(affix.state.replaces).toBe(0);
    expect(affix.state.client.client_secret).toEqual([OLD_SECRET]);
  });

  it('lock-out guard reads SSM afresh: a stale cached secret cannot let the served one go', async () => {
    const { useCases, affix, credentials } = setup();
    // SSM already serves the new secret; this container's cache still holds the old one.
    credentials.values.ssm = NEW_SECRET;
    const problem = await problemOf(useCases.replaceSecrets([OLD_SECRET], call()));
    expect(problem.slug).toBe('would-lock-out');
    expect(credentials.values.refreshes).toBe(1);
    expect(affix.state.replaces).toBe(0);
  });

  it('If-Match mismatch: 412 before the guard, nothing replaced', async () => {
    const { useCases, affix } = setup();
    const problem = await problemOf(useCases.replaceSecrets([OLD_SECRET], call(), { ifMatch: '"stale"' }));
    expect(problem.slug).toBe('precondition-failed');
    expect(affix.state.replaces).toBe(0);
  });
});

describe('verifyWebhook', () => {
  const body = new TextEncoder().encode('{"event":"client.updated"}');
  const hex = (secret: string) => signatureOf(body, secret).toString('hex');

  it('accepts a delivery signed with a current secret, showing its masked tail only', async () => {
    const { useCases } = setup();
    const verification = await useCases.verifyWebhook(body, hex(OLD_SECRET), call());
    expect(verification.valid).toBe(true);
    expect(verification.secret).not.toContain(OLD_SECRET);
    expect(verification.secret.endsWith(OLD_SECRET.slice(-4))).toBe(true);
  });

  it('a secret added through this container verifies at once (the write primes the list)', async () => {
    const { useCases } = setup();
    await useCases.verifyWebhook(body, hex(OLD_SECRET), call());
    await useCases.replaceSecrets([OLD_SECRET, NEW_SECRET], call());
    await expect(useCases.verifyWebhook(body, hex(NEW_SECRET), call())).resolves.toMatchObject({
      valid: true,
    });
  });

  it('refuses a forged or missing signature: 422 signature-mismatch', async () => {
    const { useCases } = setup();
    const forged = await problemOf(useCases.verifyWebhook(body, hex('not-a-secret-of-this-client'), call()));
    expect(forged.slug).toBe('signature-mismatch');
    const missing = await problemOf(useCases.verifyWebhook(body, undefined, call()));
    expect(missing.slug).toBe('signature-mismatch');
  });
});
