/**
 * README.md's status table is what the catalogue generates (`npm run openapi` rewrites it), and the
 * generator puts every problem of the contract in it, in the README's layout.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { GATEWAY_PROBLEMS } from '../../functions/contract/gateway-responses.ts';
import { PROBLEM_SLUGS, PROBLEMS } from '../../functions/contract/problems.ts';
import {
  currentStatusTable,
  README_PATH,
  renderStatusTable,
  replaceStatusTable,
  STATUS_TABLE_END,
  STATUS_TABLE_START,
} from '../../scripts/status-table.ts';

const readme = readFileSync(README_PATH, 'utf8');

/** A Markdown row's cells, trimmed. */
const cells = (row: string) =>
  row
    .split('|')
    .slice(1, -1)
    .map((cell) => cell.trim());

describe("README's status table", () => {
  it('is what `npm run openapi` generates from the catalogue (run it after changing a problem)', () => {
    expect(currentStatusTable(readme), 'README.md status table is stale: run `npm run openapi`').toBe(
      renderStatusTable(),
    );
    expect(replaceStatusTable(readme)).toBe(readme);
  });

  it('has one row per function problem and per API Gateway answer, with its status and when text', () => {
    const rows = renderStatusTable().split('\n').slice(2).map(cells);
    expect(rows[0]).toEqual(['success', '200', '-']);
    const bySlug = new Map(rows.slice(1).map((row) => [row[2], row]));
    expect(bySlug.size).toBe(PROBLEM_SLUGS.length + GATEWAY_PROBLEMS.length);
    for (const slug of PROBLEM_SLUGS) {
      expect(bySlug.get(`\`${slug}\``)).toEqual([
        PROBLEMS[slug].when,
        String(PROBLEMS[slug].status),
        `\`${slug}\``,
      ]);
    }
    for (const problem of GATEWAY_PROBLEMS) {
      expect(bySlug.get(`\`${problem.slug}\``)).toEqual([
        `${problem.when} (answered by API Gateway)`,
        problem.status === undefined ? 'its own' : String(problem.status),
        `\`${problem.slug}\``,
      ]);
    }
  });

  it('pads every column to one width, so each line of the table has the same length', () => {
    const lengths = new Set(
      renderStatusTable()
        .split('\n')
        .map((line) => [...line].length),
    );
    expect(lengths.size).toBe(1);
  });

  it('catches a hand edit: a changed cell makes the README differ from the generated table', () => {
    const edited = readme.replace('| `precondition-failed`', '| `precondition-faile`');
    expect(edited).not.toBe(readme);
    expect(currentStatusTable(edited)).not.toBe(renderStatusTable());
  });

  it('refuses to rewrite a README without its markers', () => {
    expect(() => replaceStatusTable(readme.replace(STATUS_TABLE_START, ''))).toThrow(/markers/);
    expect(() => replaceStatusTable(readme.replace(STATUS_TABLE_END, ''))).toThrow(/markers/);
  });
});
