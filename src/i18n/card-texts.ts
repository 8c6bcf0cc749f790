import type { Locale } from '../domain/locale.js';
import { en } from './card-texts-en.js';
import { zh, type CardTexts } from './card-texts-zh.js';

export type { CardTexts };

const TEXTS: Record<Locale, CardTexts> = { zh, en };

/** Texts of cards and command answers in `locale`. `{x}` are placeholders (see fill()). */
export function cardTexts(locale: Locale): CardTexts {
  return TEXTS[locale];
}
