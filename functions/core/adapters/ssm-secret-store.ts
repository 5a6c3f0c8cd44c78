/**
 * Secondary adapter: the secret parameter in SSM. Reads its whole version history with decryption
 * (the last version is the current one; earlier values tell rotated-out secrets from a pending one)
 * and writes a new SecureString version with the configured KMS key. Errors carry the SDK's error
 * name only, never a value.
 */
import {
  GetParameterHistoryCommand,
  type ParameterHistory,
  PutParameterCommand,
  type SSMClient,
} from '@aws-sdk/client-ssm';
import type { SsmSecretState } from '../domain/rotation-state.ts';
import type { SecretStore } from '../ports.ts';

export interface SsmSecretStoreOptions {
  client: SSMClient;
  parameterName: string;
  /** KMS key for the SecureString; undefined: SSM's default key (alias/aws/ssm). */
  kmsKeyId: string | undefined;
}

export class SecretStoreError extends Error {
  override readonly name = 'SecretStoreError';
}

const errorName = (error: unknown) => (error instanceof Error ? error.name : 'UnknownError');

export function createSsmSecretStore(options: SsmSecretStoreOptions): SecretStore {
  const { client, parameterName } = options;
  return {
    async read(): Promise<SsmSecretState> {
      const versions: ParameterHistory[] = [];
      let nextToken: string | undefined;
      try {
        do {
          const page = await client.send(
            new GetParameterHistoryCommand({
              Name: parameterName,
              WithDecryption: true,
              MaxResults: 50,
              NextToken: nextToken,
            }),
          );
          versions.push(...(page.Parameters ?? []));
          nextToken = page.NextToken;
        } while (nextToken !== undefined);
      } catch (error) {
        throw new SecretStoreError(`reading the secret parameter failed (${errorName(error)})`);
      }
      versions.sort((a, b) => (a.Version ?? 0) - (b.Version ?? 0));
      const current = versions.at(-1);
      if (
        current?.Value === undefined ||
        current.Version === undefined ||
        current.LastModifiedDate === undefined
      ) {
        throw new SecretStoreError('the secret parameter has no readable current version');
      }
      return {
        current: current.Value,
        currentSince: current.LastModifiedDate,
        version: current.Version,
        history: versions
          .slice(0, -1)
          .flatMap((version) => (version.Value === undefined ? [] : [version.Value])),
      };
    },
    async put(value: string): Promise<void> {
      try {
        await client.send(
          new PutParameterCommand({
            Name: parameterName,
            Value: value,
            Type: 'SecureString',
            Overwrite: true,
            ...(options.kmsKeyId === undefined ? {} : { KeyId: options.kmsKeyId }),
          }),
        );
      } catch (error) {
        throw new SecretStoreError(`writing the secret parameter failed (${errorName(error)})`);
      }
    },
  };
}
