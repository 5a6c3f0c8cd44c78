/**
 * Calls the local API over real HTTP and checks what comes back against the status table, keeping
 * every answer so a suite can prove afterwards that none of them carried a secret. Requests are
 * SigV4-signed as a local identity (default the rotator, whose group may call every route).
 */
import { expect } from 'vitest';
import { LOCAL_IDENTITIES, type LocalSigner } from '../../local/identities.ts';
import { type Answer, answerOf, type DocumentedAnswer, documentedAnswer } from './answers.ts';
import { signedFetch } from './signed-fetch.ts';

export interface Called extends Answer {
  documented: DocumentedAnswer;
  elapsedMs: number;
}

export function createCaller(baseUrl: () => string, signer: LocalSigner = LOCAL_IDENTITIES.rotators) {
  const answers: Answer[] = [];

  async function call(
    method: string,
    path: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ): Promise<Called> {
    const started = performance.now();
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
    const elapsedMs = performance.now() - started;
    answers.push(answer);
    return { ...answer, documented: documentedAnswer(answer), elapsedMs };
  }

  /** Asserts a problem answer: its status, its type (slug) and the status table agree. */
  function expectProblem(called: Called, status: number, slug: string): void {
    expect(called.status, called.body).toBe(status);
    expect(called.documented).toMatchObject({ kind: 'problem', slug });
    expect(called.headers['content-type']).toBe('application/problem+json');
  }

  return { call, expectProblem, answers };
}
