/**
 * Every alarm a stack creates has a runbook section in infra/README.md (`### <alarm id>`, with its
 * meaning, first checks and fix), and every runbook section belongs to an alarm that exists.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../infra/service.ts';
import { buildStack } from './fixtures.ts';

const README = readFileSync(join(REPO_ROOT, 'infra', 'README.md'), 'utf8');

/** The `### ` sections of the `## Runbooks` chapter, by heading. */
function runbookSections(markdown: string): Map<string, string> {
  const chapter = markdown.split(/^## /m).find((part) => part.startsWith('Runbooks\n')) ?? '';
  const sections = new Map<string, string>();
  for (const part of chapter.split(/^### /m).slice(1)) {
    const [heading = '', ...body] = part.split('\n');
    sections.set(heading.trim(), body.join('\n'));
  }
  return sections;
}

// Both fixture stages: together they create every alarm the stack knows.
const alarmIds = [
  ...new Set(['basic', 'canary'].flatMap((stage) => Object.keys(buildStack({ stage }).stack.alarms))),
].sort();
const sections = runbookSections(README);

describe('runbooks in infra/README.md', () => {
  it('finds the alarms and the sections (a broken parser must not pass)', () => {
    expect(alarmIds.length).toBeGreaterThanOrEqual(9);
    expect(sections.size).toBeGreaterThanOrEqual(9);
  });

  it.each(alarmIds)('has a section for the alarm %s, with meaning, first checks and fix', (id) => {
    const body = sections.get(id);
    expect(body, `no "### ${id}" under "## Runbooks"`).toBeDefined();
    for (const part of ['**Meaning**', '**First checks**', '**Fix**']) {
      expect(body, `${id}: ${part}`).toContain(part);
    }
  });

  it('has no section for an alarm the stack does not create', () => {
    expect([...sections.keys()].sort()).toEqual(alarmIds);
  });

  it('has the rollback, adding a caller, emergency lock-down and cost chapters', () => {
    for (const chapter of ['Rollback', 'Adding a caller', 'Emergency lock-down', 'Cost per stage']) {
      expect(README).toMatch(new RegExp(`^## ${chapter}`, 'm'));
    }
  });
});
