/**
 * Text from outside (Affix's messages, API Gateway's) made safe to show: shared by the function and the
 * caller client. Pure: no AWS or Node imports.
 *
 * @example
 * boundedText('bad\u0000 value\n'); // 'bad  value'
 */

/** At most this many characters (code points) of outside words are passed on. */
export const MAX_UPSTREAM_TEXT_LENGTH = 500;

// Control characters become a space; format characters (zero-width, bidi controls) go.
const CONTROL_CHARACTERS = /\p{Cc}+/gu;
const INVISIBLE_CHARACTERS = /[\p{Cf}\p{Default_Ignorable_Code_Point}]+/gu;

/**
 * Text from outside made plain: no control or invisible characters, trimmed, at most `maxLength` code
 * points. No secret handling: for text known to hold none (such as API Gateway's own messages).
 */
export function boundedText(text: string, maxLength = MAX_UPSTREAM_TEXT_LENGTH): string {
  const cleaned = text.replace(CONTROL_CHARACTERS, ' ').replace(INVISIBLE_CHARACTERS, '').trim();
  const codePoints = [...cleaned];
  return codePoints.length > maxLength ? `${codePoints.slice(0, maxLength).join('')}…` : cleaned;
}
