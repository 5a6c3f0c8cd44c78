/**
 * Checks a template against the CloudFormation resource specification (`@aws-cdk/aws-service-spec`,
 * the registry schemas of every resource type as one data package): every resource type exists,
 * every property (nested ones included) is one the type has and of a shape it accepts, no required
 * property is missing, and every `Fn::GetAtt` names an attribute its resource has.
 *
 * It is the check cfn-lint does for types and properties, in-process and from a current spec: the
 * bundled schemas of an older cfn-lint miss `AWS::Lambda::ResourcePolicy` and the dashboard's `Tags`.
 *
 * @example
 * const problems = specProblems(template, await resourceSpec());
 */
import { loadAwsServiceSpec } from '@aws-cdk/aws-service-spec';
import type { PropertyType, SpecDatabase, TypeDefinition } from '@aws-cdk/service-spec-types';
import type { CfnTemplate } from './template-graph.ts';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type Properties = TypeDefinition['properties'];

let loaded: Promise<SpecDatabase> | undefined;
/** The specification, loaded once per process (about 1.5 s). */
export function resourceSpec(): Promise<SpecDatabase> {
  loaded ??= loadAwsServiceSpec();
  return loaded;
}

/** The keys CloudFormation allows on a resource besides `Type`. */
const RESOURCE_KEYS = new Set([
  'Type',
  'Properties',
  'DependsOn',
  'Metadata',
  'Condition',
  'DeletionPolicy',
  'UpdateReplacePolicy',
  'UpdatePolicy',
  'CreationPolicy',
]);

/** A value computed by CloudFormation: its shape is known only at deploy time. */
function isIntrinsic(value: Json): boolean {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return false;
  const keys = Object.keys(value);
  return keys.length === 1 && (keys[0] === 'Ref' || (keys[0] as string).startsWith('Fn::'));
}

const isObject = (value: Json): value is { [key: string]: Json } =>
  value !== null && typeof value === 'object' && !Array.isArray(value);

/** Why `value` does not fit `type`, at `path`; empty when it fits. */
function typeProblems(db: SpecDatabase, type: PropertyType, value: Json, path: string): string[] {
  if (isIntrinsic(value)) return [];
  switch (type.type) {
    case 'string':
    case 'date-time':
      return typeof value === 'object' && value !== null ? [`${path}: must be a string`] : [];
    case 'integer':
    case 'number':
      return typeof value === 'number' ||
        (typeof value === 'string' && value.trim() !== '' && !Number.isNaN(Number(value)))
        ? []
        : [`${path}: must be a number`];
    case 'boolean':
      return typeof value === 'boolean' || value === 'true' || value === 'false'
        ? []
        : [`${path}: must be a boolean`];
    case 'json':
    case 'null':
      return [];
    case 'tag':
      return isObject(value) && 'Key' in value && 'Value' in value
        ? []
        : [`${path}: must be a { Key, Value } tag`];
    case 'array':
      if (!Array.isArray(value)) return [`${path}: must be a list`];
      return value.flatMap((item, index) => typeProblems(db, type.element, item, `${path}[${index}]`));
    case 'map':
      if (!isObject(value)) return [`${path}: must be a map`];
      return Object.entries(value).flatMap(([key, item]) =>
        typeProblems(db, type.element, item, `${path}.${key}`),
      );
    case 'union': {
      const each = type.types.map((member) => typeProblems(db, member, value, path));
      return each.some((problems) => problems.length === 0) ? [] : (each[0] ?? []);
    }
    case 'ref': {
      if (!isObject(value)) return [`${path}: must be an object`];
      return propertyProblems(db, db.get('typeDefinition', type.reference).properties, value, path);
    }
  }
}

/** Unknown, missing required and ill-shaped properties of one object of the spec's `properties`. */
function propertyProblems(
  db: SpecDatabase,
  properties: Properties,
  value: { [key: string]: Json },
  path: string,
): string[] {
  const problems: string[] = [];
  for (const [name, property] of Object.entries(properties)) {
    if (property.required && !(name in value)) problems.push(`${path}: required property ${name} is missing`);
  }
  for (const [name, inner] of Object.entries(value)) {
    const property = properties[name];
    if (property === undefined) {
      problems.push(`${path}: no property ${name}`);
      continue;
    }
    // A property whose type changed accepts its earlier shapes too.
    const shapes = [property.type, ...(property.previousTypes ?? [])].map((type) =>
      typeProblems(db, type, inner, `${path}.${name}`),
    );
    if (!shapes.some((found) => found.length === 0)) problems.push(...(shapes[0] ?? []));
  }
  return problems;
}

/** Every `Fn::GetAtt` in a value, as `[logical id, attribute]`. */
function getAtts(value: Json, found: Array<[string, string]> = []): Array<[string, string]> {
  if (Array.isArray(value)) {
    for (const item of value) getAtts(item, found);
  } else if (isObject(value)) {
    for (const [key, inner] of Object.entries(value)) {
      if (key === 'Fn::GetAtt') {
        const [id, attribute] = Array.isArray(inner)
          ? inner
          : typeof inner === 'string'
            ? [inner.slice(0, inner.indexOf('.')), inner.slice(inner.indexOf('.') + 1)]
            : [];
        if (typeof id === 'string' && typeof attribute === 'string') found.push([id, attribute]);
      } else {
        getAtts(inner, found);
      }
    }
  }
  return found;
}

/** Every disagreement of the template with the specification, one line each (`<logical id>...: why`). */
export function specProblems(template: CfnTemplate, db: SpecDatabase): string[] {
  const problems: string[] = [];
  const resources = template.Resources ?? {};
  const typeOf = (id: string) => {
    const type = resources[id]?.Type;
    if (typeof type !== 'string') return undefined;
    return db.lookup('resource', 'cloudFormationType', 'equals', type)[0];
  };
  for (const [id, resource] of Object.entries(resources)) {
    for (const key of Object.keys(resource)) {
      if (!RESOURCE_KEYS.has(key)) problems.push(`${id}: ${key} is not a resource attribute`);
    }
    const spec = typeOf(id);
    if (spec === undefined) {
      // Custom resources are the template author's own types.
      if (!String(resource.Type).startsWith('Custom::'))
        problems.push(`${id}: unknown type ${String(resource.Type)}`);
      continue;
    }
    const properties = resource.Properties ?? {};
    if (!isObject(properties)) {
      problems.push(`${id}: Properties must be an object`);
      continue;
    }
    problems.push(...propertyProblems(db, spec.properties, properties, id));
    for (const [target, attribute] of getAtts(properties)) {
      const targetSpec = typeOf(target);
      if (targetSpec !== undefined && !(attribute in targetSpec.attributes)) {
        problems.push(
          `${id}: Fn::GetAtt ${target}.${attribute}: ${targetSpec.cloudFormationType} has no such attribute`,
        );
      }
    }
  }
  return problems;
}
