/**
 * The pre-traffic check of a deploy (CodeDeploy `BeforeAllowTraffic`): invoke the version about to
 * take traffic with the event API Gateway would send for a signed `GET /client`, and tell CodeDeploy
 * `Succeeded` only when it answers 200. Anything else (another status, a function error, a failed
 * invoke, an unreadable answer) is `Failed`, and CodeDeploy stops the deployment before any caller
 * reaches the new version.
 *
 * The invoke goes straight to the version ARN, not through API Gateway: the function's resource
 * policy admits exactly this hook's role besides API Gateway (infra/function-policy.ts). The handler
 * authorizes on the API's resource policy, not on the event, so the event only has to carry a caller
 * identity (the hook's role) as API Gateway would.
 *
 * @example
 * const status = await runDeployCheck(event, settings, ports);
 */
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { routeKeyOf, routeOf } from '../contract/routes.ts';

/** What CodeDeploy passes a lifecycle hook. */
export interface LifecycleHookEvent {
  readonly DeploymentId: string;
  readonly LifecycleEventHookExecutionId: string;
}

export type HookStatus = 'Succeeded' | 'Failed';

/** The answer of a Lambda invoke, as far as the check needs it. */
export interface InvokeAnswer {
  /** Set when the function failed (`Unhandled`) instead of returning. */
  readonly functionError?: string;
  /** The function's response payload, as text. */
  readonly payload?: string;
}

export interface DeployCheckPorts {
  invoke(functionArn: string, payload: string): Promise<InvokeAnswer>;
  report(event: LifecycleHookEvent, status: HookStatus): Promise<void>;
}

export interface DeployCheckSettings {
  /** The version CodeDeploy is about to shift traffic to (`arn:...:function:<name>:<n>`). */
  readonly targetVersionArn: string;
  /** The hook's own role: the caller identity in the synthetic event. */
  readonly callerArn: string;
  readonly stage: string;
}

/** The `User-Agent` of the synthetic request: the function's logs and metrics tell it apart. */
export const DEPLOY_CHECK_USER_AGENT = 'affix-webhook-config-deploy-check';

/** Why a check failed, in words for the log (never a body: it may hold client data). */
export type CheckVerdict = { readonly status: HookStatus; readonly reason: string };

const ACCOUNT_IN_ARN = /^arn:[^:]+:[^:]*:[^:]*:(\d{12}):/;

/** The route the check reads: the client, as any reader would. */
const CHECKED_ROUTE = routeOf('getClient');
const CHECKED_ROUTE_KEY = routeKeyOf(CHECKED_ROUTE);

/** The Lambda proxy event API Gateway sends for the client read, signed by `callerArn`. */
export function syntheticGetClientEvent(
  settings: Pick<DeployCheckSettings, 'callerArn' | 'stage'>,
  requestId: string,
  now: Date,
): APIGatewayProxyEvent {
  const accountId = ACCOUNT_IN_ARN.exec(settings.callerArn)?.[1] ?? '';
  const headers = { accept: 'application/json', 'user-agent': DEPLOY_CHECK_USER_AGENT };
  return {
    resource: CHECKED_ROUTE.path,
    path: CHECKED_ROUTE.path,
    httpMethod: CHECKED_ROUTE.method,
    headers,
    multiValueHeaders: Object.fromEntries(Object.entries(headers).map(([name, value]) => [name, [value]])),
    queryStringParameters: null,
    multiValueQueryStringParameters: null,
    pathParameters: null,
    stageVariables: null,
    body: null,
    isBase64Encoded: false,
    requestContext: {
      accountId,
      apiId: 'deploy-check',
      authorizer: null,
      httpMethod: CHECKED_ROUTE.method,
      path: `/${settings.stage}${CHECKED_ROUTE.path}`,
      protocol: 'HTTP/1.1',
      requestId,
      requestTimeEpoch: now.getTime(),
      resourceId: 'deploy-check',
      resourcePath: CHECKED_ROUTE.path,
      stage: settings.stage,
      identity: {
        accessKey: null,
        accountId,
        apiKey: null,
        apiKeyId: null,
        caller: settings.callerArn,
        clientCert: null,
        cognitoAuthenticationProvider: null,
        cognitoAuthenticationType: null,
        cognitoIdentityId: null,
        cognitoIdentityPoolId: null,
        principalOrgId: null,
        sourceIp: '127.0.0.1',
        user: settings.callerArn,
        userAgent: DEPLOY_CHECK_USER_AGENT,
        userArn: settings.callerArn,
      },
    },
  };
}

/** The verdict on one invoke's answer: 200 from a returned proxy response, nothing else. */
export function judge(answer: InvokeAnswer): CheckVerdict {
  if (answer.functionError !== undefined) {
    return { status: 'Failed', reason: `function error (${answer.functionError})` };
  }
  let statusCode: unknown;
  try {
    statusCode = (JSON.parse(answer.payload ?? '') as { statusCode?: unknown } | null)?.statusCode;
  } catch {
    return { status: 'Failed', reason: 'the answer is not a JSON proxy response' };
  }
  if (statusCode === 200) return { status: 'Succeeded', reason: `${CHECKED_ROUTE_KEY} answered 200` };
  return { status: 'Failed', reason: `${CHECKED_ROUTE_KEY} answered ${String(statusCode)}` };
}

/**
 * Runs the check and reports its verdict to CodeDeploy. A failed report is thrown (Lambda counts an
 * error; CodeDeploy fails the hook when it hears nothing).
 */
export async function runDeployCheck(
  event: LifecycleHookEvent,
  settings: DeployCheckSettings,
  ports: DeployCheckPorts,
  now: Date = new Date(),
): Promise<CheckVerdict> {
  let verdict: CheckVerdict;
  try {
    const request = syntheticGetClientEvent(settings, `deploy-check-${event.DeploymentId}`, now);
    verdict = judge(await ports.invoke(settings.targetVersionArn, JSON.stringify(request)));
  } catch (error) {
    verdict = {
      status: 'Failed',
      reason: `invoke failed (${error instanceof Error ? error.name : 'unknown'})`,
    };
  }
  await ports.report(event, verdict.status);
  return verdict;
}
