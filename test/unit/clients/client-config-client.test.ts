/**
 * The typed client's setup errors say what is wrong: a missing or empty `baseUrl` (the usual
 * `process.env.X ?? ''`), and credentials that are missing or incomplete, naming what to set (names
 * only, never a value). Nothing is sent: each failure happens before any request.
 */
import { describe, expect, it } from 'vitest';
import { createClientConfigClient } from '../../../clients/client-config-client.ts';
import { ClientConfigError } from '../../../clients/errors.ts';

const LOCAL = 'http://127.0.0.1:3000';

describe('baseUrl', () => {
  it('missing: says it is missing and what to pass', () => {
    const options = { region: 'us-east-1' } as unknown as Parameters<typeof createClientConfigClient>[0];
    expect(() => createClientConfigClient(options)).toThrow(
      /^baseUrl is missing: pass the API stage URL, e\.g\. https:\/\/.*execute-api.*\(npm start: http:\/\/127\.0\.0\.1:3000\)$/,
    );
  });

  it('empty or blank: says it is empty, likely an unset variable, instead of a URL rule', () => {
    for (const baseUrl of ['', '   ']) {
      let message = '';
      try {
        createClientConfigClient({ baseUrl, region: 'us-east-1' });
      } catch (error) {
        expect(error).toBeInstanceOf(TypeError);
        message = (error as Error).message;
      }
      expect(message).toMatch(
        /^baseUrl is empty \(an unset environment variable\?\): pass the API stage URL/,
      );
      expect(message).not.toMatch(/printable ASCII/);
    }
  });

  it('not a string: says so', () => {
    const options = { baseUrl: 42, region: 'us-east-1' } as unknown as Parameters<
      typeof createClientConfigClient
    >[0];
    expect(() => createClientConfigClient(options)).toThrow(/^baseUrl must be a string/);
  });
});

async function failure(promise: Promise<unknown>): Promise<ClientConfigError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof ClientConfigError) return error;
    throw error;
  }
  throw new Error('expected a failure');
}

describe('credentials', () => {
  it('incomplete static credentials: names the missing fields and where credentials come from', async () => {
    const api = createClientConfigClient({
      baseUrl: LOCAL,
      region: 'us-east-1',
      credentials: { accessKeyId: 'local-reader', secretAccessKey: '' },
    });
    const error = await failure(api.getClient());
    expect(error.slug).toBe('aws-credentials-unavailable');
    expect(error.status).toBe(0);
    expect(error.detail).toMatch(/^The AWS credentials have no secretAccessKey \(/);
    expect(error.detail).toContain('AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY');
    expect(error.detail).toContain("accessKeyId: 'local-reader'");

    const none = await failure(
      createClientConfigClient({
        baseUrl: LOCAL,
        region: 'us-east-1',
        credentials: { accessKeyId: '', secretAccessKey: '' },
      }).getClient(),
    );
    expect(none.detail).toMatch(/^The AWS credentials have no accessKeyId and no secretAccessKey/);
  });

  it("a failing provider of one's own: says it was the provider passed as credentials, with its error as cause", async () => {
    const cause = new Error('token expired');
    const error = await failure(
      createClientConfigClient({
        baseUrl: LOCAL,
        region: 'us-east-1',
        credentials: () => Promise.reject(cause),
      }).getClient(),
    );
    expect(error.slug).toBe('aws-credentials-unavailable');
    expect(error.detail).toBe(
      'The credentials provider passed as `credentials` failed (its error is the cause).',
    );
    expect(error.cause).toBe(cause);
  });
});
