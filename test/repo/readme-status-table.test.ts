/**
 * docs/api.md's status table and README.md's summary of it are what the catalogue generates (`npm run
 * openapi` rewrites both), and the generator puts every problem of the contract in them.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { GATEWAY_PROBLEMS } from '../../functions/contract/gateway-responses.ts';
import { PROBLEM_SLUGS, PROBLEMS } from '../../functions/contract/problems.ts';
import {
  currentStatusSummary,
  currentStatusTable,
  README_PATH,
  renderStatusSummary,
  renderStatusTable,
  replaceStatusSummary,
  replaceStatusTable,
  STATUS_SUMMARY_END,
  STATUS_TABLE_END,
  STATUS_TABLE_PATH,
  STATUS_TABLE_START,
} from '../../scripts/status-table.ts';

const readme = readFileSync(STATUS_TABLE_PATH, 'utf8');
const frontPage = readFileSync(README_PATH, 'utf8');

/** A Markdown row's cells, trimmed. */
const cells = (row: string) =>
  row
    .split('|')
    .slice(1, -1)
    .map((cell) => cell.trim());

describe("docs/api.md's status table", () => {
  it('is what `npm run openapi` generates from the catalogue (run it after changing a problem)', () => {
    expect(currentStatusTable(readme), 'docs/api.md status table is stale: run `npm run openapi`').toBe(
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

  it('refuses to rewrite a document without its markers', () => {
    expect(() => replaceStatusTable(readme.replace(STATUS_TABLE_START, ''))).toThrow(/markers/);
    expect(() => replaceStatusTable(readme.replace(STATUS_TABLE_END, ''))).toThrow(/markers/);
    expect(() => replaceStatusSummary(frontPage.replace(STATUS_SUMMARY_END, ''))).toThrow(/markers/);
  });
});

describe("README.md's status summary", () => {
  it('is what `npm run openapi` generates (run it after changing a problem)', () => {
    expect(currentStatusSummary(frontPage), 'README.md status summary is stale: run `npm run openapi`').toBe(
      renderStatusSummary(),
    );
    expect(replaceStatusSummary(frontPage)).toBe(frontPage);
  });

  it('names every slug once, under its status, the function and API Gateway apart', () => {
    const rows = renderStatusSummary().split('\n').slice(2).map(cells);
    const slugsIn = (cell: string | undefined) =>
      (cell ?? '')
        .split(', ')
        .filter((slug) => slug !== '-')
        .map((slug) => slug.replaceAll('`', ''));
    const functionSlugs = rows.flatMap((row) => slugsIn(row[1]));
    const gatewaySlugs = rows.flatMap((row) => slugsIn(row[2]));
    expect(functionSlugs.sort()).toEqual([...PROBLEM_SLUGS].sort());
    expect(gatewaySlugs.sort()).toEqual(GATEWAY_PROBLEMS.map((problem) => problem.slug).sort());
    for (const row of rows) {
      for (const slug of slugsIn(row[1]))
        expect(row[0]).toBe(String(PROBLEMS[slug as keyof typeof PROBLEMS].status));
    }
    expect(rows.map((row) => row[0])).toEqual([...new Set(rows.map((row) => row[0]))]);
    expect(rows.at(-1)?.[0]).toBe('its own');
  });
});
