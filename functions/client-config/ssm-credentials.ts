/**
 * Secondary adapter: loads the Affix credentials from SSM Parameter Store in one `GetParameters` call
 * with decryption. Every failure becomes a `credentials-unavailable` problem that names no value.
 */
import { GetParametersCommand, type GetParametersCommandOutput, type SSMClient } from '@aws-sdk/client-ssm';
import type { AffixCredentials } from './credentials.ts';
import { ProblemError } from './problems.ts';

export interface SsmCredentialsOptions {
  client: SSMClient;
  clientIdParameter: string;
  clientSecretParameter: string;
  /** Bounds one load, retries of the SDK included. */
  timeoutMs?: number;
}

export function createSsmCredentialsLoader(options: SsmCredentialsOptions): () => Promise<AffixCredentials> {
  const { client, clientIdParameter, clientSecretParameter } = options;
  const timeoutMs = options.timeoutMs ?? 5_000;
  return async () => {
    let output: GetParametersCommandOutput;
    try {
      output = await client.send(
        new GetParametersCommand({ Names: [clientIdParameter, clientSecretParameter], WithDecryption: true }),
        { abortSignal: AbortSignal.timeout(timeoutMs) },
      );
    } catch (error) {
      const reason = error instanceof Error ? error.name : 'UnknownError';
      throw new ProblemError('credentials-unavailable', 'The Affix credentials could not be read.', {
        cause: { source: 'ssm', reason },
      });
    }
    const byName = new Map((output.Parameters ?? []).map((parameter) => [parameter.Name, parameter.Value]));
    const clientId = byName.get(clientIdParameter);
    const clientSecret = byName.get(clientSecretParameter);
    if (!clientId || !clientSecret) {
      const missing = [clientIdParameter, clientSecretParameter].filter((name) => !byName.get(name));
      throw new ProblemError('credentials-unavailable', 'The Affix credentials are not configured.', {
        cause: { source: 'ssm', reason: 'ParameterMissing', missing },
      });
    }
    return { clientId, clientSecret };
  };
}
