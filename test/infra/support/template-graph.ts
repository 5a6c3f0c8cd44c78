/**
 * The dependency graph CloudFormation builds from a template, and its cycles.
 *
 * CloudFormation orders resources by every reference it can see: `Ref`, `Fn::GetAtt` (list or
 * `X.Attr` string), `Fn::Sub` (`${X}` and `${X.Attr}` inside the string, except `${!literal}` and
 * the names its own variable map defines), `DependsOn`, and references anywhere in a resource's
 * `Properties`, `UpdatePolicy` and `CreationPolicy` (a reference inside `UpdatePolicy` is a
 * dependency too, which aws-cdk's `alias.ts` works around). Conditions are nodes as well: a
 * resource's `Condition`, `Fn::If` and `{ "Condition": X }` inside a condition. A cycle is what cfn-lint reports as E3004 and what
 * makes CloudFormation refuse the template.
 *
 * @example
 * const cycles = findCycles(dependencyGraph(template));
 * // [['LiveAlias', 'DeploymentGroup', 'Alarm', 'Stage', 'LiveAlias']]
 */

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

export interface CfnTemplate {
  readonly Resources?: Record<string, Record<string, Json>>;
  readonly Conditions?: Record<string, Json>;
  readonly Parameters?: Record<string, Json>;
}

/** Node name → the names it depends on. Resources by logical ID; conditions as `Condition:<name>`. */
export type DependencyGraph = ReadonlyMap<string, ReadonlySet<string>>;

/** The parts of a resource whose references CloudFormation turns into dependencies. */
const RESOURCE_PARTS = ['Properties', 'UpdatePolicy', 'CreationPolicy'] as const;

const conditionNode = (name: string) => `Condition:${name}`;

/** `${X}`, `${X.Attr}`; `${!X}` is a literal. */
const SUB_REFERENCE = /\$\{(?!!)([^}]+)\}/g;

/** The logical names a value references (resources, parameters, pseudo parameters, conditions). */
export function referencesIn(value: Json): Set<string> {
  const found = new Set<string>();
  const visit = (node: Json, subVariables: ReadonlySet<string>): void => {
    if (Array.isArray(node)) {
      for (const item of node) visit(item, subVariables);
      return;
    }
    if (node === null || typeof node !== 'object') return;
    for (const [key, inner] of Object.entries(node)) {
      if (key === 'Ref' && typeof inner === 'string') {
        found.add(inner);
      } else if (key === 'Fn::GetAtt') {
        const target = Array.isArray(inner)
          ? inner[0]
          : typeof inner === 'string'
            ? inner.split('.')[0]
            : null;
        if (typeof target === 'string') found.add(target);
        if (Array.isArray(inner)) visit(inner.slice(1), subVariables);
      } else if (key === 'Fn::Sub') {
        const [text, variables] = Array.isArray(inner) ? [inner[0], inner[1]] : [inner, undefined];
        const defined = new Set(
          variables !== undefined &&
            variables !== null &&
            typeof variables === 'object' &&
            !Array.isArray(variables)
            ? Object.keys(variables)
            : [],
        );
        if (typeof text === 'string') {
          for (const match of text.matchAll(SUB_REFERENCE)) {
            const name = (match[1] ?? '').trim().split('.')[0] ?? '';
            if (!defined.has(name)) found.add(name);
          }
        }
        if (variables !== undefined) visit(variables, subVariables);
      } else if (key === 'Fn::If' && Array.isArray(inner)) {
        if (typeof inner[0] === 'string') found.add(conditionNode(inner[0]));
        visit(inner.slice(1), subVariables);
      } else if (key === 'Condition' && typeof inner === 'string') {
        found.add(conditionNode(inner));
      } else {
        visit(inner, subVariables);
      }
    }
  };
  visit(value, new Set());
  return found;
}

/** Every resource and condition with the resources and conditions it depends on (parameters are leaves). */
export function dependencyGraph(template: CfnTemplate): DependencyGraph {
  const resources = template.Resources ?? {};
  const conditions = template.Conditions ?? {};
  const nodes = new Set([...Object.keys(resources), ...Object.keys(conditions).map(conditionNode)]);
  const graph = new Map<string, Set<string>>();
  const keep = (names: Iterable<string>) => new Set([...names].filter((name) => nodes.has(name)));

  for (const [id, resource] of Object.entries(resources)) {
    const edges = new Set<string>();
    for (const part of RESOURCE_PARTS) {
      const value = resource[part];
      if (value !== undefined) for (const name of referencesIn(value)) edges.add(name);
    }
    const dependsOn = resource.DependsOn;
    for (const name of Array.isArray(dependsOn) ? dependsOn : [dependsOn]) {
      if (typeof name === 'string') edges.add(name);
    }
    if (typeof resource.Condition === 'string') edges.add(conditionNode(resource.Condition));
    graph.set(id, keep(edges));
  }
  for (const [name, body] of Object.entries(conditions)) {
    graph.set(conditionNode(name), keep(referencesIn(body)));
  }
  return graph;
}

/**
 * One cycle per strongly connected component that has one (Tarjan), each as a path that starts and
 * ends at the same node: `['A', 'B', 'C', 'A']`. Empty when the graph is acyclic.
 */
export function findCycles(graph: DependencyGraph): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const onStack = new Set<string>();
  const stack: string[] = [];
  const components: string[][] = [];
  let next = 0;

  const strongConnect = (node: string): void => {
    index.set(node, next);
    low.set(node, next);
    next += 1;
    stack.push(node);
    onStack.add(node);
    for (const target of graph.get(node) ?? []) {
      if (!index.has(target)) {
        strongConnect(target);
        low.set(node, Math.min(low.get(node) as number, low.get(target) as number));
      } else if (onStack.has(target)) {
        low.set(node, Math.min(low.get(node) as number, index.get(target) as number));
      }
    }
    if (low.get(node) === index.get(node)) {
      const component: string[] = [];
      let member: string | undefined;
      do {
        member = stack.pop() as string;
        onStack.delete(member);
        component.push(member);
      } while (member !== node);
      components.push(component);
    }
  };
  for (const node of [...graph.keys()].sort()) if (!index.has(node)) strongConnect(node);

  return components
    .filter(
      (component) => component.length > 1 || graph.get(component[0] as string)?.has(component[0] as string),
    )
    .map((component) => cycleWithin(graph, new Set(component)))
    .sort((a, b) => (a[0] as string).localeCompare(b[0] as string));
}

/** A shortest cycle through the component's first node (by name), found breadth-first inside it. */
function cycleWithin(graph: DependencyGraph, component: ReadonlySet<string>): string[] {
  const start = [...component].sort()[0] as string;
  const previous = new Map<string, string>();
  const queue = [start];
  while (queue.length > 0) {
    const node = queue.shift() as string;
    for (const target of [...(graph.get(node) ?? [])].sort()) {
      if (!component.has(target)) continue;
      if (target === start) {
        const path = [node];
        while (path[0] !== start) path.unshift(previous.get(path[0] as string) as string);
        return [...path, start];
      }
      if (!previous.has(target)) {
        previous.set(target, node);
        queue.push(target);
      }
    }
  }
  return [start, start];
}

/** `A -> B -> C -> A`, one line per cycle. */
export function describeCycles(cycles: readonly (readonly string[])[]): string {
  return cycles.map((cycle) => cycle.join(' -> ')).join('\n');
}
