/**
 * The local webhook receiver `npm start` hosts: a loopback endpoint (`http://127.0.0.1:<port>/webhooks`)
 * that takes a delivery as Affix sends it (the sandbox's `POST /_sandbox/webhooks` sends one), forwards
 * its exact bytes and `x-affix-api-signature` to the proxy's `POST /webhooks/verify` signed as
 * `local-verifier` (with the typed client, as a real receiver would), reports the verdict, and answers
 * it to the sender. So the signed-webhook walk-through needs no code of one's own.
 *
 * @example
 * const receiver = await startWebhookReceiver({ apiUrl: stack.apiUrl, onVerdict: (v) => console.log(v) });
 * // PATCH webhook_uri to receiver.url through the proxy, then POST <sandbox>/_sandbox/webhooks
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { ClientConfigClient } from '../clients/client-config-client.ts';
import { ClientConfigError } from '../clients/errors.ts';
import { SIGNATURE_HEADER } from '../functions/contract/headers.ts';
import { routeKeyOf, routeOf } from '../functions/contract/routes.ts';
import { LOCAL_IDENTITIES, LOCAL_SIGNING_REGION, type LocalSigner } from './identities.ts';
import { sendJson } from './json-reply.ts';
import { ServerLifecycle } from './loopback-server.ts';
import { MAX_DELIVERY_BYTES } from './webhook-delivery.ts';

/** `POST /webhooks/verify`, from the route table. */
const VERIFY_ROUTE = routeKeyOf(routeOf('verifyWebhook'));

/** The path deliveries go to. */
export const WEBHOOK_RECEIVER_PATH = '/webhooks';

/** One delivery and what the proxy said about it: names, numbers and the masked secret only. */
export interface WebhookVerdict {
  /** The status the proxy's verify route answered (0: no answer). */
  status: number;
  /** `valid`, or the problem slug (`signature-mismatch`, `access-denied`, ...). */
  outcome: string;
  /** The masked secret that matched (`****` and its last four characters), when valid. */
  secret: string | undefined;
  bytes: number;
}

export interface WebhookReceiverOptions {
  /** The local API the deliveries are verified with (`<apiUrl>/webhooks/verify`). */
  apiUrl: string;
  /** Default 0: any free port. */
  port?: number;
  /** Who signs the verify call (default `local-verifier`). */
  signer?: LocalSigner;
  onVerdict?: (verdict: WebhookVerdict) => void;
}

export interface WebhookReceiver {
  /** e.g. `http://127.0.0.1:43210/webhooks`: what to set as the client's `webhook_uri` locally. */
  readonly url: string;
  readonly port: number;
  close(): Promise<void>;
}

/** The verdict line `npm start` prints for a delivery. */
export function formatVerdict(verdict: WebhookVerdict): string {
  const detail = verdict.secret === undefined ? '' : ` (signed with ${verdict.secret})`;
  return `webhook delivery ${verdict.bytes} bytes -> ${VERIFY_ROUTE} ${verdict.status} ${verdict.outcome}${detail}`;
}

async function readBody(req: IncomingMessage): Promise<Buffer | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_DELIVERY_BYTES) return undefined;
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

export async function startWebhookReceiver(options: WebhookReceiverOptions): Promise<WebhookReceiver> {
  const signer = options.signer ?? LOCAL_IDENTITIES.verifiers;
  // Loaded on the first delivery: the client's AWS credential chain takes seconds to import, which
  // every `npm start` would otherwise pay before its banner.
  let client: Promise<ClientConfigClient> | undefined;
  const api = (): Promise<ClientConfigClient> => {
    client ??= import('../clients/client-config-client.ts').then(({ createClientConfigClient }) =>
      createClientConfigClient({
        baseUrl: options.apiUrl,
        region: LOCAL_SIGNING_REGION,
        credentials: { accessKeyId: signer.accessKeyId, secretAccessKey: signer.secretAccessKey },
      }),
    );
    return client;
  };
  const lifecycle = new ServerLifecycle();

  const verify = async (body: Buffer, signature: string): Promise<WebhookVerdict> => {
    try {
      const verified = await (await api()).verifyWebhook(new Uint8Array(body), signature);
      return { status: 200, outcome: 'valid', secret: verified.secret, bytes: body.length };
    } catch (error) {
      if (!(error instanceof ClientConfigError)) throw error;
      return { status: error.status, outcome: error.slug, secret: undefined, bytes: body.length };
    }
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const path = new URL(req.url ?? '/', 'http://127.0.0.1').pathname;
    if (path !== WEBHOOK_RECEIVER_PATH) {
      sendJson(res, 404, { message: `deliveries go to ${WEBHOOK_RECEIVER_PATH}` });
      return;
    }
    if (req.method !== 'POST') {
      sendJson(res, 405, { message: 'deliveries are POSTs' }, { allow: 'POST' });
      return;
    }
    const body = await readBody(req);
    if (body === undefined) {
      sendJson(res, 413, { message: `a delivery is at most ${MAX_DELIVERY_BYTES} bytes` });
      return;
    }
    const signature = req.headers[SIGNATURE_HEADER];
    const verdict = await verify(body, typeof signature === 'string' ? signature : '');
    options.onVerdict?.(verdict);
    // The sender (the sandbox's trigger) shows this answer: the verdict, never the delivery's content.
    sendJson(res, verdict.outcome === 'valid' ? 200 : verdict.status === 0 ? 502 : verdict.status, {
      valid: verdict.outcome === 'valid',
      outcome: verdict.outcome,
      ...(verdict.secret === undefined ? {} : { secret: verdict.secret }),
    });
  };

  const server = createServer((req, res) => {
    handle(req, res).catch(() => {
      if (!res.headersSent) sendJson(res, 500, { message: 'the receiver failed' });
      else res.destroy();
    });
  });
  const listening = await lifecycle.listen(server, options.port ?? 0);
  return {
    url: `${listening.url}${WEBHOOK_RECEIVER_PATH}`,
    port: listening.port,
    close: () => lifecycle.close(server),
  };
}
