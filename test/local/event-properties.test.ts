/**
 * The local API with the real handler (in-process) never answers 5xx for what a caller can put in a
 * request: arbitrary query keys (prototype names included), header names and paths. Whatever is
 * refused is refused as a 4xx (a bad signature, an unknown route, a validation problem).
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LOCAL_IDENTITIES } from '../../local/identities.ts';
import { type LocalStack, startLocalStack } from '../../local/start.ts';
import { signedFetch } from '../support/signed-fetch.ts';

let stack: LocalStack;

beforeAll(async () => {
  stack = await startLocalStack({ port: 0 });
});
afterAll(async () => {
  await stack?.close();
});

const PROTOTYPE_NAMES = ['constructor', '__proto__', 'toString', 'hasOwnProperty', 'valueOf'];
const key = fc.oneof(fc.constantFrom(...PROTOTYPE_NAMES), fc.string({ minLength: 1, maxLength: 10 }));
const headerName = fc.oneof(fc.constantFrom(...PROTOTYPE_NAMES), fc.stringMatching(/^x-[a-z0-9-]{1,12}$/));

async function get(target: string, headers: Record<string, string> = {}): Promise<number> {
  const res = await signedFetch(`${stack.apiUrl}${target}`, { headers }, LOCAL_IDENTITIES.readers);
  await res.arrayBuffer();
  return res.status;
}

describe('the local API never answers 5xx for caller input', () => {
  it.each(PROTOTYPE_NAMES)('GET /client?%s=1 is not a 5xx', async (name) => {
    expect(await get(`/client?${name}=1&${name}=2`)).toBeLessThan(500);
  });

  it('arbitrary query keys and values, header names and paths', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.tuple(key, fc.string({ maxLength: 8 })), { maxLength: 6 }),
        fc.array(fc.tuple(headerName, fc.stringMatching(/^[a-z0-9]{0,8}$/)), { maxLength: 4 }),
        fc.oneof(fc.constant('/client'), fc.constant('/client/secrets'), fc.webPath()),
        async (pairs, headers, path) => {
          const query = new URLSearchParams(pairs).toString();
          const status = await get(`${path.startsWith('/') ? path : `/${path}`}${query ? `?${query}` : ''}`, {
            ...Object.fromEntries(headers),
          });
          expect(status).toBeLessThan(500);
        },
      ),
      { numRuns: 60 },
    );
  }, 120_000);
});
