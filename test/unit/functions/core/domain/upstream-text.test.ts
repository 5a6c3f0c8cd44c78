/**
 * The judge of Affix's words (`upstream-text.ts`) against the independent leak corpus of
 * `test/support/leaks.ts`: every listed form of every secret, in `message`, in `validation_error`, and
 * split across both, is withheld; ordinary messages pass; a 64 KiB message stays cheap.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { boundedText, MAX_UPSTREAM_TEXT_LENGTH } from '../../../../../functions/contract/text.ts';
import {
  judgeUpstreamText,
  type UpstreamMessage,
} from '../../../../../functions/core/domain/upstream-text.ts';
import { CLIENT_ID, SECRET_A, SECRET_B } from '../../../../support/affix-fixtures.ts';
import { findLeaks, leakCorpus } from '../../../../support/leaks.ts';

/** Secrets that stress the encodings: punctuation-heavy, quotes and slashes, minimum and maximum length. */
// No English words in them: a secret holding "secret" would make every message naming client_secret be
// withheld, so the test could not fail.
const SECRETS = [
  'Q7vLk2mZp9XwR4tN8sBd-ours',
  'p@55w0rd/with"quote\\and&amp;<tag>',
  '!@#$%^&*()_+{}|:<>?~`-=[];,./abcd',
  'Sixteen-chars-ok',
  'x'.repeat(40).replace(/x/g, (_, i: number) => 'abcdefghijklmnopqrstuvwxyz0123456789'[i % 36] ?? 'x'),
  `${'Zq9'.repeat(85)}Z`,
];

const known = (secret: string) => ({ secrets: [secret], clientId: CLIENT_ID });
const toBody = (upstream: { message?: string; validation_error?: string }): UpstreamMessage => ({
  message: upstream.message,
  validationError: upstream.validation_error,
});
/** What a caller would see: the text passed on, or nothing of Affix's. */
const shown = (upstream: UpstreamMessage, secrets: readonly string[]) => {
  const view = judgeUpstreamText(upstream, { secrets, clientId: CLIENT_ID });
  return view.kind === 'words' ? view.text : '';
};

describe('judgeUpstreamText against the leak corpus', () => {
  for (const [index, secret] of SECRETS.entries()) {
    it(`withholds every listed form of secret #${index} (${secret.length} characters), alone or split`, () => {
      const cases = leakCorpus(secret, CLIENT_ID);
      expect(cases.length).toBeGreaterThan(150);
      const passed = cases.filter(
        ({ body }) => judgeUpstreamText(toBody(body), known(secret)).kind === 'words',
      );
      expect(passed.map((entry) => entry.form)).toEqual([]);
      // And so the detector finds nothing in what a caller sees.
      for (const { body } of cases)
        expect(findLeaks([shown(toBody(body), [secret])], [secret], CLIENT_ID)).toEqual([]);
    });
  }

  it('the corpus is a real test: the detector finds every form of it in Affix’s raw words', () => {
    for (const secret of SECRETS) {
      for (const { form, body } of leakCorpus(secret, CLIENT_ID)) {
        const raw = [body.message ?? '', body.validation_error ?? ''].join(': ');
        expect(findLeaks([raw], [secret], CLIENT_ID), form).not.toEqual([]);
      }
    }
  });

  it('knows every secret given: ours, those sent, and those of the client read before', () => {
    const old = 'old-value-being-removed-0001';
    const message = `the value ${Buffer.from(old).toString('hex')} is unknown`;
    expect(judgeUpstreamText({ message }, { secrets: [SECRET_A, SECRET_B, old] }).kind).toBe('withheld');
    expect(judgeUpstreamText({ message }, { secrets: [SECRET_A, SECRET_B] })).toEqual({
      kind: 'words',
      text: message,
    });
  });

  it('withholds every form of the Basic credential id:secret, and the Authorization value itself', () => {
    const basic = Buffer.from(`${CLIENT_ID}:${SECRET_A}`).toString('base64');
    for (const message of [
      `Authorization: Basic ${basic}`,
      `bad ${basic.toLowerCase()}`,
      `${CLIENT_ID}:${SECRET_A}`,
    ]) {
      expect(judgeUpstreamText({ message }, known(SECRET_A)).kind, message).toBe('withheld');
    }
  });

  it('never passes text when a known secret is too short to be told apart by runs', () => {
    expect(judgeUpstreamText({ message: 'name too long' }, { secrets: ['abc'] }).kind).toBe('withheld');
  });

  it('holds for random secrets in random forms and surroundings (property)', () => {
    const secret = fc.stringMatching(/^[!-~]{16,64}$/);
    const words = fc.string({ maxLength: 40 });
    fc.assert(
      fc.property(
        secret,
        fc.nat(),
        words,
        words,
        fc.boolean(),
        (value, pick, before, after, inValidation) => {
          const cases = leakCorpus(value, CLIENT_ID);
          const chosen = cases[pick % cases.length];
          if (chosen === undefined) return;
          const body = inValidation
            ? { message: before, validation_error: `${chosen.body.message ?? ''}${after}` }
            : {
                message: `${before}${chosen.body.message ?? ''}`,
                validation_error: `${chosen.body.validation_error ?? ''}${after}`,
              };
          expect(findLeaks([shown(toBody(body), [value])], [value], CLIENT_ID), chosen.form).toEqual([]);
        },
      ),
      { numRuns: 2_000 },
    );
  });
});

