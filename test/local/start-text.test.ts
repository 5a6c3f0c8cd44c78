/**
 * What `npm start` prints, as pure functions: the access line names AFFIX_SANDBOX_RATE_LIMITS on an
 * Affix 429 while the sandbox's limits are on, the sandbox's own refusals say the same, the banner
 * says the limits are on and how to lift them, tells the 403 slugs apart, and ends with the variables
 * the documented examples use; `--help` has no garbled wording.
 */
import { describe, expect, it } from 'vitest';
import type { AccessEntry } from '../../local/access-log.ts';
import {
  describeLocalStack,
  exportLine,
  formatAccessLine,
  formatSandboxRateLimited,
  LIFT_RATE_LIMITS,
  type LocalStack,
  USAGE,
} from '../../local/start.ts';
import type { WebhookReceiver } from '../../local/webhook-receiver.ts';

const entry = (outcome: string, status: number): AccessEntry => ({
  requestId: 'req-1',
  method: 'PATCH',
  path: '/client',
  route: 'PATCH /client',
  status,
  latencyMs: 12.4,
  outcome,
  caller: 'arn:aws:sts::000000000000:assumed-role/local-writer/local',
  environmentId: 'env-1',
});

describe('the access line', () => {
  it('names AFFIX_SANDBOX_RATE_LIMITS=off on upstream-rate-limited while the sandbox limits are on', () => {
    const line = formatAccessLine(entry('upstream-rate-limited', 429), { sandboxRateLimits: true });
    expect(line).toBe(
      `PATCH /client 429 12ms upstream-rate-limited arn:aws:sts::000000000000:assumed-role/local-writer/local env-1 req-1 (${LIFT_RATE_LIMITS})`,
    );
    expect(LIFT_RATE_LIMITS).toContain('AFFIX_SANDBOX_RATE_LIMITS=off');
  });

  it('adds nothing to other outcomes, or when the limits are off (or Affix is external)', () => {
    expect(formatAccessLine(entry('success', 200), { sandboxRateLimits: true })).not.toContain(
      'AFFIX_SANDBOX',
    );
    expect(formatAccessLine(entry('upstream-rate-limited', 429), { sandboxRateLimits: false })).not.toContain(
      'AFFIX_SANDBOX',
    );
    expect(formatAccessLine(entry('upstream-rate-limited', 429))).not.toContain('AFFIX_SANDBOX');
  });

  it("the sandbox's refusal line names the limit, the Retry-After and the variable", () => {
    expect(
      formatSandboxRateLimited({
        method: 'GET',
        path: '/2023-03-01/management/client',
        limit: 'client_id',
        retryAfterSeconds: 97,
      }),
    ).toBe(
      `[affix-sandbox] GET /2023-03-01/management/client 429 Retry-After 97s: over Affix's limit of 40 every 5 minutes per client_id; ${LIFT_RATE_LIMITS}`,
    );
    expect(
      formatSandboxRateLimited({ method: 'POST', path: '/p', limit: 'ip', retryAfterSeconds: 3 }),
    ).toContain('40 a minute per IP');
  });
});

const receiver: WebhookReceiver = {
  url: 'http://127.0.0.1:4002/webhooks',
  port: 4002,
  close: async () => {},
};
/** The fields the banner reads; servers are not needed to print it. */
const stack = {
  apiUrl: 'http://127.0.0.1:3000',
  sandbox: {},
  affixBaseUrl: 'http://127.0.0.1:4001',
  clientId: 'sandbox-client-0001',
  ssm: { url: 'http://127.0.0.1:4003' },
  dynamodb: { url: 'http://127.0.0.1:4004', tableName: 'affix-webhook-config-local-state' },
  pool: { concurrency: 4 },
  sandboxLatencyMs: 0,
  sandboxRateLimits: true,
  webhookReceiver: receiver,
} as unknown as LocalStack;

describe('the banner', () => {
  const banner = describeLocalStack(stack);

  it('says the rate limits are on and how to lift them', () => {
    expect(banner).toContain("Affix's rate limits on: 40/min per IP, 40/5 min per client_id");
    expect(banner).toContain('AFFIX_SANDBOX_RATE_LIMITS=off npm start lifts them');
    expect(describeLocalStack({ ...stack, sandboxRateLimits: false })).toContain(
      "Affix's rate limits off (AFFIX_SANDBOX_RATE_LIMITS=off)",
    );
  });

  it('tells the 403 slugs apart instead of promising one problem', () => {
    expect(banner).not.toContain('the same 403');
    for (const slug of ['missing-signature', 'invalid-signature', 'expired-credentials', 'access-denied']) {
      expect(banner).toContain(slug);
    }
  });

  it('shows the receiver, the webhook walk-through with If-Match, and the export line last', () => {
    expect(banner).toContain('webhooks       http://127.0.0.1:4002/webhooks');
    expect(banner).toContain(`-H "if-match: $ETAG" -d '{"webhook_uri":"https://127.0.0.1:4002/webhooks"}'`);
    expect(banner).toContain(`curl -s -X POST http://127.0.0.1:4001/_sandbox/webhooks`);
    expect(exportLine(stack)).toBe(
      'export API=http://127.0.0.1:3000 SANDBOX=http://127.0.0.1:4001 WEBHOOK_URI=https://127.0.0.1:4002/webhooks',
    );
    expect(banner.trimEnd().endsWith(exportLine(stack))).toBe(true);
  });

  it('every PATCH and PUT example sends If-Match', () => {
    const writes = banner.split('\n').filter((line) => / -X (PATCH|PUT) /.test(line));
    expect(writes.length).toBeGreaterThanOrEqual(3);
    const lines = banner.split('\n');
    for (const write of writes) expect(lines[lines.indexOf(write) + 1]).toContain('if-match: $ETAG');
  });
});

describe('npm start -- --help', () => {
  it("says the handler's raw Powertools JSON, and lists the receiver port and the stacks folder", () => {
    expect(USAGE).not.toContain('the handler raw');
    expect(USAGE).toContain("the handler's raw Powertools JSON");
    expect(USAGE).toContain('WEBHOOK_RECEIVER_PORT');
    expect(USAGE).toContain('LOCAL_STACKS_DIR');
  });
});
