/**
 * The bench-only entry without the write lock must be the real entry's wiring with only the lock
 * taken out: otherwise "with the lease minus without it" would also measure whatever else differs.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { importedModules, wiringStatements } from '../../bench/lib/wiring.ts';

const read = (path: string) => readFileSync(new URL(`../../${path}`, import.meta.url), 'utf8');
const real = read('functions/client-config/handler.ts');
const withoutLock = read('bench/fixtures/no-lock-handler.ts');

describe('the entry without the write lock', () => {
  // The DynamoDB client stays: the rate-budget items (budget.ts) use it in both entries.
  it('has every statement of the real entry but the lock', () => {
    expect(wiringStatements(withoutLock, ['writeLock'])).toEqual(wiringStatements(real, ['writeLock']));
  });

  it('replaces the lock with one that runs the work at once', () => {
    const lock = wiringStatements(withoutLock, []).filter((statement) => statement.includes('writeLock'));
    expect(lock[0]).toBe('const writeLock: WriteLock = { runExclusive: (_call, work) => work() };');
  });

  it('imports what the real entry imports, less the lock adapter', () => {
    const expected = importedModules(real)
      .filter((module) => module !== 'dynamodb-write-lock.ts')
      .concat('write-lock.ts')
      .sort();
    expect(importedModules(withoutLock)).toEqual(expected);
  });

  it('notices a change to the real wiring', () => {
    const changed = real.replace('maxAttempts: 3', 'maxAttempts: 4');
    expect(changed).not.toBe(real);
    expect(wiringStatements(withoutLock, ['writeLock'])).not.toEqual(
      wiringStatements(changed, ['writeLock']),
    );
  });
});
