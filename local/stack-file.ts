/**
 * The running local stack's whereabouts, written by `npm start` to a gitignored file so that
 * `npm run rotate` (and other tools) find it without any environment. URLs, the table name and the
 * parameter names only: never a secret.
 */
import { readFile, rm, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import {
  DEFAULT_CLIENT_ID_PARAMETER,
  DEFAULT_CLIENT_SECRET_PARAMETER,
  DEFAULT_ETAG_KEY_PARAMETER,
  localHandlerEnv,
} from './handler-env.ts';
import type { LocalStack } from './start.ts';

export const DEFAULT_STACK_FILE = fileURLToPath(new URL('./.stack.json', import.meta.url));

export interface StackFile {
  apiUrl: string;
  affixBaseUrl: string;
  ssmUrl: string;
  dynamodbUrl: string;
  stateTableName: string;
  clientIdParameter: string;
  clientSecretParameter: string;
  etagKeyParameter: string;
}

export function describeForFile(stack: LocalStack): StackFile {
  return {
    apiUrl: stack.apiUrl,
    affixBaseUrl: stack.affixBaseUrl,
    ssmUrl: stack.ssm.url,
    dynamodbUrl: stack.dynamodb.url,
    stateTableName: stack.dynamodb.tableName,
    clientIdParameter: DEFAULT_CLIENT_ID_PARAMETER,
    clientSecretParameter: DEFAULT_CLIENT_SECRET_PARAMETER,
    etagKeyParameter: DEFAULT_ETAG_KEY_PARAMETER,
  };
}

export async function writeStackFile(stack: LocalStack, path = DEFAULT_STACK_FILE): Promise<void> {
  await writeFile(path, `${JSON.stringify(describeForFile(stack), null, 2)}\n`, { mode: 0o600 });
}

export async function removeStackFile(path = DEFAULT_STACK_FILE): Promise<void> {
  await rm(path, { force: true });
}

export async function readStackFile(path = DEFAULT_STACK_FILE): Promise<StackFile> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch {
    throw new Error(`no running local stack found (${path} is missing): start one with npm start`);
  }
  return JSON.parse(text) as StackFile;
}

/** The environment a function needs to run against that stack (local SDK endpoints and fake keys). */
export function stackEnv(file: StackFile): Record<string, string> {
  return localHandlerEnv({
    affixBaseUrl: file.affixBaseUrl,
    ssmUrl: file.ssmUrl,
    dynamodbUrl: file.dynamodbUrl,
    stateTableName: file.stateTableName,
    clientIdParameter: file.clientIdParameter,
    clientSecretParameter: file.clientSecretParameter,
    etagKeyParameter: file.etagKeyParameter,
  });
}
