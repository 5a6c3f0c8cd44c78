/**
 * The local SSM endpoint's parameter store: versions, labels, paths and AWS's error types, as pure
 * in-memory logic (the endpoint in `ssm-endpoint.ts` only speaks the protocol).
 *
 * Each failure is an {@link SsmError} carrying AWS's `__type` (`ParameterNotFound`,
 * `ParameterAlreadyExists`, `ParameterVersionNotFound`, `ValidationException`, ...), which the SDK turns
 * into its exception class of the same name.
 *
 * @example
 * const store = createSsmStore({ region: 'us-east-1', accountId: '000000000000' });
 * store.put({ Name: '/affix/local/client-secret', Value: 's', Type: 'SecureString' }); // { Version: 1 }
 * store.get('/affix/local/client-secret:1', true).Value; // 's'
 */
import { createHash } from 'node:crypto';

export type SsmParameterType = 'String' | 'StringList' | 'SecureString';
const TYPES: readonly string[] = ['String', 'StringList', 'SecureString'];

export class SsmError extends Error {
  override readonly name = 'SsmError';
  constructor(
    readonly type: string,
    message: string,
    readonly status = 400,
  ) {
    super(message);
  }
}

interface StoredVersion {
  value: string;
  type: SsmParameterType;
  version: number;
  lastModified: number;
  labels: string[];
  description: string | undefined;
  keyId: string | undefined;
}

/** AWS keeps the last 100 versions of a parameter. */
const MAX_VERSIONS = 100;
const MAX_LABELS_PER_VERSION = 10;
const NAME = /^[a-zA-Z0-9_.\-/]{1,2048}$/;
const DEFAULT_KEY_ID = 'alias/aws/ssm';

type Json = Record<string, unknown>;

export interface SsmStoreOptions {
  region: string;
  accountId: string;
  now?: () => number;
}

function validation(message: string): SsmError {
  return new SsmError('ValidationException', message);
}

function requireString(body: Json, key: string): string {
  const value = body[key];
  if (typeof value !== 'string' || value === '') {
    throw validation(
      `1 validation error detected: Value null at '${key.charAt(0).toLowerCase()}${key.slice(1)}' failed to satisfy constraint: Member must not be null`,
    );
  }
  return value;
}

/** `name`, `name:3` (a version) or `name:label`. */
export function parseSelector(selector: string): { name: string; version?: number; label?: string } {
  const colon = selector.lastIndexOf(':');
  if (colon <= 0) return { name: selector };
  const name = selector.slice(0, colon);
  const rest = selector.slice(colon + 1);
  return /^\d+$/.test(rest) ? { name, version: Number(rest) } : { name, label: rest };
}

/** Labels AWS refuses: starting with aws or ssm, only digits, other characters, or over 100 long. */
function invalidLabel(label: string): boolean {
  return !/^[a-zA-Z0-9_.-]{1,100}$/.test(label) || /^\d+$/.test(label) || /^(aws|ssm)/i.test(label);
}

/** Looks like KMS ciphertext (base64 starting `AQICAH`), derived from name and version, never from the value. */
function fakeCiphertext(name: string, version: number): string {
  const digest = createHash('sha256').update(`${name}#${version}`).digest();
  return `AQICAH${Buffer.concat([digest, digest]).toString('base64')}`;
}

/** Pages of a list: `NextToken` is the index of the next item. */
function page<T>(items: readonly T[], body: Json, max: number): { items: T[]; next?: string } {
  const requested = body.MaxResults;
  if (requested !== undefined && (typeof requested !== 'number' || requested < 1 || requested > max)) {
    throw validation(
      `1 validation error detected: Value at 'maxResults' failed to satisfy constraint: Member must have value less than or equal to ${max}`,
    );
  }
  const size = typeof requested === 'number' ? requested : max;
  const start = typeof body.NextToken === 'string' ? Number(body.NextToken) : 0;
  if (!Number.isInteger(start) || start < 0) throw validation('The NextToken is not valid.');
  const slice = items.slice(start, start + size);
  return start + size < items.length ? { items: slice, next: String(start + size) } : { items: slice };
}

