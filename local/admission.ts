/**
 * API Gateway's decision before the integration, in its order: the route must exist (an unknown route
 * or method is `MISSING_AUTHENTICATION_TOKEN`, signed or not), the SigV4 signature must verify
 * (`sigv4.ts`), and the signer's group must be allowed the route (the stack's resource policy, from
 * the same contract: `groupMayCall`). No I/O; a refusal's reason names no secret.
 *
 * @example
 * ```ts
 * const admission = await admit({ method, target, rawHeaders, body }, LOCAL_SIGNERS, Date.now());
 * if (!admission.ok) log(admission.reason);
 * ```
 */
import type { GatewayResponseType } from '../functions/contract/gateway-responses.ts';
import { findRoute, groupMayCall, routeKeyOf } from '../functions/contract/routes.ts';
import type { LocalIdentity, LocalSigner } from './identities.ts';
import { resourceOf, splitTarget } from './lambda-event.ts';
import { type ReceivedRequest, verifySigV4 } from './sigv4.ts';

export type Admission =
  | { ok: true; identity: LocalIdentity }
  | { ok: false; responseType: GatewayResponseType; reason: string };

export async function admit(
  request: ReceivedRequest,
  signers: readonly LocalSigner[],
  now: number,
): Promise<Admission> {
  const { method, target } = request;
  const route = findRoute(method, resourceOf(splitTarget(target).path));
  if (route === undefined) {
    return {
      ok: false,
      responseType: 'MISSING_AUTHENTICATION_TOKEN',
      reason: `no route ${method} ${target.split('?')[0]}`,
    };
  }
  const verified = await verifySigV4(request, { signers, now });
  if (!verified.ok) return { ok: false, responseType: verified.responseType, reason: verified.reason };
  const key = routeKeyOf(route);
  if (!groupMayCall(verified.signer.group, key)) {
    return {
      ok: false,
      responseType: 'ACCESS_DENIED',
      reason: `${verified.signer.accessKeyId} (${verified.signer.group}) may not call ${key}`,
    };
  }
  return { ok: true, identity: verified.signer.identity };
}
