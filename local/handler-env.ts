/**
 * The environment the client-config handler expects, wired to the local stand-ins (fake AWS
 * credentials, the local SSM endpoint and DynamoDB engine), and the local parameter names.
 *
 * @example
 * ```ts
 * const env = localHandlerEnv({ affixBaseUrl, ssmUrl, dynamodbUrl, stateTableName: 'affix-state' });
 * ```
 */

import { LOCAL_DESTINATION_POLICY } from '../functions/contract/destination-policy.ts';
import { METRICS_NAMESPACE, SERVICE_NAME } from '../functions/contract/telemetry.ts';
import { DESTINATION_POLICY_ENV } from '../functions/core/domain/client-state.ts';

export const DEFAULT_CLIENT_ID_PARAMETER = '/affix/local/client-id';
export const DEFAULT_CLIENT_SECRET_PARAMETER = '/affix/local/client-secret';
/** SecureString: the ETag HMAC key (Base64 of 32 random bytes; `npm start` makes a fresh one). */
export const DEFAULT_ETAG_KEY_PARAMETER = '/affix/local/etag-key';

export interface LocalHandlerEnvOptions {
  affixBaseUrl: string;
  ssmUrl: string;
  /** The local DynamoDB engine (see `local/dynamodb.ts`) and its state table. */
  dynamodbUrl: string;
  stateTableName: string;
  clientIdParameter?: string;
  clientSecretParameter?: string;
  etagKeyParameter?: string;
}

/** The environment the handler expects, wired to local stand-ins (fake AWS credentials, local SSM and DynamoDB). */
export function localHandlerEnv(opts: LocalHandlerEnvOptions): Record<string, string> {
  return {
    AFFIX_BASE_URL: opts.affixBaseUrl,
    AFFIX_CLIENT_ID_PARAMETER: opts.clientIdParameter ?? DEFAULT_CLIENT_ID_PARAMETER,
    AFFIX_CLIENT_SECRET_PARAMETER: opts.clientSecretParameter ?? DEFAULT_CLIENT_SECRET_PARAMETER,
    ETAG_KEY_PARAMETER: opts.etagKeyParameter ?? DEFAULT_ETAG_KEY_PARAMETER,
    AWS_ENDPOINT_URL_SSM: opts.ssmUrl,
    AWS_ENDPOINT_URL_DYNAMODB: opts.dynamodbUrl,
    STATE_TABLE_NAME: opts.stateTableName,
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'local',
    AWS_SECRET_ACCESS_KEY: 'local',
    // As Lambda sets it for on-demand environments; without it Powertools reports cold_start false always.
    AWS_LAMBDA_INITIALIZATION_TYPE: 'on-demand',
    POWERTOOLS_SERVICE_NAME: SERVICE_NAME,
    POWERTOOLS_METRICS_NAMESPACE: METRICS_NAMESPACE,
    STAGE: 'local',
    // example.com, *.example.com and loopback hosts: the only stage whose policy allows loopback.
    [DESTINATION_POLICY_ENV]: JSON.stringify(LOCAL_DESTINATION_POLICY),
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
  };
}
