import { Matches } from 'class-validator';

/** Any control character (C0, DEL, C1): never part of a name or an email, and U+0000 no Postgres text can hold. */
export const CONTROL_CHARACTER = /\p{Cc}/u;

/** Refuses (400) text with a control character, which would otherwise reach the database (a 500 for U+0000). */
export const NoControlCharacters = (): PropertyDecorator =>
  Matches(new RegExp(`^[^${CONTROL_CHARACTER.source}]*$`, 'u'), { message: '$property must not contain control characters' });
