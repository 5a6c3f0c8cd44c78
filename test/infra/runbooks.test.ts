/**
 * Every alarm a stack creates has a runbook section in infra/README.md (`### <alarm id>`, with its
 * meaning, first checks and fix), and every runbook section belongs to an alarm that exists.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
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

/** The `## <name>` chapter of the README. */
function chapter(markdown: string, name: string): string {
  return markdown.split(/^## /m).find((part) => part.startsWith(`${name}\n`)) ?? '';
}

/** `aws lambda <command> ...` lines of a text, as their `--option value` pairs. */
function lambdaCommands(text: string): Array<{ command: string; options: Record<string, string> }> {
  return [...text.matchAll(/aws lambda ([a-z-]+)((?: --[a-z-]+ (?:'[^']*'|"[^"]*"|\S+))*)/g)].map(
    (match) => ({
      command: match[1] as string,
      options: Object.fromEntries(
        [...(match[2] ?? '').matchAll(/--([a-z-]+) ('[^']*'|"[^"]*"|\S+)/g)].map((option) => [
          option[1] as string,
          (option[2] as string).replace(/^['"]|['"]$/g, ''),
        ]),
      ),
    }),
  );
}

describe('the rollback runbook, run against the synthesized template', () => {
  const { stack, template } = buildStack({ stage: 'canary' });
  const resources = template.toJSON().Resources as Record<
    string,
    {
      Type: string;
      Properties: Record<string, unknown>;
      DeletionPolicy?: string;
      UpdateReplacePolicy?: string;
    }
  >;
  const rollback = chapter(README, 'Rollback');
  const commands = lambdaCommands(rollback);

  /**
   * What a second deploy leaves behind: CloudFormation publishes a new version (a new logical ID) and
   * a new version policy; the old resources leave the template and survive only if retained.
   */
  function afterSecondDeploy() {
    const survives = (id: string) => {
      const resource = resources[id];
      return resource?.DeletionPolicy === 'Retain' && resource.UpdateReplacePolicy === 'Retain';
    };
    const versionId = stack.resolve(stack.live.alias.version.functionArn).Ref as string;
    const policyId = stack.resolve(stack.versionPolicy.logicalId) as string;
    return {
      versions: survives(versionId) ? ['1', '2'] : ['2'],
      guarded: survives(policyId) ? ['1', '2'] : ['2'],
      live: '2',
    };
  }

  it('finds the commands (a broken parser must not pass)', () => {
    expect(commands.map((c) => c.command)).toEqual(
      expect.arrayContaining(['list-versions-by-function', 'get-alias', 'update-alias', 'delete-function']),
    );
  });

  it('points live back at the previous version, which still exists and is still guarded', () => {
    const state = afterSecondDeploy();
    const update = commands.find((c) => c.command === 'update-alias');
    // The alias the runbook names is the stack's.
    expect(update?.options.name).toBe(stack.live.alias.aliasName);
    const aliasResource = resources[stack.resolve(stack.live.alias.functionArn).Ref as string];
    expect(aliasResource?.Properties.Name).toBe(update?.options.name);
    // `<previous>`: the version before live, from list-versions-by-function.
    const previous = state.versions.filter((v) => Number(v) < Number(state.live)).at(-1);
    expect(previous, 'no previous version to roll back to').toBe('1');
    expect(state.guarded).toContain(previous);
  });

  it('names the function by the stack output FunctionName', () => {
    const outputs = template.toJSON().Outputs as Record<string, unknown>;
    expect(Object.keys(outputs)).toContain('FunctionName');
    for (const command of commands)
      expect(command.options['function-name'], command.command).toMatch(/FunctionName|\$FN/);
  });

  it("tails the function's own log group, which the function's LoggingConfig names", () => {
    expect(README).not.toContain('/aws/lambda/<FunctionName>');
    expect(README).toContain('--query LoggingConfig.LogGroup');
    const fn = resources[stack.resolve(stack.clientConfig.function.functionName).Ref as string];
    expect(fn?.Properties.LoggingConfig).toEqual({
      LogGroup: stack.resolve(stack.clientConfig.logGroup.logGroupName),
    });
  });
});

/**
 * An `aws` that answers the two reads as the CLI would (`--output text`: one line per page of the
 * list, tab-separated) and records each delete. `$LATEST` is listed unless the query leaves it out.
 */
const RECORDING_AWS = `#!/usr/bin/env bash
case "$2" in
  get-alias) printf '%s\\n' "$STUB_LIVE" ;;
  list-versions-by-function)
    case "$*" in
      *'Versions[?Version!=\`$LATEST\`].Version'*) printf '%s\\n' "$STUB_PAGES" ;;
      *) printf '%s\\t%s\\n' '$LATEST' "$STUB_PAGES" ;;
    esac ;;
  delete-function) printf '%s\\n' "$*" >> "$STUB_LOG" ;;
  *) echo "unexpected: $*" >&2; exit 2 ;;
esac
`;

describe('the pruning runbook, run with a recording aws', () => {
  const script = /\*\*Pruning\.\*\*[\s\S]*?```sh\n([\s\S]*?)```/.exec(chapter(README, 'Rollback'))?.[1];
  const bin = mkdtempSync(join(tmpdir(), 'pruning-'));
  afterAll(() => rmSync(bin, { recursive: true, force: true }));
  writeFileSync(join(bin, 'aws'), RECORDING_AWS);
  chmodSync(join(bin, 'aws'), 0o755);

  /** The runbook's deletes, for versions listed in `pages` and `live` where the alias points. */
  function prune(pages: string[][], live: string): string[] {
    const log = join(bin, `deletes-${pages.flat().join('-')}-${live}.log`);
    writeFileSync(log, '');
    const run = spawnSync('bash', ['-c', (script ?? '').replace('<FunctionName>', 'fn-prod')], {
      env: {
        PATH: `${bin}:${process.env.PATH ?? ''}`,
        STUB_LIVE: live,
        STUB_PAGES: pages.map((page) => page.join('\t')).join('\n'),
        STUB_LOG: log,
      },
      encoding: 'utf8',
      // Not a socket on stdin (libuv's pipes are): bash would take itself for a remote shell and read ~/.bashrc.
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    return readFileSync(log, 'utf8')
      .split('\n')
      .filter((line) => line !== '')
      .map((line) => {
        const [command, qualifier] =
          /^lambda delete-function --function-name fn-prod --qualifier (\S+)$/.exec(line) ?? [];
        expect(command, line).toBeDefined();
        return qualifier as string;
      });
  }

  const range = (from: number, to: number) =>
    Array.from({ length: to - from + 1 }, (_, index) => String(from + index));

  it('finds the script (a broken parser must not pass)', () => {
    expect(script).toContain('delete-function');
  });

  it.each([
    ['live is the newest: the four oldest go', [range(1, 9)], '9', ['4', '3', '2', '1']],
    ['live rolled back to an old one: it stays', [range(1, 9)], '3', ['4', '2', '1']],
    ['two pages, numeric order (10 after 9)', [range(1, 6), range(7, 12)], '12', range(1, 7).reverse()],
    ['five or fewer: nothing goes', [range(1, 5)], '5', []],
  ])('%s', (_name, pages, live, deleted) => {
    expect(prune(pages, live)).toEqual(deleted);
  });
});
