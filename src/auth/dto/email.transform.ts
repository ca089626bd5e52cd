import { Transform } from 'class-transformer';

/** Emails are compared trimmed and lower-cased everywhere. */
export const NormalizeEmail = (): PropertyDecorator =>
  Transform(({ value }) => (typeof value === 'string' ? value.trim().toLowerCase() : value));
