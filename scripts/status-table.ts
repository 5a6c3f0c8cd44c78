/**
 * The README's status table, generated from the contract: the function's problems
 * (`functions/contract/problems.ts`) and API Gateway's own answers (`gateway-responses.ts`).
 * `npm run openapi` rewrites it between the marker comments in README.md;
 * `test/contract/readme-status-table.test.ts` fails when README.md's table is not what this renders.
 *
 * @example
 * writeFileSync(README_PATH, replaceStatusTable(readFileSync(README_PATH, 'utf8')));
 */
import { fileURLToPath } from 'node:url';
import { GATEWAY_PROBLEMS } from '../functions/contract/gateway-responses.ts';
import { PROBLEM_SLUGS, PROBLEMS } from '../functions/contract/problems.ts';

export const README_PATH = fileURLToPath(new URL('../README.md', import.meta.url));

export const STATUS_TABLE_START = '<!-- status-table:start -->';
export const STATUS_TABLE_END = '<!-- status-table:end -->';

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

/** The Markdown table, columns padded to their widest cell (as the rest of the README is formatted). */
export function renderStatusTable(): string {
  const rows = [[...HEADER], ...statusTableRows()];
  for (const cell of rows.flat()) {
    if (cell.includes('|')) throw new Error(`a status table cell may not contain "|": ${cell}`);
  }
  // Code points, not UTF-16 units, so a padded column lines up.
  const width = (text: string) => [...text].length;
  const widths = HEADER.map((_, column) => Math.max(...rows.map((row) => width(row[column] ?? ''))));
  const line = (cells: readonly string[]) =>
    `| ${cells.map((cell, column) => cell + ' '.repeat((widths[column] ?? 0) - width(cell))).join(' | ')} |`;
  const [header, ...body] = rows;
  return [line(header ?? []), `| ${widths.map((w) => '-'.repeat(w)).join(' | ')} |`, ...body.map(line)].join(
    '\n',
  );
}

/** README text with the table between the markers replaced by the generated one. */
export function replaceStatusTable(readme: string): string {
  const start = readme.indexOf(STATUS_TABLE_START);
  const end = readme.indexOf(STATUS_TABLE_END);
  if (start === -1 || end === -1 || end < start) {
    throw new Error('README.md has no status-table markers (status-table:start ... status-table:end)');
  }
  return `${readme.slice(0, start)}${STATUS_TABLE_START}\n\n${renderStatusTable()}\n\n${readme.slice(end)}`;
}

/** The table currently between README's markers (for the staleness test's message). */
export function currentStatusTable(readme: string): string | undefined {
  const start = readme.indexOf(STATUS_TABLE_START);
  const end = readme.indexOf(STATUS_TABLE_END);
  if (start === -1 || end === -1 || end < start) return undefined;
  return readme.slice(start + STATUS_TABLE_START.length, end).trim();
}
