/**
 * The bench-only entry without the write lock must be the real entry with only the lock taken out:
 * otherwise "with the lease minus without it" would also measure whatever else differs. Both take
 * their ports from the one production wiring (`wiring.ts`); the entries themselves must say the same
 * but for the lock they hand it.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { importedModules, wiringStatements } from '../../bench/lib/wiring.ts';
import { createProductionPorts, type WiringConfig } from '../../functions/client-config/wiring.ts';
import type { WriteLock } from '../../functions/core/ports.ts';

const read = (path: string) => readFileSync(new URL(`../../${path}`, import.meta.url), 'utf8');
const real = read('functions/client-config/handler.ts');
const withoutLock = read('bench/fixtures/no-lock-handler.ts');

const LOCK_OVERRIDE = 'createProductionPorts(config, { writeLock })';

/** The bench entry's statements, its lock declaration dropped and its lock override taken back out. */
function benchAsReal(source: string): string[] {
  return wiringStatements(source, ['writeLock']).map((statement) =>
    statement.replace(LOCK_OVERRIDE, 'createProductionPorts(config)'),
  );
}

describe('the entry without the write lock', () => {
  it('has every statement of the real entry, the lock aside', () => {
    expect(benchAsReal(withoutLock)).toEqual(wiringStatements(real, []));
  });

  it('hands the production wiring a lock that runs the work at once, and nothing else', () => {
    const statements = wiringStatements(withoutLock, []);
    const lock = statements.filter((statement) => statement.includes('writeLock'));
    expect(lock).toEqual([
      'const writeLock: WriteLock = { runExclusive: (_call, work) => work() };',
      `const { ports, reads, journal } = ${LOCK_OVERRIDE};`,
    ]);
  });

  it('imports what the real entry imports, and the port type of the lock', () => {
    expect(importedModules(withoutLock)).toEqual([...importedModules(real), 'ports.ts'].sort());
  });

  it('builds no AWS client itself: both entries take them from wiring.ts', () => {
    for (const source of [real, withoutLock]) {
      expect(importedModules(source)).toContain('wiring.ts');
      expect(importedModules(source).filter((module) => module.startsWith('@aws-sdk/'))).toEqual([]);
    }
  });

  it('notices a change to either entry', () => {
    const changedReal = real.replace('createProductionPorts(config)', 'createProductionPorts({ ...config })');
    expect(changedReal).not.toBe(real);
    expect(benchAsReal(withoutLock)).not.toEqual(wiringStatements(changedReal, []));
    const changedBench = withoutLock.replace(
      'const { ports, reads, journal }',
      'const extra = 1;\nconst { ports, reads, journal }',
    );
    expect(benchAsReal(changedBench)).not.toEqual(wiringStatements(real, []));
  });
});

describe('createProductionPorts', () => {
  const config: WiringConfig = {
    affixBaseUrl: 'http://127.0.0.1:9',
    clientIdParameter: '/affix/test/client-id',
    clientSecretParameter: '/affix/test/client-secret',
    etagKeyParameter: '/affix/test/etag-key',
    credentialsMaxAgeMs: 60_000,
    upstreamAttemptTimeoutMs: 1_000,
    upstreamMaxAttempts: 2,
    stateTableName: 'state',
    writeLockLeaseMs: 30_000,
  };

  it('uses the lock it is given, and the lease lock otherwise', () => {
    const noLock: WriteLock = { runExclusive: (_call, work) => work() };
    const given = createProductionPorts(config, { writeLock: noLock });
    expect(given.ports.writeLock).toBe(noLock);
    const leased = createProductionPorts(config);
    expect(leased.ports.writeLock).not.toBe(noLock);
    expect(Object.keys(leased.ports).sort()).toEqual([
      'affix',
      'credentials',
      'recordedSecrets',
      'writeLock',
    ]);
    expect(Object.keys(given.ports).sort()).toEqual(Object.keys(leased.ports).sort());
  });
});

describe('wiringStatements', () => {
  it('leaves out comments and layout, keeps types, string text and every token of code', () => {
    const source = [
      "import type { WriteLock } from './ports.ts';",
      '// a comment',
      'const lock: WriteLock = {',
      '  runExclusive: (_call, work) => /* now */ work(),',
      '};',
      "export const handler = create(lock, 'two  spaces /* kept */',);",
    ].join('\n');
    expect(wiringStatements(source, [])).toEqual([
      'const lock: WriteLock = { runExclusive: (_call, work) => work() };',
      "export const handler = create(lock, 'two  spaces /* kept */');",
    ]);
    expect(wiringStatements(source, ['lock'])).toEqual([
      "export const handler = create(lock, 'two  spaces /* kept */');",
    ]);
    expect(wiringStatements(source, ['handler'])).toEqual([
      'const lock: WriteLock = { runExclusive: (_call, work) => work() };',
    ]);
    expect(wiringStatements(source.replace('work()', 'work(1)'), [])).not.toEqual(
      wiringStatements(source, []),
    );
    expect(wiringStatements(source.replace('two  spaces', 'two spaces'), [])).not.toEqual(
      wiringStatements(source, []),
    );
  });

  it('refuses a file that does not parse', () => {
    expect(() => wiringStatements('const = ;', [])).toThrow(/does not parse/);
  });
});
