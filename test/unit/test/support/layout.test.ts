/**
 * The test layout (test/README.md), enforced: every unit test file mirrors a source module that
 * exists, and no unit test reaches for what makes a suite slow or flaky (processes, CDK, dynalite,
 * the local stack).
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  mirroredModule,
  mirroredModuleCandidates,
  modulesWithoutUnitTest,
  unitTestFiles,
} from '../../../support/layout.ts';

const ROOT = fileURLToPath(new URL('../../../../', import.meta.url));

/** Imports that start processes, servers or stacks, or load the CDK: integration suites only. */
const NOT_IN_UNIT_TESTS = [
  /^(node:)?child_process$/,
  /^aws-cdk-lib(\/|$)/,
  /^aws-cdk$/,
  /^dynalite$/,
  /\/local\/start\.ts$/,
  /\/local\/dynamodb\.ts$/,
];

/**
 * The modules under functions/ that have no unit test file, each with where it is tested instead or
 * why it needs none. A new module without a unit test fails the guard below; one that gains a unit
 * test must leave this list.
 */
const WITHOUT_UNIT_TEST: Readonly<Record<string, string>> = {
  'functions/core/domain/budget-notes.ts': 'types only',
  'functions/core/ports.ts': 'types only',
  'functions/core/adapters/dynamodb-journal.ts':
    'adapter over DynamoDB: test/integration/functions/core/adapters/dynamodb-journal.test.ts, on dynalite',
  'functions/core/adapters/dynamodb-write-lock.ts':
    'adapter over DynamoDB: test/integration/functions/core/adapters/dynamodb-write-lock.test.ts, on dynalite',
  'functions/core/adapters/ssm-secret-store.ts':
    'adapter over SSM: test/integration/functions/core/adapters/ssm-secret-store.test.ts, on the local SSM endpoint',
  'functions/client-config/handler.ts':
    'the Lambda entry over the production wiring: run bundled in the local pool by the integration and concurrency suites',
  'functions/client-config/wiring.ts':
    'the production ports over SSM, DynamoDB and Affix: run by the integration and concurrency suites, and compared with the bench entry (test/bench)',
};

/** The module specifiers a file imports statically or dynamically. */
function specifiers(text: string): string[] {
  const statics = [...text.matchAll(/(?:^|\s)(?:import|export)\s[^;]*?from\s+'([^']+)'/g)];
  const bare = [...text.matchAll(/(?:^|\s)import\s+'([^']+)'/g)];
  const dynamics = [...text.matchAll(/\bimport\(\s*'([^']+)'\s*\)/g)];
  return [...statics, ...bare, ...dynamics].map((match) => match[1] as string);
}

describe('the mirror rule', () => {
  it('maps a unit test file to its module, and an aspect file to the same module', () => {
    expect(mirroredModuleCandidates('test/unit/functions/contract/urls.test.ts')).toEqual([
      'functions/contract/urls.ts',
      'functions/contract/urls.mjs',
    ]);
    expect(mirroredModuleCandidates('test/unit/functions/contract/urls.consumers.test.ts')).toEqual([
      'functions/contract/urls.consumers.ts',
      'functions/contract/urls.consumers.mjs',
      'functions/contract/urls.ts',
      'functions/contract/urls.mjs',
    ]);
    expect(mirroredModule(ROOT, 'test/unit/functions/contract/urls.consumers.test.ts')).toBe(
      'functions/contract/urls.ts',
    );
  });

  it('finds no module for a test of nothing, or for a file outside test/unit', () => {
    expect(mirroredModule(ROOT, 'test/unit/functions/contract/no-such-module.test.ts')).toBeUndefined();
    expect(mirroredModule(ROOT, 'test/unit/contract/urls.test.ts')).toBeUndefined();
    expect(mirroredModuleCandidates('test/integration/functions/contract/urls.test.ts')).toEqual([]);
    expect(mirroredModuleCandidates('test/unit/functions/contract/urls.ts')).toEqual([]);
  });

  it('lists a module without a unit test, and not one with', () => {
    const untested = modulesWithoutUnitTest(ROOT, 'functions/contract');
    expect(untested).not.toContain('functions/contract/urls.ts');
    expect(untested).not.toContain('functions/contract/problems.ts');
    expect(modulesWithoutUnitTest(ROOT, 'test/support')).not.toContain('test/support/layout.ts');
  });
});

describe('test/unit', () => {
  const files = unitTestFiles(ROOT);

  it('holds this file', () => {
    expect(files).toContain('test/unit/test/support/layout.test.ts');
  });

  it('mirrors the source tree: each test file names an existing module (test/README.md)', () => {
    const orphans = files.filter((file) => mirroredModule(ROOT, file) === undefined);
    expect(orphans, 'rename or move these to test/unit/<path of the module>.test.ts').toEqual([]);
  });

  it('covers every module under functions/, but for the listed ones (each with its reason)', () => {
    const untested = modulesWithoutUnitTest(ROOT, 'functions');
    expect(
      untested.filter((module) => WITHOUT_UNIT_TEST[module] === undefined),
      'write test/unit/<path of the module>.test.ts',
    ).toEqual([]);
    expect(
      Object.keys(WITHOUT_UNIT_TEST).filter((module) => !untested.includes(module)),
      'these have a unit test now (or are gone): take them off WITHOUT_UNIT_TEST',
    ).toEqual([]);
  });

  it('starts no process, server, stack or CDK app: those are integration suites', () => {
    const offending = files.flatMap((file) =>
      specifiers(readFileSync(`${ROOT}${file}`, 'utf8'))
        .filter((specifier) => NOT_IN_UNIT_TESTS.some((pattern) => pattern.test(specifier)))
        .map((specifier) => `${file}: ${specifier}`),
    );
    expect(offending).toEqual([]);
  });
});
