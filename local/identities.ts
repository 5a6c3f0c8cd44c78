/**
 * The fixed local IAM identities, one per caller group of the contract: what `npm start` and the
 * tests sign with, and who the local API says the caller is. Groups and their routes come from
 * `functions/contract/routes.ts` (`groupMayCall`), the definition the stack's resource policy uses.
 *
 * Not secret: these keys only open the local API on 127.0.0.1.
 *
 * @example
 * const { accessKeyId, secretAccessKey } = LOCAL_IDENTITIES.writers; // local-writer / local-writer-secret
 * groupMayCall(LOCAL_IDENTITIES.writers.group, 'PUT /client/secrets'); // false
 */
import { CALLER_GROUPS, type CallerGroup } from '../functions/contract/routes.ts';

export const LOCAL_ACCOUNT_ID = '000000000000';
/** The region and service the local API verifies signatures for, as the deployed API's SigV4 scope. */
export const LOCAL_SIGNING_REGION = 'us-east-1';
export const LOCAL_SIGNING_SERVICE = 'execute-api';

/** The IAM caller API Gateway puts into `requestContext.identity` (null fields: no IAM caller). */
export interface LocalIdentity {
  userArn: string | null;
  caller: string | null;
  accountId: string | null;
  /** The access key id the request was signed with. */
  accessKey?: string | null;
  user?: string | null;
}

/** A local signer: its credentials, its caller group, and the identity a verified request carries. */
export interface LocalSigner {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  /** Session credentials only: requests must carry it as `x-amz-security-token`; others must not. */
  readonly sessionToken?: string;
  readonly group: CallerGroup;
  readonly identity: Readonly<LocalIdentity>;
}

/** `readers` -> `reader`: the member name used in the access key id and role name. */
function memberName(group: CallerGroup): string {
  return group.replace(/s$/, '');
}

/**
 * A signer for `group`, named `local-<member>` (access key id = role name), with an assumed-role
 * identity as API Gateway reports one: `caller`/`user` are `<role id>:<session>`.
 */
export function localSigner(
  group: CallerGroup,
  options: { name?: string; secretAccessKey?: string; sessionToken?: string } = {},
): LocalSigner {
  const name = options.name ?? `local-${memberName(group)}`;
  const roleId = `AROA${name.replace(/[^a-z0-9]/gi, '').toUpperCase()}`;
  return Object.freeze({
    accessKeyId: name,
    secretAccessKey: options.secretAccessKey ?? `${name}-secret`,
    ...(options.sessionToken === undefined ? {} : { sessionToken: options.sessionToken }),
    group,
    identity: Object.freeze({
      userArn: `arn:aws:sts::${LOCAL_ACCOUNT_ID}:assumed-role/${name}/local`,
      caller: `${roleId}:local`,
      user: `${roleId}:local`,
      accountId: LOCAL_ACCOUNT_ID,
      accessKey: name,
    }),
  });
}

/** One identity per caller group: `local-reader`, `local-writer`, `local-rotator`, `local-verifier`. */
export const LOCAL_IDENTITIES: Readonly<Record<CallerGroup, LocalSigner>> = Object.freeze(
  Object.fromEntries(CALLER_GROUPS.map((group) => [group, localSigner(group)])) as Record<
    CallerGroup,
    LocalSigner
  >,
);

/** The signers the local API accepts by default. */
export const LOCAL_SIGNERS: readonly LocalSigner[] = Object.freeze(Object.values(LOCAL_IDENTITIES));
