/**
 * An in-memory Affix for handler tests: a `fetch` implementation that keeps the client's state,
 * checks the Basic header against the current secrets like Affix does, and can be told to answer
 * the next requests with scripted responses. No sockets: the real HTTP stand-in lives in local/.
 */
import { createHash } from 'node:crypto';
import { parseEtagKey } from '../../functions/client-config/etag-key.ts';
import {
  type AffixClient,
  type AffixClientJson,
  parseAffixClient,
} from '../../functions/client-config/schemas.ts';

export const SECRET_A = 'secret-AAAA-aaaa-1111-initial';
export const SECRET_B = 'secret-BBBB-bbbb-2222-rotated';
export const CLIENT_ID = 'client-0000-test';

/** The ETag key test containers load, as SSM stores it (Base64 of 32 bytes). */
export const ETAG_KEY_BASE64 = createHash('sha256').update('test etag key').digest('base64');
export const ETAG_KEY = parseEtagKey(ETAG_KEY_BASE64);

/** Affix's client as Affix sends it. */
export function initialClient(): AffixClientJson {
  return {
    client_id: CLIENT_ID,
    client_secret: [SECRET_A],
    name: 'Test App',
    redirect_uris: ['https://app.example.com/callback'],
    webhook_uri: 'https://hooks.example.com/affix',
  };
}

/** Affix's client as the proxy holds it after parsing (for the pure functions' tests). */
export function parsedClient(json: unknown = initialClient()): AffixClient {
  const client = parseAffixClient(json);
  if (client === undefined) throw new Error('not an Affix client');
  return client;
}

/**
 * A scripted answer. Functions get the caller's own `signal`: undici links a Request's signal to the
 * caller's only weakly, so after a GC an abort listened for on `request.signal` may never arrive.
 */
export type Scripted =
  | Response
  | Error
  | ((request: Request, signal: AbortSignal | undefined) => Response | Promise<Response>);

export interface FakeAffix {
  fetch: typeof fetch;
  client: AffixClientJson;
  calls: { method: string; body: unknown; authorized: boolean }[];
  /** Answer the next matching requests with these, in order, before falling back to the state. */
  script(...responses: Scripted[]): void;
  scriptFor(method: 'GET' | 'POST', ...responses: Scripted[]): void;
}

export function json(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { 'content-type': 'application/json', ...headers },
  });
}

export function createFakeAffix(client: AffixClientJson = initialClient()): FakeAffix {
  const queue: { method?: string; response: Scripted }[] = [];
  const fake: FakeAffix = {
    client,
    calls: [],
    script: (...responses) => queue.push(...responses.map((response) => ({ response }))),
    scriptFor: (method, ...responses) => queue.push(...responses.map((response) => ({ method, response }))),
    fetch: async (input, init) => {
      const request = new Request(input, init);
      const text = request.method === 'POST' ? await request.text() : '';
      const body = text === '' ? undefined : JSON.parse(text);
      const authorized = fake.client.client_secret.some(
        (secret) =>
          request.headers.get('authorization') ===
          `Basic ${Buffer.from(`${fake.client.client_id}:${secret}`).toString('base64')}`,
      );
      fake.calls.push({ method: request.method, body, authorized });
      const index = queue.findIndex((entry) => entry.method === undefined || entry.method === request.method);
      if (index >= 0) {
        const [entry] = queue.splice(index, 1);
        const scripted = entry?.response;
        if (scripted instanceof Error) throw scripted;
        if (typeof scripted === 'function') return scripted(request, init?.signal ?? undefined);
        if (scripted !== undefined) return scripted;
      }
      if (!authorized) {
        return json(401, {
          error: 'authentication_error',
          message: 'Your password is incorrect',
          code: 'incorrect_username_or_password',
        });
      }
      if (request.method === 'POST') {
        fake.client = { client_id: fake.client.client_id, ...body };
      }
      return json(200, fake.client);
    },
  };
  return fake;
}
