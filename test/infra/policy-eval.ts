/**
 * Evaluates the synthesized policies with an IAM policy evaluator (`@cloud-copilot/iam-simulate`,
 * AGPL-3.0, test-only), instead of matching their text.
 *
 * The template's policies contain CloudFormation intrinsics (`Fn::Join`, `Ref`, `Fn::GetAtt`,
 * pseudo parameters): {@link resolveIntrinsics} replaces them with fixed values (the account,
 * region and API id below), so the evaluator sees what AWS would see after deployment. The API
 * policy's `execute-api:/` shorthand is expanded to the API's ARN, as API Gateway does.
 *
 * The evaluator fills no global condition key itself: each request passes `aws:PrincipalArn`,
 * `aws:PrincipalAccount` (and `aws:PrincipalOrgID` for organization members, `aws:SourceArn` and
 * `aws:SourceAccount` for a service) in its context, as AWS would.
 */
import { runSimulation } from '@cloud-copilot/iam-simulate';
import type { Template } from 'aws-cdk-lib/assertions';

export const API_ACCOUNT = '123456789012';
export const REGION = 'eu-west-1';
export const PARTITION = 'aws';
export const API_ID = 'a1b2c3d4e5';
export const FUNCTION_NAME = 'client-config-fn';
export const FUNCTION_ARN = `arn:${PARTITION}:lambda:${REGION}:${API_ACCOUNT}:function:${FUNCTION_NAME}`;
/** The alias `live`, the qualifier API Gateway invokes. */
export const ALIAS_ARN = `${FUNCTION_ARN}:live`;
/** This deploy's published version. */
export const VERSION_ARN = `${FUNCTION_ARN}:1`;

/** A role of the stack, as deployed: named after its logical ID here. */
export function stackRoleArn(logicalId: string): string {
  return `arn:${PARTITION}:iam::${API_ACCOUNT}:role/${logicalId}`;
}

/** `arn:aws:execute-api:eu-west-1:123456789012:a1b2c3d4e5/` */
export const API_ARN_PREFIX = `arn:${PARTITION}:execute-api:${REGION}:${API_ACCOUNT}:${API_ID}/`;

export function methodArn(stage: string, method: string, path: string, apiId = API_ID): string {
  return `arn:${PARTITION}:execute-api:${REGION}:${API_ACCOUNT}:${apiId}/${stage}/${method}${path}`;
}

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
interface Resource {
  Type: string;
  Properties?: Record<string, Json>;
}

const PSEUDO: Record<string, string> = {
  'AWS::AccountId': API_ACCOUNT,
  'AWS::Region': REGION,
  'AWS::Partition': PARTITION,
  'AWS::URLSuffix': 'amazonaws.com',
};

export class UnresolvedIntrinsicError extends Error {
  override readonly name = 'UnresolvedIntrinsicError';
}

/**
 * The value with every intrinsic resolved: pseudo parameters, `Ref` to the API (its id), the
 * function (its name) or the API stage (its name), `Fn::GetAtt [function, Arn]`, `Fn::Join`.
 * Anything else throws, so a policy never silently keeps a token the evaluator cannot read.
 */
export function resolveIntrinsics(value: Json, template: Template, stage: string): Json {
  const resources = template.toJSON().Resources as Record<string, Resource>;
  const resolve = (node: Json): Json => {
    if (Array.isArray(node)) return node.map(resolve);
    if (node === null || typeof node !== 'object') return node;
    const keys = Object.keys(node);
    if (keys.length === 1 && keys[0] === 'Ref') return resolveRef(node.Ref as string);
    if (keys.length === 1 && keys[0] === 'Fn::GetAtt') {
      const [id, attribute] = node['Fn::GetAtt'] as [string, string];
      if (resources[id]?.Type === 'AWS::Lambda::Function' && attribute === 'Arn') return FUNCTION_ARN;
      if (resources[id]?.Type === 'AWS::IAM::Role' && attribute === 'Arn') return stackRoleArn(id);
      throw new UnresolvedIntrinsicError(`Fn::GetAtt ${id}.${attribute}`);
    }
    if (keys.length === 1 && keys[0] === 'Fn::Join') {
      const [separator, parts] = node['Fn::Join'] as [string, Json[]];
      return parts.map((part) => String(resolve(part))).join(separator);
    }
    if (keys.some((key) => key.startsWith('Fn::'))) throw new UnresolvedIntrinsicError(keys.join(','));
    return Object.fromEntries(Object.entries(node).map(([key, inner]) => [key, resolve(inner)]));
  };
  const resolveRef = (id: string): string => {
    const pseudo = PSEUDO[id];
    if (pseudo !== undefined) return pseudo;
    switch (resources[id]?.Type) {
      case 'AWS::ApiGateway::RestApi':
        return API_ID;
      case 'AWS::Lambda::Function':
        return FUNCTION_NAME;
      case 'AWS::Lambda::Alias':
        return ALIAS_ARN;
      case 'AWS::Lambda::Version':
        return VERSION_ARN;
      case 'AWS::ApiGateway::Stage':
        return stage;
      default:
        throw new UnresolvedIntrinsicError(`Ref ${id}`);
    }
  };
  return resolve(value);
}

