/**
 * The URL rule (urls.ts) and the request schemas that use it: every known attack string, what is
 * stored is the canonical form that was checked, redirect URIs distinct by canonical form, and a
 * property over generated URLs.
 */
import fc from 'fast-check';
import * as v from 'valibot';
import { describe, expect, it } from 'vitest';
import { checkUrl } from '../../../../functions/contract/urls.ts';
import { PatchClientRequestSchema } from '../../../../functions/core/domain/schemas.ts';

const webhook = (value: string) => v.safeParse(PatchClientRequestSchema, { webhook_uri: value });
const redirects = (values: string[]) => v.safeParse(PatchClientRequestSchema, { redirect_uris: values });

describe('checkUrl refuses', () => {
  it.each([
    // Control characters and whitespace of every kind, where the WHATWG parser would drop or encode them.
    ['https://hooks.example.com/a\r\nX-Injected: 1', 'characters'],
    ['https://hooks.example.com/a\nb', 'characters'],
    ['https://hooks.example.com/\tcb', 'characters'],
    ['https://hooks.ex\tample.com/', 'characters'],
    ['https://hooks.example.com/\u0000', 'characters'],
    [' https://hooks.example.com/', 'characters'],
    ['https://hooks.example.com/ ', 'characters'],
    ['https://hooks.example.com/a b', 'characters'],
    ['https://hooks.example.com/\u00a0', 'characters'],
    ['https://hooks.example.com/\u2003x', 'characters'],
    ['https://hooks.example.com/\u3000', 'characters'],
    ['https://hooks.example.com/\u200b', 'characters'],
    ['https://hooks.example.com/\u007f', 'characters'],
    // Backslashes: WHATWG reads `\` as `/`, other parsers do not.
    ['https://attacker\\@hooks.example.com/', 'characters'],
    ['http://localhost\\@evil.example/cb', 'characters'],
    ['https://hooks.example.com\\evil.example/', 'characters'],
    // Non-ASCII (an international host must be given in its xn-- form).
    ['https://bücher.example/', 'characters'],
    ['https://hooks.example.com/ü', 'characters'],
    // User info.
    ['https://user:password@hooks.example.com/', 'user-info'],
    ['https://attacker@hooks.example.com/', 'user-info'],
    ['http://localhost:80@evil.example/cb', 'user-info'],
    ['https://hooks.example.com@evil.example/', 'user-info'],
    // Plain http:// anywhere but the three literal loopback hosts.
    ['http://hooks.example.com/', 'scheme'],
    ['http://localhost.evil.example/cb', 'scheme'],
    ['http://127.0.0.1.nip.io/cb', 'scheme'],
    ['http://localhost./cb', 'scheme'],
    ['ftp://hooks.example.com/', 'scheme'],
    ['javascript://hooks.example.com/%0aalert(1)', 'scheme'],
    // Loopback in disguise, and other spellings the parser rewrites.
    ['http://0177.0.0.1/cb', 'not-canonical'],
    ['http://0x7f.0.0.1/cb', 'not-canonical'],
    ['http://0x7f000001/cb', 'not-canonical'],
    ['http://2130706433/cb', 'not-canonical'],
    ['http://127.1/cb', 'not-canonical'],
    ['http://017700000001/cb', 'not-canonical'],
    ['http://[0:0:0:0:0:0:0:1]/cb', 'not-canonical'],
    ['http://[::ffff:127.0.0.1]/cb', 'scheme'],
    ['https://0x7f.1/', 'not-canonical'],
    ['https://%68ooks.example.com/', 'not-canonical'],
    ['https://hooks.example.com/a/../admin', 'not-canonical'],
    ['https://hooks.example.com/./a', 'not-canonical'],
    ['https://hooks.example.com/%2e%2e/admin', 'not-canonical'],
    ['https://hooks.example.com:/', 'not-canonical'],
    ['https://hooks.example.com:0443/', 'not-canonical'],
    ['https://hooks.example.com/a"b', 'not-canonical'],
    ['https://hooks.example.com/a<b>', 'not-canonical'],
    ['https://hooks.example.com/{a}', 'not-canonical'],
    ['https:///hooks.example.com/', 'not-canonical'],
    // Fragments (never sent; RFC 6749 forbids them in redirect URIs) and non-URLs.
    ['https://hooks.example.com/#frag', 'fragment'],
    ['https:hooks.example.com/', 'not-a-url'],
    ['javascript:alert(1)', 'not-a-url'],
    ['https://', 'not-a-url'],
    ['hooks.example.com/affix', 'not-a-url'],
    ['', 'characters'],
  ])('%j (%s)', (raw, reason) => {
    expect(checkUrl(raw, { allowQuery: true, allowLoopbackHttp: true })).toEqual({ ok: false, reason });
  });

  it('refuses a query where the caller says so (the base URL)', () => {
    expect(checkUrl('https://api.affixapi.com/?v=1')).toEqual({ ok: false, reason: 'query' });
  });

  it('refuses plain http:// altogether where loopback is not allowed (webhook_uri)', () => {
    expect(checkUrl('http://localhost/cb')).toEqual({ ok: false, reason: 'not-https' });
  });
});

