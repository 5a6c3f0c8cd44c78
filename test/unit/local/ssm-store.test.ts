/**
 * The local SSM parameter store alone (what the endpoint only speaks the protocol for): versions,
 * selectors, labels, paths, pages and AWS's error types, on an injected clock.
 */
import { describe, expect, it } from 'vitest';
import { createSsmStore, parseSelector, SsmError } from '../../../local/ssm-store.ts';

const T0 = Date.UTC(2026, 0, 15, 12, 0, 0);

function store(start = T0) {
  let at = start;
  const ssm = createSsmStore({ region: 'us-east-1', accountId: '000000000000', now: () => at });
  return { ssm, tick: (ms: number) => (at += ms) };
}

/** The AWS error type a call fails with. */
function errorType(call: () => unknown): string | undefined {
  try {
    call();
  } catch (error) {
    if (error instanceof SsmError) return error.type;
    throw error;
  }
  return undefined;
}

describe('parseSelector', () => {
  it('reads name, name:version and name:label', () => {
    expect(parseSelector('/a/b')).toEqual({ name: '/a/b' });
    expect(parseSelector('/a/b:3')).toEqual({ name: '/a/b', version: 3 });
    expect(parseSelector('/a/b:current')).toEqual({ name: '/a/b', label: 'current' });
    expect(parseSelector(':3')).toEqual({ name: ':3' });
  });
});

describe('put and get', () => {
  it('numbers versions from 1 and returns the latest, or the version or label asked for', () => {
    const { ssm, tick } = store();
    expect(ssm.put({ Name: '/p', Value: 'one', Type: 'String' })).toEqual({ Version: 1, Tier: 'Standard' });
    tick(1_500);
    expect(ssm.put({ Name: '/p', Value: 'two', Overwrite: true })).toEqual({ Version: 2, Tier: 'Standard' });
    expect(ssm.get('/p', false)).toEqual({
      Name: '/p',
      Type: 'String',
      Value: 'two',
      Version: 2,
      LastModifiedDate: (T0 + 1_500) / 1000,
      ARN: 'arn:aws:ssm:us-east-1:000000000000:parameter/p',
      DataType: 'text',
    });
    expect(ssm.get('/p:1', false)).toMatchObject({ Value: 'one', Version: 1, Selector: ':1' });
    ssm.label({ Name: '/p', ParameterVersion: 1, Labels: ['previous'] });
    expect(ssm.get('/p:previous', false)).toMatchObject({ Value: 'one', Selector: ':previous' });
  });

  it('refuses to overwrite without Overwrite, and keeps the type of an overwritten parameter', () => {
    const { ssm } = store();
    ssm.put({ Name: '/s', Value: 'secret', Type: 'SecureString' });
    expect(errorType(() => ssm.put({ Name: '/s', Value: 'again' }))).toBe('ParameterAlreadyExists');
    ssm.put({ Name: '/s', Value: 'again', Overwrite: true });
    expect(ssm.get('/s', true)).toMatchObject({ Type: 'SecureString', Value: 'again', Version: 2 });
  });

  it('hides a SecureString value without decryption behind ciphertext derived from name and version', () => {
    const { ssm } = store();
    ssm.put({ Name: '/s', Value: 'the-secret-value', Type: 'SecureString' });
    const hidden = ssm.get('/s', false).Value;
    expect(hidden).toMatch(/^AQICAH[A-Za-z0-9+/=]+$/);
    expect(hidden).not.toContain('the-secret-value');
    ssm.put({ Name: '/s', Value: 'other-value', Overwrite: true });
    expect(ssm.get('/s:1', false).Value).toBe(hidden);
    expect(ssm.get('/s', false).Value).not.toBe(hidden);
    expect(ssm.get('/s', true).Value).toBe('other-value');
  });

  it("answers AWS's error types for unknown names, versions, labels and invalid input", () => {
    const { ssm } = store();
    ssm.put({ Name: '/p', Value: 'v' });
    expect(errorType(() => ssm.get('/missing', false))).toBe('ParameterNotFound');
    expect(errorType(() => ssm.get('/p:9', false))).toBe('ParameterVersionNotFound');
    expect(errorType(() => ssm.get('/p:nolabel', false))).toBe('ParameterVersionNotFound');
    expect(errorType(() => ssm.put({ Name: 'bad name!', Value: 'v' }))).toBe('ValidationException');
    expect(errorType(() => ssm.put({ Name: '/q' }))).toBe('ValidationException');
    expect(errorType(() => ssm.put({ Name: '/q', Value: 'v', Type: 'Number' }))).toBe('ValidationException');
    expect(errorType(() => ssm.put({ Value: 'v' }))).toBe('ValidationException');
    expect(new SsmError('X', 'm').status).toBe(400);
  });

  it('keeps the last 100 versions only', () => {
    const { ssm } = store();
    for (let i = 1; i <= 101; i += 1) ssm.put({ Name: '/p', Value: `v${i}`, Overwrite: true });
    expect(errorType(() => ssm.get('/p:1', false))).toBe('ParameterVersionNotFound');
    expect(ssm.get('/p:2', false).Value).toBe('v2');
    expect(ssm.get('/p', false).Version).toBe(101);
  });
});

