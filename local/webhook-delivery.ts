/**
 * The Affix sandbox's webhook delivery (`POST /_sandbox/webhooks`): sends a payload to the client's
 * `webhook_uri` signed as Affix signs (`x-affix-api-signature`: hex HMAC-SHA256 of the exact bytes with
 * a client secret), so a receiver can be tested end to end on one machine. Only loopback targets: the
 * sandbox never sends anything off this machine, and sends over plain HTTP whatever the scheme.
 *
 * @example
 * // curl -X POST 'http://127.0.0.1:<sandbox>/_sandbox/webhooks?secret=1' -d '{"added":[],"removed":[],"updated":[]}'
 */
import { createHmac } from 'node:crypto';
import { isLoopbackHost } from '../functions/contract/urls.ts';

export const WEBHOOK_DELIVERY_PATH = '/_sandbox/webhooks';
/** A delivery as large as the proxy's verify route accepts, and a little more (to test its 413). */
export const MAX_DELIVERY_BYTES = 6 * 1024 * 1024;
/** Affix's payload shape ("Webhooks" in the spec): employees added, removed, updated. */
export const DEFAULT_DELIVERY = { added: [], removed: [], updated: [] } as const;
export const AFFIX_WEBHOOK_HEADERS = {
  'x-affix-api-origin': 'webhooks-employees-webhook',
  'user-agent': 'affixapi.com',
} as const;
const DELIVERY_TIMEOUT_MS = 15_000;
const MAX_ANSWER_BYTES = 1024 * 1024;

export interface DeliveryAnswer {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
}

export interface DeliveryRequest {
  /** The request body: the payload's exact bytes, or empty for {@link DEFAULT_DELIVERY}. */
  body: Buffer;
  /** `?secret=<index>`: which of the client's secrets signs (default 0, the first). */
  secretIndex: string | null;
  webhookUri: string | null;
  secrets: readonly string[];
}

const message = (status: number, text: string): DeliveryAnswer => ({
  status,
  headers: { 'content-type': 'application/json' },
  body: Buffer.from(JSON.stringify({ message: text })),
});

/** A loopback http(s) URL, or undefined. */
function loopbackTarget(uri: string | null): URL | undefined {
  if (uri === null) return undefined;
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    return undefined;
  }
  const scheme = url.protocol === 'http:' || url.protocol === 'https:';
  if (!scheme || !isLoopbackHost(url.hostname)) return undefined;
  // The proxy accepts only https:// webhook URIs; on this machine the delivery goes over plain HTTP
  // (no certificate for 127.0.0.1), so `https://127.0.0.1:<port>/...` reaches a local receiver.
  return new URL(`http://${url.host}${url.pathname}${url.search}`);
}

export function signDelivery(body: Uint8Array, secret: string): string {
  return createHmac('sha256', secret).update(body).digest('hex');
}

/** Sends one delivery and answers what the receiver answered (status, content type, body). */
export async function deliverWebhook(request: DeliveryRequest): Promise<DeliveryAnswer> {
  const index = request.secretIndex === null ? 0 : Number(request.secretIndex);
  const secret = Number.isInteger(index) && index >= 0 ? request.secrets[index] : undefined;
  if (secret === undefined) {
    return message(400, `secret must be an index into the client's ${request.secrets.length} secrets`);
  }
  const target = loopbackTarget(request.webhookUri);
  if (target === undefined) {
    return message(
      409,
      'webhook_uri is not a loopback URL (http(s)://127.0.0.1, localhost or [::1]): the sandbox delivers only on this machine',
    );
  }
  let payload = request.body;
  if (payload.length === 0) payload = Buffer.from(JSON.stringify(DEFAULT_DELIVERY));
  else {
    try {
      JSON.parse(payload.toString('utf8'));
    } catch {
      return message(400, 'the payload must be JSON');
    }
  }
  let response: Response;
  try {
    response = await fetch(target, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'x-affix-api-signature': signDelivery(payload, secret),
        ...AFFIX_WEBHOOK_HEADERS,
      },
      body: payload,
      redirect: 'manual',
      signal: AbortSignal.timeout(DELIVERY_TIMEOUT_MS),
    });
  } catch (error) {
    const code = (error as { cause?: { code?: unknown } }).cause?.code;
    return message(502, `the delivery failed${typeof code === 'string' ? ` (${code})` : ''}`);
  }
  const answer = Buffer.from(await response.arrayBuffer());
  const contentType = response.headers.get('content-type');
  return {
    status: response.status,
    headers: contentType === null ? {} : { 'content-type': contentType },
    body: answer.subarray(0, MAX_ANSWER_BYTES),
  };
}
