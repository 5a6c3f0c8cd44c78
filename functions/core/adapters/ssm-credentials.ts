/**
 * Secondary adapter: loads the proxy's secrets from SSM Parameter Store in one `GetParameters` call
 * with decryption: the Affix client id and secret, and the ETag key. Every failure becomes a
 * `credentials-unavailable` problem that names no value.
 */
import { GetParametersCommand, type GetParametersCommandOutput, type SSMClient } from '@aws-sdk/client-ssm';
import { type EtagKey, EtagKeyError, parseEtagKey } from '../domain/etag-key.ts';
import { ProblemError } from '../domain/problems.ts';
import type { ProxyCredentials } from '../ports.ts';

export interface SsmCredentialsOptions {
  client: SSMClient;
  clientIdParameter: string;
  clientSecretParameter: string;
  /** SecureString: Base64 of at least 32 random bytes. */
  etagKeyParameter: string;
  /** Bounds one load, retries of the SDK included. */
  timeoutMs?: number;
}

export function createSsmCredentialsLoader(options: SsmCredentialsOptions): () => Promise<ProxyCredentials> {
  const { client, clientIdParameter, clientSecretParameter, etagKeyParameter } = options;
  const names = [clientIdParameter, clientSecretParameter, etagKeyParameter];
  const timeoutMs = options.timeoutMs ?? 5_000;
  return async () => {
    let output: GetParametersCommandOutput;
    try {
      output = await client.send(new GetParametersCommand({ Names: names, WithDecryption: true }), {
        abortSignal: AbortSignal.timeout(timeoutMs),
      });
    } catch (error) {
      const reason = error instanceof Error ? error.name : 'UnknownError';
      throw new ProblemError('credentials-unavailable', 'The Affix credentials could not be read.', {
        cause: { source: 'ssm', reason },
      });
    }
    const byName = new Map((output.Parameters ?? []).map((parameter) => [parameter.Name, parameter.Value]));
    const clientId = byName.get(clientIdParameter);
    const clientSecret = byName.get(clientSecretParameter);
    const storedKey = byName.get(etagKeyParameter);
    if (!clientId || !clientSecret || !storedKey) {
      const missing = names.filter((name) => !byName.get(name));
      throw new ProblemError('credentials-unavailable', 'The Affix credentials are not configured.', {
        cause: { source: 'ssm', reason: 'ParameterMissing', missing },
      });
    }
    let etagKey: EtagKey;
    try {
      etagKey = parseEtagKey(storedKey);
    } catch (error) {
      // A weak key would make ETags guessable again: refuse to serve rather than use it.
      const reason = error instanceof EtagKeyError ? error.reason : 'EtagKeyInvalid';
      throw new ProblemError('credentials-unavailable', 'The ETag key is not configured correctly.', {
        cause: { source: 'ssm', reason, parameter: etagKeyParameter },
      });
    }
    return { clientId, clientSecret, etagKey };
  };
}
