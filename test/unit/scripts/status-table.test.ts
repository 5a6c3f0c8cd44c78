/**
 * The status tables alone (not the file writes): rows from the contract, columns padded in code
 * points, the summary in status order, and replacement between the markers only. Whether README.md and
 * docs/api.md are current is test/repo/readme-status-table.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { GATEWAY_PROBLEMS } from '../../../functions/contract/gateway-responses.ts';
import { PROBLEM_SLUGS, PROBLEMS } from '../../../functions/contract/problems.ts';
import {
  currentStatusSummary,
  currentStatusTable,
  renderStatusSummary,
  renderStatusTable,
  replaceStatusSummary,
  replaceStatusTable,
  STATUS_SUMMARY_END,
  STATUS_SUMMARY_START,
  STATUS_TABLE_END,
  STATUS_TABLE_START,
  statusSummaryRows,
  statusTableRows,
} from '../../../scripts/status-table.ts';

const codePoints = (text: string) => [...text].length;

describe('statusTableRows', () => {
  it('is success, then every problem of the function, then every answer of API Gateway', () => {
    const rows = statusTableRows();
    expect(rows[0]).toEqual(['success', '200', '-']);
    expect(rows.slice(1, 1 + PROBLEM_SLUGS.length)).toEqual(
      PROBLEM_SLUGS.map((slug) => [PROBLEMS[slug].when, String(PROBLEMS[slug].status), `\`${slug}\``]),
    );
    const gateway = rows.slice(1 + PROBLEM_SLUGS.length);
    expect(gateway.map((row) => row[2])).toEqual(GATEWAY_PROBLEMS.map((problem) => `\`${problem.slug}\``));
    for (const row of gateway) expect(row[0]).toMatch(/ \(answered by API Gateway\)$/);
    // DEFAULT_4XX/5XX have no fixed status.
    expect(gateway.filter((row) => row[1] === 'its own')).toHaveLength(
      GATEWAY_PROBLEMS.filter((problem) => problem.status === undefined).length,
    );
  });
});

describe('renderStatusTable', () => {
  it('is a Markdown table whose columns line up in code points', () => {
    const lines = renderStatusTable().split('\n');
    expect(lines[0]).toMatch(/^\| condition +\| status +\| type slug +\|$/);
    expect(lines[1]).toMatch(/^\| -+ \| -+ \| -+ \|$/);
    expect(lines).toHaveLength(statusTableRows().length + 2);
    const widths = new Set(lines.map(codePoints));
    expect(widths.size).toBe(1);
    const pipes = lines.map((line) =>
      [...line].flatMap((char, index) => (char === '|' ? [index] : [])).join(','),
    );
    expect(new Set(pipes).size).toBe(1);
  });
});

describe('statusSummaryRows', () => {
  it("gives one row per status in ascending order, API Gateway's variable status last", () => {
    const rows = statusSummaryRows();
    const statuses = rows.map((row) => row[0]);
    expect(statuses.at(-1)).toBe('its own');
    const numbers = statuses.slice(0, -1).map(Number);
    expect(numbers).toEqual([...numbers].sort((a, b) => a - b));
    expect(new Set(statuses).size).toBe(statuses.length);
  });

  it("puts each slug under its status, the function's and API Gateway's apart, '-' for none", () => {
    const rows = new Map(statusSummaryRows().map((row) => [row[0], row]));
    for (const slug of PROBLEM_SLUGS) {
      expect(rows.get(String(PROBLEMS[slug].status))?.[1]).toContain(`\`${slug}\``);
    }
    for (const problem of GATEWAY_PROBLEMS) {
      expect(rows.get(problem.status === undefined ? 'its own' : String(problem.status))?.[2]).toContain(
        `\`${problem.slug}\``,
      );
    }
    expect(rows.get('its own')?.[1]).toBe('-');
    expect(renderStatusSummary().split('\n')[0]).toMatch(/^\| status +\| the function +\| API Gateway +\|$/);
  });
});

describe('replacing between the markers', () => {
  const doc = (start: string, end: string) => `# Title\n\nintro\n\n${start}\nstale\n${end}\n\nafter\n`;

  it('replaces only what lies between the markers, and reads it back', () => {
    const replaced = replaceStatusTable(doc(STATUS_TABLE_START, STATUS_TABLE_END));
    expect(replaced).toBe(
      `# Title\n\nintro\n\n${STATUS_TABLE_START}\n\n${renderStatusTable()}\n\n${STATUS_TABLE_END}\n\nafter\n`,
    );
    expect(currentStatusTable(replaced)).toBe(renderStatusTable());
    expect(replaceStatusTable(replaced)).toBe(replaced);

    const summary = replaceStatusSummary(doc(STATUS_SUMMARY_START, STATUS_SUMMARY_END));
    expect(currentStatusSummary(summary)).toBe(renderStatusSummary());
    expect(summary.endsWith(`${STATUS_SUMMARY_END}\n\nafter\n`)).toBe(true);
  });

  it('refuses a document without both markers in order, and reads nothing from it', () => {
    expect(() => replaceStatusTable('no markers')).toThrow(/no markers/);
    expect(() => replaceStatusTable(doc(STATUS_TABLE_END, STATUS_TABLE_START))).toThrow(/no markers/);
    expect(() => replaceStatusSummary(doc(STATUS_TABLE_START, STATUS_TABLE_END))).toThrow(/no markers/);
    expect(currentStatusTable('no markers')).toBeUndefined();
    expect(currentStatusSummary(doc(STATUS_SUMMARY_END, STATUS_SUMMARY_START))).toBeUndefined();
  });
});
