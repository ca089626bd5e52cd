import { Transform } from 'class-transformer';

/** An email as it is compared everywhere: Unicode NFC (`é` typed either way is one character), trimmed, lower-cased. */
export const normalizeEmail = (email: string): string => email.normalize('NFC').trim().toLowerCase();

/** Emails are compared normalised everywhere (see normalizeEmail). */
export const NormalizeEmail = (): PropertyDecorator => Transform(({ value }) => (typeof value === 'string' ? normalizeEmail(value) : value));
