/**
 * Characters a client's `name` must not hold besides controls and unpaired surrogates (which the
 * request schema refuses itself). Affix Connect shows the name to end users, so nothing may make it
 * display as something other than its characters, or change between what we check and what is shown.
 * Pure: no AWS or Node imports.
 *
 * @example
 * forbiddenNameCharacter('Invoice\u202Egnp.exe'); // { codePoint: 0x202e, kind: 'bidi-control' }
 */

export type ForbiddenNameKind = 'bidi-control' | 'line-separator' | 'tag-character' | 'noncharacter';

export interface ForbiddenNameCharacter {
  readonly codePoint: number;
  readonly kind: ForbiddenNameKind;
}

/** Why each kind is refused, for the message. */
export const FORBIDDEN_NAME_REASONS: Readonly<Record<ForbiddenNameKind, string>> = {
  // Embeddings and overrides (U+202A-202E), isolates (U+2066-2069), the marks LRM/RLM (U+200E/200F) and
  // the Arabic letter mark (U+061C) reorder the text around them: `Invoice\u202Egnp.exe` shows as
  // "Invoiceexe.png" (the "Trojan Source" trick).
  'bidi-control': 'a bidirectional control, which changes the order in which the name is displayed',
  // U+2028/U+2029 break lines where a name is shown on one line (and end a line in a log or a script).
  'line-separator': 'a line or paragraph separator, which breaks the name onto several lines',
  // U+E0000-E007F are invisible, yet programs still read them: text hidden in plain sight.
  'tag-character': 'an invisible tag character, which hides text that programs still read',
  // U+FDD0-FDEF and U+xFFFE/xFFFF are for a program's internal use, never for interchange: a system
  // on the way may drop or replace them, so what is shown would differ from what was checked.
  noncharacter: 'a noncharacter, which is not meant for interchange and may be dropped or replaced',
};

function kindOf(codePoint: number): ForbiddenNameKind | undefined {
  if (
    (codePoint >= 0x202a && codePoint <= 0x202e) ||
    (codePoint >= 0x2066 && codePoint <= 0x2069) ||
    codePoint === 0x200e ||
    codePoint === 0x200f ||
    codePoint === 0x061c
  ) {
    return 'bidi-control';
  }
  if (codePoint === 0x2028 || codePoint === 0x2029) return 'line-separator';
  if (codePoint >= 0xe0000 && codePoint <= 0xe007f) return 'tag-character';
  if ((codePoint >= 0xfdd0 && codePoint <= 0xfdef) || (codePoint & 0xfffe) === 0xfffe) return 'noncharacter';
  return undefined;
}

/** The first forbidden character of a name, or undefined. */
export function forbiddenNameCharacter(name: string): ForbiddenNameCharacter | undefined {
  for (const character of name) {
    const codePoint = character.codePointAt(0) ?? 0;
    const kind = kindOf(codePoint);
    if (kind !== undefined) return { codePoint, kind };
  }
  return undefined;
}

/** `U+202E`: how a message names a code point (never the character itself, which would act). */
export function codePointLabel(codePoint: number): string {
  return `U+${codePoint.toString(16).toUpperCase().padStart(4, '0')}`;
}

/** Why a name is refused for its characters, in words, or undefined. */
export function nameCharacterProblem(name: string): string | undefined {
  const found = forbiddenNameCharacter(name);
  if (found === undefined) return undefined;
  return `name must not contain ${codePointLabel(found.codePoint)}: it is ${FORBIDDEN_NAME_REASONS[found.kind]}`;
}
