/**
 * Calls the local API over real HTTP and checks what comes back against the status table, keeping
 * every answer so a suite can prove afterwards that none of them carried a secret. Requests are
 * SigV4-signed as a local identity (default the rotator, whose group may call every route).
 */
import { expect } from 'vitest';
import { THROTTLED_HEADER } from '../../local/api-gateway.ts';
import { LOCAL_IDENTITIES, type LocalSigner } from '../../local/identities.ts';
import { type Answer, answerOf, type DocumentedAnswer, documentedApiAnswer } from './answers.ts';
import { signedFetch } from './signed-fetch.ts';

export interface Called extends Answer {
  documented: DocumentedAnswer;
  elapsedMs: number;
}

export interface CallerOptions {
  /**
   * Send a request again when the local pool refused it at its concurrency limit (it ran nowhere), as
   * a caller of a throttled Lambda would; default true. False returns the refusal (504
   * `integration-failure`) like any other answer.
   */
  readonly retryThrottled?: boolean;
}

/** How long a throttled caller waits before it sends again: a short, growing pause. */
const THROTTLE_PAUSE_MS = (attempt: number) => Math.min(5 * 2 ** attempt, 100);

export function createCaller(
  baseUrl: () => string,
  signer: LocalSigner = LOCAL_IDENTITIES.rotators,
  options: CallerOptions = {},
) {
  const answers: Answer[] = [];
  const retryThrottled = options.retryThrottled ?? true;
  let throttled = 0;

  async function call(
    method: string,
    path: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ): Promise<Called> {
    const started = performance.now();
    for (let attempt = 0; ; attempt += 1) {
      const response = await signedFetch(
        `${baseUrl()}${path}`,
        {
          method,
          headers: body === undefined ? headers : { 'content-type': 'application/json', ...headers },
          body: body === undefined ? undefined : JSON.stringify(body),
        },
        signer,
      );
      const answer = await answerOf(response);
      answers.push(answer);
      if (retryThrottled && answer.headers[THROTTLED_HEADER] === '1') {
        throttled += 1;
        await new Promise((resolve) => setTimeout(resolve, THROTTLE_PAUSE_MS(attempt)));
        continue;
      }
      const elapsedMs = performance.now() - started;
      return { ...answer, documented: documentedApiAnswer(answer), elapsedMs };
    }
  }

  /** Asserts a problem answer: its status, its type (slug) and the status table agree. */
  function expectProblem(called: Called, status: number, slug: string): void {
    expect(called.status, called.body).toBe(status);
    expect(called.documented, called.body).toMatchObject({ kind: 'problem', slug });
    expect(called.headers['content-type']).toBe('application/problem+json');
  }

  /** How many refusals at the pool's concurrency limit were sent again. */
  const throttledCount = () => throttled;

  return { call, expectProblem, answers, throttledCount };
}
