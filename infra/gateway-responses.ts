/**
 * API Gateway's own answers (missing or bad signature, access denied, throttled, integration
 * failures, default 4XX/5XX) as our RFC 9457 problems, one Gateway Response per entry of the
 * contract's `GATEWAY_PROBLEMS`.
 *
 * A Gateway Response template is not VTL: API Gateway only substitutes `$context...` variables in
 * it. The body is therefore our problem document serialized once with `JSON.stringify`, with the
 * placeholder `$context.requestId` as its `instance` (a request id needs no JSON escaping), and no
 * other `$` may appear in the text.
 *
 * @example
 * addGatewayResponses(api);
 */
import { ResponseType, type RestApi } from 'aws-cdk-lib/aws-apigateway';
import {
  GATEWAY_PROBLEMS,
  type GatewayProblem,
  gatewayProblemDocument,
} from '../functions/contract/gateway-responses.ts';

/** API Gateway fills this in with the request id, which is also in the access log. */
export const REQUEST_ID_VARIABLE = '$context.requestId';

export const PROBLEM_MEDIA_TYPE = 'application/problem+json';

/** The headers of every gateway answer: the same the function sets on its own answers. */
export const GATEWAY_RESPONSE_HEADERS: Readonly<Record<string, string>> = {
  'Content-Type': PROBLEM_MEDIA_TYPE,
  'Cache-Control': 'no-store',
  'X-Content-Type-Options': 'nosniff',
};

export class GatewayResponseError extends Error {
  override readonly name = 'GatewayResponseError';
}

/** The body template of one gateway answer. */
export function gatewayResponseTemplate(problem: GatewayProblem): string {
  const body = JSON.stringify(gatewayProblemDocument(problem, REQUEST_ID_VARIABLE));
  const stray = body.replaceAll(REQUEST_ID_VARIABLE, '');
  if (stray.includes('$')) {
    throw new GatewayResponseError(
      `${problem.responseType}: a "$" in the problem text would be read as an API Gateway variable`,
    );
  }
  return body;
}

/**
 * One Gateway Response per contract entry. The status is set where the contract fixes one (so the
 * document's `status` is always the HTTP status); DEFAULT_4XX/5XX keep API Gateway's own status,
 * which varies, and their documents carry none.
 */
export function addGatewayResponses(api: RestApi): void {
  // Header values in a Gateway Response are expressions: a literal is single-quoted.
  const responseHeaders = Object.fromEntries(
    Object.entries(GATEWAY_RESPONSE_HEADERS).map(([name, value]) => [name, `'${value}'`]),
  );
  for (const problem of GATEWAY_PROBLEMS) {
    const template = gatewayResponseTemplate(problem);
    api.addGatewayResponse(`GatewayResponse-${problem.responseType}`, {
      type: ResponseType.of(problem.responseType),
      ...(problem.status === undefined ? {} : { statusCode: String(problem.status) }),
      responseHeaders,
      // API Gateway picks the template by the request's Accept header and falls back to
      // application/json; both carry the same document, and Content-Type says what it is.
      templates: { 'application/json': template, [PROBLEM_MEDIA_TYPE]: template },
    });
  }
}