describe('checkUrl accepts, and gives the canonical form', () => {
  it.each([
    ['https://hooks.example.com/affix', 'https://hooks.example.com/affix'],
    ['https://hooks.example.com', 'https://hooks.example.com/'],
    ['HTTPS://Hooks.Example.COM/Path', 'https://hooks.example.com/Path'],
    ['https://hooks.example.com:443/x', 'https://hooks.example.com/x'],
    ['https://hooks.example.com:8443/x?y=1&z=%20', 'https://hooks.example.com:8443/x?y=1&z=%20'],
    ['https://hooks.example.com?x=1', 'https://hooks.example.com/?x=1'],
    ['https://xn--bcher-kva.example/', 'https://xn--bcher-kva.example/'],
    ['https://192.0.2.10/cb', 'https://192.0.2.10/cb'],
    ['https://[2001:db8::1]/cb', 'https://[2001:db8::1]/cb'],
    ['http://localhost:3000/cb', 'http://localhost:3000/cb'],
    ['HTTP://LOCALHOST/cb', 'http://localhost/cb'],
    ['http://127.0.0.1/cb', 'http://127.0.0.1/cb'],
    ['http://127.0.0.1:80/cb', 'http://127.0.0.1/cb'],
    ['http://[::1]:8080/cb', 'http://[::1]:8080/cb'],
    ['https://hooks.example.com/a%2Fb', 'https://hooks.example.com/a%2Fb'],
  ])('%j -> %j', (raw, canonical) => {
    expect(checkUrl(raw, { allowQuery: true, allowLoopbackHttp: true })).toEqual({
      ok: true,
      url: canonical,
    });
  });

  it('is what a WHATWG parser reads, and checking the result again gives the same (property)', () => {
    const candidates = fc.oneof(
      fc.webUrl({ withQueryParameters: true, withFragments: true }),
      fc
        .tuple(
          fc.webUrl(),
          fc.nat(40),
          fc.constantFrom(
            '\\',
            '\t',
            '\n',
            '\r',
            ' ',
            '\u0000',
            '\u00a0',
            '@',
            '#',
            '%2e',
            '/../',
            ':',
            '0x',
          ),
        )
        .map(([url, at, insert]) => `${url.slice(0, at)}${insert}${url.slice(at)}`),
    );
    fc.assert(
      fc.property(candidates, (raw) => {
        const rule = { allowQuery: true, allowLoopbackHttp: true };
        const result = checkUrl(raw, rule);
        if (!result.ok) return;
        expect(raw).toMatch(/^[!-[\]-~]+$/);
        expect(new URL(raw).href).toBe(result.url);
        expect(checkUrl(result.url, rule)).toEqual(result);
        const parsed = new URL(result.url);
        expect(parsed.username + parsed.password + parsed.hash).toBe('');
        expect(
          parsed.protocol === 'https:' || ['localhost', '127.0.0.1', '[::1]'].includes(parsed.hostname),
        ).toBe(true);
      }),
      { numRuns: 3_000 },
    );
  });
});

describe('the request schemas store what they checked', () => {
  it('keeps the canonical form of webhook_uri and each redirect URI', () => {
    const parsed = v.parse(PatchClientRequestSchema, {
      webhook_uri: 'HTTPS://Hooks.Example.com:443',
      redirect_uris: ['HTTP://LOCALHOST:3000/cb', 'https://App.Example.com'],
    });
    expect(parsed).toEqual({
      webhook_uri: 'https://hooks.example.com/',
      redirect_uris: ['http://localhost:3000/cb', 'https://app.example.com/'],
    });
  });

  it.each([
    [['https://app.example.com/cb', 'HTTPS://APP.EXAMPLE.COM/cb']],
    [['https://app.example.com', 'https://app.example.com/']],
    [['https://app.example.com:443/x', 'https://app.example.com/x']],
    [['http://localhost:80/cb', 'http://LOCALHOST/cb']],
  ])('refuses redirect URIs that are the same in canonical form: %j', (values) => {
    const result = redirects(values);
    expect(result.success).toBe(false);
    expect(result.issues?.map((issue) => issue.message)).toEqual([
      'redirect_uris must not repeat a URL (compared in canonical form)',
    ]);
  });

  it('keeps URIs that differ in path case or query apart', () => {
    expect(
      redirects(['https://app.example.com/CB', 'https://app.example.com/cb', 'https://app.example.com/cb?x'])
        .success,
    ).toBe(true);
  });

  it('names the rule that failed, with the field', () => {
    expect(webhook('https://attacker\\@host.example/').issues?.[0]?.message).toMatch(
      /^webhook_uri must consist of printable ASCII characters without spaces or backslashes/,
    );
    expect(redirects(['http://0177.0.0.1/cb']).issues?.[0]?.message).toMatch(
      /^each redirect URI must be written the way URL parsers read it/,
    );
    expect(webhook('http://localhost/cb').issues?.[0]?.message).toBe('webhook_uri must use https://');
    expect(redirects(['http://app.example.com/cb']).issues?.[0]?.message).toBe(
      'each redirect URI must use https:// (http:// only for the hosts localhost, 127.0.0.1 and [::1])',
    );
  });
});
