/**
 * The destination policy: the refusals no policy lifts, exact hosts and wildcards, ports, loopback in
 * the local stack only, and the schema a stage file and the function's environment go through.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type DestinationPolicy,
  destinationRefusal,
  hostMatches,
  hostPatternProblem,
  LOCAL_DESTINATION_POLICY,
  parseIpv6,
} from '../../../../functions/contract/destination-policy.ts';

const STAGE: DestinationPolicy = {
  webhookUri: { hosts: ['example.com', '*.example.com'], ports: [8443] },
  redirectUris: { hosts: ['app.example.org'] },
};
const ANY: DestinationPolicy = { anyHost: true };

const ruleOf = (
  raw: string,
  policy: DestinationPolicy = STAGE,
  field: 'webhook_uri' | 'redirect_uris' = 'webhook_uri',
) => destinationRefusal(field, raw, policy)?.rule;

describe('destinationRefusal', () => {
  it.each([
    ['https://hooks.example.com/allowed'],
    ['https://example.com/h'],
    ['https://a.b.example.com/deep?x=1'],
    ['https://hooks.example.com:8443/h'],
  ])('allows %s for webhook_uri', (raw) => {
    expect(destinationRefusal('webhook_uri', raw, STAGE)).toBeUndefined();
  });

  it.each([
    ['https://hooks.attacker.net/x', 'host-not-allowed'],
    ['https://example.com.attacker.net/h', 'host-not-allowed'],
    ['https://badexample.com/h', 'host-not-allowed'],
    ['https://169.254.169.254/latest/meta-data/', 'ip-literal'],
    ['https://10.0.0.7/h', 'ip-literal'],
    ['https://192.168.1.1/h', 'ip-literal'],
    ['https://172.16.0.1/h', 'ip-literal'],
    ['https://127.0.0.1/h', 'ip-literal'],
    ['https://8.8.8.8/h', 'ip-literal'],
    ['https://[::ffff:7f00:1]/', 'ip-literal'],
    ['https://[::ffff:127.0.0.1]/', 'ip-literal'],
    ['https://[::1]/', 'ip-literal'],
    ['https://[fe80::1]/', 'ip-literal'],
    ['https://[fd00::1]/', 'ip-literal'],
    ['https://[2001:db8::1]/', 'ip-literal'],
    // Spellings WHATWG URL turns into 127.0.0.1 / 10.0.0.7: refused as what they become.
    ['https://0x7f.1/', 'ip-literal'],
    ['https://2130706433/', 'ip-literal'],
    ['https://0177.0.0.1/', 'ip-literal'],
    ['https://0xa.0.0.7/', 'ip-literal'],
    ['https://localhost/h', 'loopback'],
    ['https://api.localhost/h', 'loopback'],
    ['https://exa_mple.com/h', 'invalid-host'],
    ['https://hooks/h', 'invalid-host'],
    ['https://example.com./h', 'invalid-host'],
    ['https://hooks.example.com:0/h', 'port'],
    ['https://hooks.example.com:8080/h', 'port'],
    ['http://hooks.example.com/h', 'not-https'],
    ['ftp://hooks.example.com/h', 'not-https'],
    ['https://user:pw@hooks.example.com/h', 'user-info'],
    ['https://user@hooks.example.com/h', 'user-info'],
    ['not a url', 'not-a-url'],
  ])('refuses %s for webhook_uri (%s)', (raw, rule) => {
    expect(ruleOf(raw)).toBe(rule);
  });

  it('applies each field its own list', () => {
    expect(ruleOf('https://app.attacker.net/cb', STAGE, 'redirect_uris')).toBe('host-not-allowed');
    expect(ruleOf('https://app.example.org/cb', STAGE, 'redirect_uris')).toBeUndefined();
    expect(ruleOf('https://app.example.org/cb', STAGE, 'webhook_uri')).toBe('host-not-allowed');
    // webhookUri's ports are not redirectUris' ports.
    expect(ruleOf('https://app.example.org:8443/cb', STAGE, 'redirect_uris')).toBe('port');
  });

  it('names the field, the host and what is allowed, never the path', () => {
    const refusal = destinationRefusal(
      'webhook_uri',
      'https://hooks.attacker.net/secret-path?token=x',
      STAGE,
    );
    expect(refusal?.message).toBe(
      'webhook_uri host hooks.attacker.net is not allowed for webhook_uri on this stage (allowed: example.com, *.example.com)',
    );
    expect(refusal?.message).not.toContain('secret-path');
    expect(destinationRefusal('webhook_uri', 'https://169.254.169.254/x', STAGE)?.message).toContain(
      'link-local',
    );
    expect(
      destinationRefusal('redirect_uris', 'https://x.test/', STAGE, '/redirect_uris/2')?.message,
    ).toMatch(/^\/redirect_uris\/2 /);
  });

  it('with anyHost, allows any name and still refuses what no policy lifts', () => {
    expect(ruleOf('https://hooks.attacker.net/x', ANY)).toBeUndefined();
    expect(ruleOf('https://169.254.169.254/latest/meta-data/', ANY)).toBe('ip-literal');
    expect(ruleOf('https://[::ffff:7f00:1]/', ANY)).toBe('ip-literal');
    expect(ruleOf('https://localhost/', ANY)).toBe('loopback');
    expect(ruleOf('https://exa_mple.com/', ANY)).toBe('invalid-host');
    expect(ruleOf('https://hooks.attacker.net:8443/', ANY)).toBe('port');
    expect(ruleOf('https://hooks.attacker.net:8443/', { anyHost: true, ports: [8443] })).toBeUndefined();
  });

  it('allows loopback only with allowLoopback (the local stack), on any port, http included', () => {
    for (const raw of [
      'http://localhost:3000/cb',
      'http://127.0.0.1/cb',
      'http://[::1]:8080/cb',
      'https://localhost/',
    ]) {
      expect(ruleOf(raw, LOCAL_DESTINATION_POLICY, 'redirect_uris'), raw).toBeUndefined();
      expect(ruleOf(raw, STAGE, 'redirect_uris'), raw).toBeDefined();
    }
    // Mapped and private addresses stay refused in the local stack too.
    expect(ruleOf('https://[::ffff:7f00:1]/', LOCAL_DESTINATION_POLICY)).toBe('ip-literal');
    expect(ruleOf('https://10.0.0.7/h', LOCAL_DESTINATION_POLICY)).toBe('ip-literal');
    expect(ruleOf('https://169.254.169.254/', LOCAL_DESTINATION_POLICY)).toBe('ip-literal');
    expect(ruleOf('https://hooks.example.com/allowed', LOCAL_DESTINATION_POLICY)).toBeUndefined();
    expect(ruleOf('https://hooks.attacker.net/x', LOCAL_DESTINATION_POLICY)).toBe('host-not-allowed');
  });

  it('never lets a private, link-local or mapped IPv4 address through, whatever the policy', () => {
    const policies: DestinationPolicy[] = [
      STAGE,
      ANY,
      LOCAL_DESTINATION_POLICY,
      { anyHost: true, allowLoopback: true },
    ];
    const octet = fc.integer({ min: 0, max: 255 });
    const refusedAddress = fc.oneof(
      octet.chain((b) => octet.map((c) => `10.${b}.${c}.7`)),
      octet.chain((c) => octet.map((d) => `169.254.${c}.${d}`)),
      fc.integer({ min: 16, max: 31 }).map((b) => `172.${b}.0.1`),
      octet.map((d) => `192.168.0.${d}`),
    );
    const spelling = fc.constantFrom(
      (a: string) => a,
      (a: string) => `[::ffff:${a}]`,
      // Hex and decimal forms: WHATWG URL reads them as the same address.
      (a: string) =>
        `0x${a
          .split('.')
          .map((o) => Number(o).toString(16).padStart(2, '0'))
          .join('')}`,
      (a: string) => String(a.split('.').reduce((n, o) => n * 256 + Number(o), 0)),
    );
    fc.assert(
      fc.property(refusedAddress, spelling, fc.constantFrom(...policies), (address, spell, policy) => {
        expect(ruleOf(`https://${spell(address)}/h`, policy)).toBe('ip-literal');
      }),
    );
  });
});

describe('hostMatches', () => {
  it('matches a wildcard on subdomains only, at any depth', () => {
    expect(hostMatches('*.example.com', 'a.example.com')).toBe(true);
    expect(hostMatches('*.example.com', 'a.b.example.com')).toBe(true);
    expect(hostMatches('*.example.com', 'example.com')).toBe(false);
    expect(hostMatches('*.example.com', 'badexample.com')).toBe(false);
    expect(hostMatches('*.example.com', 'example.com.attacker.net')).toBe(false);
    expect(hostMatches('example.com', 'example.com.attacker.net')).toBe(false);
    expect(hostMatches('example.com', 'a.example.com')).toBe(false);
  });

  it('never matches a host that does not end with the suffix after a dot', () => {
    const label = fc.stringMatching(/^[a-z0-9]{1,10}$/);
    fc.assert(
      fc.property(label, label, fc.string({ maxLength: 20 }), (a, b, prefix) => {
        const pattern = `*.${a}.${b}`;
        const host = `${prefix}${a}.${b}`;
        // A subdomain: the suffix after a dot, with a label before that dot (`.a.b` alone is no host).
        const expected = host.endsWith(`.${a}.${b}`) && host !== `.${a}.${b}`;
        expect(hostMatches(pattern, host)).toBe(expected);
        expect(hostMatches(`${a}.${b}`, host)).toBe(host === `${a}.${b}`);
      }),
    );
  });
});

describe('hostPatternProblem', () => {
  it.each(['example.com', '*.example.com', 'hooks.eu-west-1.example.com', 'xn--bcher-kva.example'])(
    'accepts %s',
    (pattern) => {
      expect(hostPatternProblem(pattern)).toBeUndefined();
    },
  );
  it.each([
    'exa_mple.com',
    'Example.com',
    '*.com',
    'com',
    '*',
    '*.*.example.com',
    'a.*.example.com',
    'example.com.',
    'localhost',
    '*.localhost',
    '10.0.0.7',
    'example.123',
    'example.0x1f',
    '[::1]',
    'example.com:443',
    'https://example.com',
    '',
    '-a.example.com',
    'bücher.example',
  ])('refuses %s', (pattern) => {
    expect(hostPatternProblem(pattern)).toBeDefined();
  });
});

describe('parseIpv6', () => {
  it.each([
    ['::1', [0, 0, 0, 0, 0, 0, 0, 1]],
    ['::', [0, 0, 0, 0, 0, 0, 0, 0]],
    ['::ffff:7f00:1', [0, 0, 0, 0, 0, 0xffff, 0x7f00, 1]],
    ['::ffff:127.0.0.1', [0, 0, 0, 0, 0, 0xffff, 0x7f00, 1]],
    ['fe80::1', [0xfe80, 0, 0, 0, 0, 0, 0, 1]],
    ['1:2:3:4:5:6:7:8', [1, 2, 3, 4, 5, 6, 7, 8]],
  ])('reads %s', (text, groups) => {
    expect(parseIpv6(text)).toEqual(groups);
  });
  it.each(['1:2:3', ':::', '1::2::3', '1:2:3:4:5:6:7:8:9', 'g::1', '1:2:3:4:5:6:7::8'])(
    'refuses %s',
    (text) => {
      expect(parseIpv6(text)).toBeUndefined();
    },
  );
});