describe('getMany', () => {
  it('lists unknown names, versions and labels as invalid instead of failing', () => {
    const { ssm } = store();
    ssm.put({ Name: '/a', Value: '1' });
    ssm.put({ Name: '/b', Value: '2', Type: 'SecureString' });
    const answer = ssm.getMany(['/a', '/b', '/c', '/a:7'], true);
    expect(answer.Parameters.map((p) => [p.Name, p.Value])).toEqual([
      ['/a', '1'],
      ['/b', '2'],
    ]);
    expect(answer.InvalidParameters).toEqual(['/c', '/a:7']);
  });
});

describe('labels', () => {
  it('moves a label to the version it is attached to, and refuses invalid labels by listing them', () => {
    const { ssm } = store();
    ssm.put({ Name: '/p', Value: 'one' });
    ssm.put({ Name: '/p', Value: 'two', Overwrite: true });
    expect(ssm.label({ Name: '/p', ParameterVersion: 1, Labels: ['live'] })).toEqual({
      InvalidLabels: [],
      ParameterVersion: 1,
    });
    expect(ssm.label({ Name: '/p', Labels: ['live', 'aws-x', '123', 'ssm1', 'ok.label'] })).toEqual({
      InvalidLabels: ['aws-x', '123', 'ssm1'],
      ParameterVersion: 2,
    });
    expect(ssm.get('/p:live', false).Version).toBe(2);
    const history = ssm.history({ Name: '/p' }).Parameters.map((p) => [p.Version, p.Labels]);
    expect(history).toEqual([
      [1, []],
      [2, ['live', 'ok.label']],
    ]);
  });

  it('allows at most ten labels on a version, and needs an existing version and a label', () => {
    const { ssm } = store();
    ssm.put({ Name: '/p', Value: 'one' });
    ssm.label({ Name: '/p', Labels: Array.from({ length: 10 }, (_, i) => `l${i}`) });
    expect(errorType(() => ssm.label({ Name: '/p', Labels: ['eleventh'] }))).toBe(
      'ParameterVersionLabelLimitExceeded',
    );
    // Labels it already has do not count twice.
    expect(ssm.label({ Name: '/p', Labels: ['l0'] }).InvalidLabels).toEqual([]);
    expect(errorType(() => ssm.label({ Name: '/p', ParameterVersion: 5, Labels: ['x'] }))).toBe(
      'ParameterVersionNotFound',
    );
    expect(errorType(() => ssm.label({ Name: '/p', Labels: [] }))).toBe('ValidationException');
  });
});

