/** URL rules shared by the configuration and the request schemas. */

const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);

/** True for the hosts where plain http:// is acceptable: a developer's own machine. */
export function isLoopbackHost(hostname: string): boolean {
  return LOOPBACK_HOSTS.has(hostname.toLowerCase());
}

function parse(value: string): URL | undefined {
  try {
    return new URL(value);
  } catch {
    return undefined;
  }
}

function hasNoUserInfo(url: URL): boolean {
  return url.username === '' && url.password === '';
}

/** An absolute https:// URL with a host and no user:password part. */
export function isHttpsUrlWithoutUserInfo(value: string): boolean {
  const url = parse(value);
  return url !== undefined && url.protocol === 'https:' && url.hostname !== '' && hasNoUserInfo(url);
}

/** An OAuth redirect target: https://, or http:// only for localhost / 127.0.0.1; no user:password part. */
export function isAcceptableRedirectUri(value: string): boolean {
  const url = parse(value);
  if (url === undefined || url.hostname === '' || !hasNoUserInfo(url)) return false;
  return url.protocol === 'https:' || (url.protocol === 'http:' && isLoopbackHost(url.hostname));
}
