/**
 * Finds secrets in text we produced (responses, log lines), in every form a leak could take: the
 * value itself, its JSON-escaped form (a secret may hold `"` or `\`), its Base64 form, and the Basic
 * `Authorization` value (`base64(client_id:secret)`). JSON texts are also searched after decoding,
 * so a secret escaped once more inside a string value is still found.
 *
 * @example
 * expect(findLeaks([response.body, ...logLines], [SECRET_A], CLIENT_ID)).toEqual([]);
 */

export interface Leak {
  /** Which secret (by index into the list given), never the value, so failures do not spread it. */
  secretIndex: number;
  form: 'value' | 'json-escaped' | 'base64' | 'basic-credentials' | 'id:secret';
}

export function leakForms(secret: string, clientId?: string): { form: Leak['form']; text: string }[] {
  const forms: { form: Leak['form']; text: string }[] = [
    { form: 'value', text: secret },
    { form: 'json-escaped', text: JSON.stringify(secret).slice(1, -1) },
    { form: 'base64', text: Buffer.from(secret).toString('base64') },
  ];
  if (clientId !== undefined) {
    forms.push({ form: 'basic-credentials', text: Buffer.from(`${clientId}:${secret}`).toString('base64') });
    forms.push({ form: 'id:secret', text: `${clientId}:${secret}` });
  }
  // Short values would match ordinary text (our secrets have at least 16 characters); no duplicates.
  const seen = new Set<string>();
  return forms.filter((entry) => {
    if (entry.text.length < 8 || seen.has(entry.text)) return false;
    seen.add(entry.text);
    return true;
  });
}

function stringLeaves(value: unknown, into: string[], depth = 0): void {
  if (depth > 64) return;
  if (typeof value === 'string') into.push(value);
  else if (Array.isArray(value)) for (const item of value) stringLeaves(item, into, depth + 1);
  else if (value !== null && typeof value === 'object') {
    for (const [key, item] of Object.entries(value)) {
      into.push(key);
      stringLeaves(item, into, depth + 1);
    }
  }
}

/** The texts plus, for each one that is JSON, every string (and key) inside it, decoded. */
export function searchCorpus(texts: readonly string[]): string[] {
  const corpus = [...texts];
  for (const text of texts) {
    const trimmed = text.trimStart();
    if (!trimmed.startsWith('{') && !trimmed.startsWith('[')) continue;
    try {
      stringLeaves(JSON.parse(text), corpus);
    } catch {
      // not JSON: searched as is
    }
  }
  return corpus;
}

export function findLeaks(texts: readonly string[], secrets: readonly string[], clientId?: string): Leak[] {
  const corpus = searchCorpus(texts);
  const leaks: Leak[] = [];
  secrets.forEach((secret, secretIndex) => {
    for (const { form, text } of leakForms(secret, clientId)) {
      if (corpus.some((haystack) => haystack.includes(text))) leaks.push({ secretIndex, form });
    }
  });
  return leaks;
}
