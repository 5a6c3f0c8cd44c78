/**
 * The status tables, generated from the contract: the function's problems
 * (`functions/contract/problems.ts`) and API Gateway's own answers (`gateway-responses.ts`). The full
 * table (condition, status, slug) goes into docs/api.md, a summary (slugs by status) into README.md,
 * each between its marker comments; `npm run openapi` rewrites both and
 * `test/contract/readme-status-table.test.ts` fails when either is not what this renders.
 *
 * @example
 * writeStatusTables();
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { GATEWAY_PROBLEMS } from '../functions/contract/gateway-responses.ts';
import { PROBLEM_SLUGS, PROBLEMS } from '../functions/contract/problems.ts';

export const README_PATH = fileURLToPath(new URL('../README.md', import.meta.url));
/** The document holding the full table: the API reference. */
export const STATUS_TABLE_PATH = fileURLToPath(new URL('../docs/api.md', import.meta.url));

export const STATUS_TABLE_START = '<!-- status-table:start -->';
export const STATUS_TABLE_END = '<!-- status-table:end -->';
export const STATUS_SUMMARY_START = '<!-- status-summary:start -->';
export const STATUS_SUMMARY_END = '<!-- status-summary:end -->';

const HEADER = ['condition', 'status', 'type slug'] as const;

/** The table's rows as cells: success, the function's problems, then API Gateway's answers. */
export function statusTableRows(): string[][] {
  return [
    ['success', '200', '-'],
    ...PROBLEM_SLUGS.map((slug) => [PROBLEMS[slug].when, String(PROBLEMS[slug].status), `\`${slug}\``]),
    ...GATEWAY_PROBLEMS.map((problem) => [
      `${problem.when} (answered by API Gateway)`,
      problem.status === undefined ? 'its own' : String(problem.status),
      `\`${problem.slug}\``,
    ]),
  ];
}

/** The Markdown table, columns padded to their widest cell (as the rest of the docs are formatted). */
export function renderStatusTable(): string {
  return renderTable(HEADER, statusTableRows());
}

/**
 * README's summary: one row per status, the function's slugs and API Gateway's apart, in status order
 * (API Gateway's two catch-alls, whose status varies, last).
 */
export function statusSummaryRows(): string[][] {
  const byStatus = new Map<string, { function: string[]; gateway: string[] }>();
  const entry = (status: string) => {
    let found = byStatus.get(status);
    if (found === undefined) {
      found = { function: [], gateway: [] };
      byStatus.set(status, found);
    }
    return found;
  };
  for (const slug of PROBLEM_SLUGS) entry(String(PROBLEMS[slug].status)).function.push(`\`${slug}\``);
  for (const problem of GATEWAY_PROBLEMS) {
    entry(problem.status === undefined ? 'its own' : String(problem.status)).gateway.push(
      `\`${problem.slug}\``,
    );
  }
  const order = (status: string) => (status === 'its own' ? Number.POSITIVE_INFINITY : Number(status));
  return [...byStatus.entries()]
    .sort(([a], [b]) => order(a) - order(b))
    .map(([status, slugs]) => [status, slugs.function.join(', ') || '-', slugs.gateway.join(', ') || '-']);
}

export function renderStatusSummary(): string {
  return renderTable(['status', 'the function', 'API Gateway'], statusSummaryRows());
}

function renderTable(header: readonly string[], body: readonly string[][]): string {
  const rows = [[...header], ...body];
  for (const cell of rows.flat()) {
    if (cell.includes('|')) throw new Error(`a status table cell may not contain "|": ${cell}`);
  }
  // Code points, not UTF-16 units, so a padded column lines up.
  const width = (text: string) => [...text].length;
  const widths = header.map((_, column) => Math.max(...rows.map((row) => width(row[column] ?? ''))));
  const line = (cells: readonly string[]) =>
    `| ${cells.map((cell, column) => cell + ' '.repeat((widths[column] ?? 0) - width(cell))).join(' | ')} |`;
  return [
    line(header),
    `| ${widths.map((w) => '-'.repeat(w)).join(' | ')} |`,
    ...rows.slice(1).map(line),
  ].join('\n');
}

function replaceBetween(text: string, startMarker: string, endMarker: string, table: string): string {
  const start = text.indexOf(startMarker);
  const end = text.indexOf(endMarker);
  if (start === -1 || end === -1 || end < start) {
    throw new Error(`no markers ${startMarker} ... ${endMarker} to write the table between`);
  }
  return `${text.slice(0, start)}${startMarker}\n\n${table}\n\n${text.slice(end)}`;
}

function between(text: string, startMarker: string, endMarker: string): string | undefined {
  const start = text.indexOf(startMarker);
  const end = text.indexOf(endMarker);
  if (start === -1 || end === -1 || end < start) return undefined;
  return text.slice(start + startMarker.length, end).trim();
}

/** docs/api.md's text with the full table between its markers replaced by the generated one. */
export function replaceStatusTable(doc: string): string {
  return replaceBetween(doc, STATUS_TABLE_START, STATUS_TABLE_END, renderStatusTable());
}

/** The full table currently between the markers (for the staleness test's message). */
export function currentStatusTable(doc: string): string | undefined {
  return between(doc, STATUS_TABLE_START, STATUS_TABLE_END);
}

/** README's text with the summary between its markers replaced by the generated one. */
export function replaceStatusSummary(readme: string): string {
  return replaceBetween(readme, STATUS_SUMMARY_START, STATUS_SUMMARY_END, renderStatusSummary());
}

export function currentStatusSummary(readme: string): string | undefined {
  return between(readme, STATUS_SUMMARY_START, STATUS_SUMMARY_END);
}

/** What `npm run openapi` does for the tables: rewrites docs/api.md's and README.md's. */
export function writeStatusTables(): void {
  writeFileSync(STATUS_TABLE_PATH, replaceStatusTable(readFileSync(STATUS_TABLE_PATH, 'utf8')));
  writeFileSync(README_PATH, replaceStatusSummary(readFileSync(README_PATH, 'utf8')));
}