export function createSsmStore(options: SsmStoreOptions) {
  const now = options.now ?? Date.now;
  const store = new Map<string, StoredVersion[]>();

  const arn = (name: string): string =>
    `arn:aws:ssm:${options.region}:${options.accountId}:parameter${name.startsWith('/') ? '' : '/'}${name}`;

  const versionsOf = (name: string): StoredVersion[] => {
    const versions = store.get(name);
    if (versions === undefined) throw new SsmError('ParameterNotFound', `Parameter ${name} not found.`);
    return versions;
  };

  const select = (selector: string): { name: string; stored: StoredVersion; selector?: string } => {
    const { name, version, label } = parseSelector(selector);
    const versions = versionsOf(name);
    if (version === undefined && label === undefined) {
      return { name, stored: versions[versions.length - 1] as StoredVersion };
    }
    const stored = versions.find((entry) =>
      version !== undefined ? entry.version === version : entry.labels.includes(label as string),
    );
    if (stored === undefined) {
      throw new SsmError(
        'ParameterVersionNotFound',
        `Systems Manager could not find version ${version ?? label} of ${name}. Verify the version and try again.`,
      );
    }
    return { name, stored, selector: `:${version ?? label}` };
  };

  const value = (name: string, stored: StoredVersion, withDecryption: boolean) =>
    stored.type === 'SecureString' && !withDecryption ? fakeCiphertext(name, stored.version) : stored.value;

  const parameter = (name: string, stored: StoredVersion, withDecryption: boolean, selector?: string) => ({
    Name: name,
    Type: stored.type,
    Value: value(name, stored, withDecryption),
    Version: stored.version,
    ...(selector === undefined ? {} : { Selector: selector }),
    // AWS JSON 1.1 timestamps are epoch seconds (may carry a fraction).
    LastModifiedDate: stored.lastModified / 1000,
    ARN: arn(name),
    DataType: 'text',
  });

  const metadata = (name: string, stored: StoredVersion) => ({
    Name: name,
    ARN: arn(name),
    Type: stored.type,
    ...(stored.type === 'SecureString' ? { KeyId: stored.keyId ?? DEFAULT_KEY_ID } : {}),
    LastModifiedDate: stored.lastModified / 1000,
    LastModifiedUser: `arn:aws:iam::${options.accountId}:user/local`,
    ...(stored.description === undefined ? {} : { Description: stored.description }),
    Version: stored.version,
    Tier: 'Standard',
    Policies: [],
    DataType: 'text',
  });

  const latest = (name: string) => {
    const versions = versionsOf(name);
    return versions[versions.length - 1] as StoredVersion;
  };
  const sortedNames = () => [...store.keys()].sort();

  /** Whether `name` lies under `path` (a direct child only, unless recursive). */
  const underPath = (name: string, path: string, recursive: boolean): boolean => {
    const prefix = path === '/' ? '/' : `${path.replace(/\/+$/, '')}/`;
    if (!name.startsWith(prefix)) return false;
    return recursive || !name.slice(prefix.length).includes('/');
  };

  /** DescribeParameters' `ParameterFilters` (Name, Path, Type) and legacy `Filters`. */
  const matchesFilters = (name: string, stored: StoredVersion, body: Json): boolean => {
    const filters = [
      ...((body.ParameterFilters as Json[] | undefined) ?? []),
      ...((body.Filters as Json[] | undefined) ?? []).map((filter) => ({
        Key: filter.Key,
        Option: filter.Key === 'Name' ? 'BeginsWith' : 'Equals',
        Values: filter.Values,
      })),
    ];
    return filters.every((filter) => {
      const values = Array.isArray(filter.Values) ? (filter.Values as string[]) : [];
      switch (filter.Key) {
        case 'Name':
          return filter.Option === 'BeginsWith'
            ? values.some((v) => name.startsWith(v))
            : values.some((v) => name === v || name === `/${v}`);
        case 'Path':
          return values.some((v) => underPath(name, v, filter.Option === 'Recursive'));
        case 'Type':
          return values.includes(stored.type);
        case 'KeyId':
          return values.includes(stored.keyId ?? DEFAULT_KEY_ID);
        default:
          throw new SsmError(
            'InvalidFilterKey',
            `The filter key ${String(filter.Key)} is not supported here.`,
          );
      }
    });
  };

  return {
    put(body: Json): { Version: number; Tier: 'Standard' } {
      const name = requireString(body, 'Name');
      if (!NAME.test(name)) {
        throw validation(
          `Parameter name: can't be prefixed with "aws" or "ssm" (case-insensitive) and must only contain a-z A-Z 0-9 _ . - /.`,
        );
      }
      if (typeof body.Value !== 'string') requireString(body, 'Value');
      const text = body.Value as string;
      const type = body.Type ?? store.get(name)?.at(-1)?.type ?? 'String';
      if (typeof type !== 'string' || !TYPES.includes(type)) {
        throw validation(
          `1 validation error detected: Value '${String(type)}' at 'type' failed to satisfy constraint: Member must satisfy enum value set: [SecureString, StringList, String]`,
        );
      }
      const versions = store.get(name);
      if (versions !== undefined && body.Overwrite !== true) {
        throw new SsmError(
          'ParameterAlreadyExists',
          'The parameter already exists. To overwrite this value, set the overwrite option in the request to true.',
        );
      }
      const previous = versions?.at(-1);
      if (versions !== undefined && versions.length >= MAX_VERSIONS) versions.shift();
      const entry: StoredVersion = {
        value: text,
        type: type as SsmParameterType,
        version: (previous?.version ?? 0) + 1,
        lastModified: now(),
        labels: [],
        description: typeof body.Description === 'string' ? body.Description : previous?.description,
        keyId:
          type === 'SecureString'
            ? typeof body.KeyId === 'string'
              ? body.KeyId
              : previous?.keyId
            : undefined,
      };
      store.set(name, [...(versions ?? []), entry]);
      return { Version: entry.version, Tier: 'Standard' };
    },

    get(selector: string, withDecryption: boolean) {
      const { name, stored, selector: suffix } = select(selector);
      return parameter(name, stored, withDecryption, suffix);
    },

    /** GetParameters: unknown names and unknown versions or labels go to `InvalidParameters`. */
    getMany(selectors: readonly string[], withDecryption: boolean) {
      const found: ReturnType<typeof parameter>[] = [];
      const invalid: string[] = [];
      for (const selector of selectors) {
        try {
          const { name, stored, selector: suffix } = select(selector);
          found.push(parameter(name, stored, withDecryption, suffix));
        } catch (error) {
          if (!(error instanceof SsmError)) throw error;
          invalid.push(selector);
        }
      }
      return { Parameters: found, InvalidParameters: invalid };
    },

    history(body: Json) {
      const name = requireString(body, 'Name');
      const withDecryption = body.WithDecryption === true;
      const { items, next } = page(versionsOf(name), body, 50);
      return {
        Parameters: items.map((stored) => ({
          ...metadata(name, stored),
          Value: value(name, stored, withDecryption),
          Labels: [...stored.labels],
        })),
        ...(next === undefined ? {} : { NextToken: next }),
      };
    },

    describe(body: Json) {
      const matching = sortedNames().filter((name) => matchesFilters(name, latest(name), body));
      const { items, next } = page(matching, body, 50);
      return {
        Parameters: items.map((name) => metadata(name, latest(name))),
        ...(next === undefined ? {} : { NextToken: next }),
      };
    },

    byPath(body: Json) {
      const path = requireString(body, 'Path');
      if (!path.startsWith('/')) {
        throw validation(
          'The parameter doesn\'t meet the parameter name requirements. The parameter name must begin with a forward slash "/".',
        );
      }
      const recursive = body.Recursive === true;
      const withDecryption = body.WithDecryption === true;
      const matching = sortedNames().filter(
        (name) =>
          underPath(name, path, recursive) &&
          matchesFilters(name, latest(name), { ParameterFilters: body.ParameterFilters }),
      );
      const { items, next } = page(matching, body, 10);
      return {
        Parameters: items.map((name) => parameter(name, latest(name), withDecryption)),
        ...(next === undefined ? {} : { NextToken: next }),
      };
    },

    delete(name: string): void {
      versionsOf(name);
      store.delete(name);
    },

    label(body: Json) {
      const name = requireString(body, 'Name');
      const labels = Array.isArray(body.Labels)
        ? body.Labels.filter((l): l is string => typeof l === 'string')
        : [];
      if (labels.length === 0) throw validation("1 validation error detected: Value null at 'labels'");
      const versions = versionsOf(name);
      const wanted = body.ParameterVersion;
      const target =
        wanted === undefined
          ? versions[versions.length - 1]
          : versions.find((entry) => entry.version === wanted);
      if (target === undefined) {
        throw new SsmError(
          'ParameterVersionNotFound',
          `Systems Manager could not find version ${String(wanted)} of ${name}. Verify the version and try again.`,
        );
      }
      const invalid = labels.filter(invalidLabel);
      const valid = labels.filter((label) => !invalidLabel(label));
      if (new Set([...target.labels, ...valid]).size > MAX_LABELS_PER_VERSION) {
        throw new SsmError(
          'ParameterVersionLabelLimitExceeded',
          `A parameter version can have at most ${MAX_LABELS_PER_VERSION} labels.`,
        );
      }
      // A label names one version of a parameter: attaching it here moves it from any other.
      for (const entry of versions) entry.labels = entry.labels.filter((label) => !valid.includes(label));
      target.labels = [...new Set([...target.labels, ...valid])];
      return { InvalidLabels: invalid, ParameterVersion: target.version };
    },

    has(name: string): boolean {
      return store.has(name);
    },
  };
}

export type SsmStore = ReturnType<typeof createSsmStore>;