describe('history, describe and byPath', () => {
  function seeded() {
    const { ssm } = store();
    ssm.put({ Name: '/app/a', Value: 'a', Type: 'String' });
    ssm.put({ Name: '/app/b', Value: 'b', Type: 'SecureString', KeyId: 'alias/own' });
    ssm.put({ Name: '/app/deep/c', Value: 'c', Type: 'StringList' });
    ssm.put({ Name: '/other', Value: 'o' });
    return ssm;
  }

  it('lists the direct children of a path, or all below it when recursive, sorted, decrypted on request', () => {
    const ssm = seeded();
    expect(ssm.byPath({ Path: '/app' }).Parameters.map((p) => p.Name)).toEqual(['/app/a', '/app/b']);
    expect(ssm.byPath({ Path: '/app/', Recursive: true }).Parameters.map((p) => p.Name)).toEqual([
      '/app/a',
      '/app/b',
      '/app/deep/c',
    ]);
    expect(ssm.byPath({ Path: '/app', WithDecryption: true }).Parameters[1]?.Value).toBe('b');
    expect(ssm.byPath({ Path: '/app' }).Parameters[1]?.Value).not.toBe('b');
    expect(
      ssm
        .byPath({
          Path: '/',
          Recursive: true,
          ParameterFilters: [{ Key: 'Type', Option: 'Equals', Values: ['SecureString'] }],
        })
        .Parameters.map((p) => p.Name),
    ).toEqual(['/app/b']);
    expect(errorType(() => ssm.byPath({ Path: 'app' }))).toBe('ValidationException');
  });

  it('pages with NextToken and refuses MaxResults beyond the operation limit', () => {
    const { ssm } = store();
    for (let i = 0; i < 12; i += 1) ssm.put({ Name: `/p/${String(i).padStart(2, '0')}`, Value: String(i) });
    const first = ssm.byPath({ Path: '/p' });
    expect(first.Parameters).toHaveLength(10);
    expect(first.NextToken).toBe('10');
    const second = ssm.byPath({ Path: '/p', NextToken: first.NextToken });
    expect(second.Parameters.map((p) => p.Name)).toEqual(['/p/10', '/p/11']);
    expect(second).not.toHaveProperty('NextToken');
    expect(errorType(() => ssm.byPath({ Path: '/p', MaxResults: 11 }))).toBe('ValidationException');
    expect(errorType(() => ssm.describe({ MaxResults: 51 }))).toBe('ValidationException');
    expect(errorType(() => ssm.describe({ NextToken: 'x' }))).toBe('ValidationException');
  });

  it('describes metadata without values, filtered by name, path, type and key id', () => {
    const ssm = seeded();
    const all = ssm.describe({}).Parameters;
    expect(all.map((p) => p.Name)).toEqual(['/app/a', '/app/b', '/app/deep/c', '/other']);
    expect(JSON.stringify(all)).not.toMatch(/"Value"/);
    expect(all[1]).toMatchObject({ Type: 'SecureString', KeyId: 'alias/own', Version: 1, Tier: 'Standard' });
    expect(all[0]).not.toHaveProperty('KeyId');
    const names = (body: Record<string, unknown>) => ssm.describe(body).Parameters.map((p) => p.Name);
    expect(names({ ParameterFilters: [{ Key: 'Name', Option: 'BeginsWith', Values: ['/app/d'] }] })).toEqual([
      '/app/deep/c',
    ]);
    expect(names({ ParameterFilters: [{ Key: 'Name', Values: ['other'] }] })).toEqual(['/other']);
    expect(
      names({ ParameterFilters: [{ Key: 'Path', Option: 'Recursive', Values: ['/app'] }] }),
    ).toHaveLength(3);
    expect(names({ ParameterFilters: [{ Key: 'KeyId', Values: ['alias/own'] }] })).toEqual(['/app/b']);
    expect(names({ Filters: [{ Key: 'Name', Values: ['/app/a'] }] })).toEqual(['/app/a']);
    expect(errorType(() => ssm.describe({ ParameterFilters: [{ Key: 'Tier', Values: ['Standard'] }] }))).toBe(
      'InvalidFilterKey',
    );
  });

  it('keeps a description and key id across overwrites that do not set them', () => {
    const { ssm } = store();
    ssm.put({ Name: '/s', Value: 'v', Type: 'SecureString', Description: 'the key', KeyId: 'alias/k' });
    ssm.put({ Name: '/s', Value: 'w', Overwrite: true });
    expect(ssm.history({ Name: '/s' }).Parameters.map((p) => [p.Version, p.Description, p.KeyId])).toEqual([
      [1, 'the key', 'alias/k'],
      [2, 'the key', 'alias/k'],
    ]);
  });
});

describe('delete and has', () => {
  it('removes every version, and fails for an unknown name', () => {
    const { ssm } = store();
    ssm.put({ Name: '/p', Value: 'v' });
    expect(ssm.has('/p')).toBe(true);
    ssm.delete('/p');
    expect(ssm.has('/p')).toBe(false);
    expect(errorType(() => ssm.get('/p', false))).toBe('ParameterNotFound');
    expect(errorType(() => ssm.delete('/p'))).toBe('ParameterNotFound');
  });
});