export interface PolicyDocumentJson {
  Version: string;
  Statement: Array<Record<string, Json>>;
}

/** The API's resource policy as deployed: intrinsics resolved, `execute-api:/` expanded. */
export function apiResourcePolicy(template: Template, stage: string): PolicyDocumentJson {
  const apis = Object.values(template.findResources('AWS::ApiGateway::RestApi')) as Resource[];
  if (apis.length !== 1) throw new Error(`expected one RestApi, found ${apis.length}`);
  const policy = resolveIntrinsics((apis[0] as Resource).Properties?.Policy as Json, template, stage);
  return JSON.parse(JSON.stringify(policy).replaceAll('"execute-api:/', `"${API_ARN_PREFIX}`));
}

/**
 * The effective resource policy of one qualifier (`qualifiedArn`: the function's ARN, or the ARN of
 * its alias): Lambda keeps one policy per qualifier and checks the one of the ARN invoked. The
 * statements of each AWS::Lambda::ResourcePolicy on that ARN and, as Lambda's AddPermission would
 * write them, of every AWS::Lambda::Permission on it.
 */
export function functionResourcePolicy(
  template: Template,
  stage: string,
  qualifiedArn: string = FUNCTION_ARN,
): PolicyDocumentJson {
  const statements: Array<Record<string, Json>> = [];
  for (const resource of Object.values(template.findResources('AWS::Lambda::ResourcePolicy')) as Resource[]) {
    if (resolveIntrinsics(resource.Properties?.ResourceArn as Json, template, stage) !== qualifiedArn)
      continue;
    const doc = resolveIntrinsics(resource.Properties?.PolicyDocument as Json, template, stage) as unknown as
      | PolicyDocumentJson
      | undefined;
    statements.push(...(doc?.Statement ?? []));
  }
  for (const resource of Object.values(template.findResources('AWS::Lambda::Permission')) as Resource[]) {
    const props = resolveIntrinsics(resource.Properties as Json, template, stage) as Record<string, string>;
    const target = props.FunctionName?.startsWith('arn:') ? props.FunctionName : FUNCTION_ARN;
    if (target !== qualifiedArn) continue;
    const principal = props.Principal as string;
    statements.push({
      Effect: 'Allow',
      Principal: principal.endsWith('.amazonaws.com') ? { Service: principal } : { AWS: principal },
      Action: props.Action as string,
      Resource: qualifiedArn,
      ...(props.SourceArn ? { Condition: { ArnLike: { 'AWS:SourceArn': props.SourceArn } } } : {}),
    });
  }
  return { Version: '2012-10-17', Statement: statements };
}

export type Decision = 'Allowed' | 'ExplicitlyDenied' | 'ImplicitlyDenied';

export interface EvaluationRequest {
  /** The principal ARN (an assumed-role session for roles) or a service principal. */
  principal: string;
  action: string;
  resource: string;
  context: Record<string, string>;
  /** The caller's own IAM policy, if any. */
  identityPolicy?: PolicyDocumentJson;
  resourcePolicy: PolicyDocumentJson;
}

/** Decides one request; throws when the evaluator rejects its input (a bad policy or context). */
export async function evaluate(request: EvaluationRequest): Promise<Decision> {
  const result = await runSimulation(
    {
      request: {
        principal: request.principal,
        action: request.action,
        resource: { resource: request.resource, accountId: API_ACCOUNT },
        contextVariables: request.context,
      },
      identityPolicies: request.identityPolicy ? [{ name: 'identity', policy: request.identityPolicy }] : [],
      serviceControlPolicies: [],
      resourceControlPolicies: [],
      resourcePolicy: request.resourcePolicy,
    },
    {},
  );
  if (result.resultType === 'error') throw new Error(`simulation error: ${JSON.stringify(result.errors)}`);
  return result.overallResult as Decision;
}

/** An identity policy allowing `action` (e.g. `execute-api:Invoke`, `lambda:*`) on everything. */
export function permissive(action: string): PolicyDocumentJson {
  return { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: action, Resource: '*' }] };
}

/** What a role's session looks like to a resource policy: its session ARN and the keys AWS sets. */
export function roleSession(
  account: string,
  roleName: string,
  organizationId?: string,
): { principal: string; context: Record<string, string> } {
  return {
    principal: `arn:${PARTITION}:sts::${account}:assumed-role/${roleName}/session`,
    context: {
      'aws:PrincipalArn': `arn:${PARTITION}:iam::${account}:role/${roleName}`,
      'aws:PrincipalAccount': account,
      ...(organizationId ? { 'aws:PrincipalOrgID': organizationId } : {}),
    },
  };
}