describe('what is passed on', () => {
  it('passes ordinary messages on, joined, without control characters', () => {
    expect(
      judgeUpstreamText(
        { message: 'Bad Request', validationError: 'webhook_uri must be\u0000 reachable\u200b' },
        known(SECRET_A),
      ),
    ).toEqual({ kind: 'words', text: 'Bad Request: webhook_uri must be  reachable' });
    expect(judgeUpstreamText({}, known(SECRET_A))).toEqual({ kind: 'none' });
    expect(judgeUpstreamText({ message: ' \u0001 ' }, known(SECRET_A))).toEqual({ kind: 'none' });
  });

  it('names only our field names when it withholds, never Affix’s words', () => {
    const view = judgeUpstreamText(
      { message: `redirect_uris and name are bad: ${SECRET_A}`, validationError: 'WEBHOOK_URI; username' },
      known(SECRET_A),
    );
    expect(view).toEqual({ kind: 'withheld', fields: ['name', 'webhook_uri', 'redirect_uris'] });
  });

  it('bounds the length in code points', () => {
    const view = judgeUpstreamText({ message: '😀'.repeat(600) }, known(SECRET_A));
    expect(view.kind === 'words' && [...view.text].length).toBe(MAX_UPSTREAM_TEXT_LENGTH + 1);
    expect(boundedText('x'.repeat(600))).toHaveLength(MAX_UPSTREAM_TEXT_LENGTH + 1);
    expect(boundedText('bad\u0000\u001b[31m value\n')).toBe('bad [31m value');
  });

  it('stays cheap: a 64 KiB message against ten 256-character secrets', () => {
    const secrets = Array.from({ length: 10 }, (_, i) =>
      `${String.fromCharCode(65 + i)}${'k9#Q'.repeat(64)}`.slice(0, 256),
    );
    const sentence = 'the webhook_uri must be an absolute URL and the name is too long; ';
    const message = sentence.repeat(Math.ceil(65_536 / sentence.length)).slice(0, 65_536);
    judgeUpstreamText({ message }, { secrets, clientId: CLIENT_ID });
    // Measured about 15-35 ms on 2 shared cores. No wall-clock bound (the machine may be busy): only the
    // test's timeout stops a judgement that went quadratic in the message.
    const view = judgeUpstreamText({ message, validationError: message }, { secrets, clientId: CLIENT_ID });
    expect(view.kind).toBe('words');
  });
});
