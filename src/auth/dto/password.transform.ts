import { Transform } from 'class-transformer';
import { Matches } from 'class-validator';

/**
 * Passwords are hashed and compared in Unicode NFC, so the same password typed on keyboards that
 * compose differently (`é` as one code point or as `e` + accent) is the same password. Lengths count after it.
 */
export const NormalizePassword = (): PropertyDecorator => Transform(({ value }) => (typeof value === 'string' ? value.normalize('NFC') : value));

/** A new password must not be only whitespace (NIST SP 800-63B); any other character is allowed. */
export const NotOnlyWhitespace = (): PropertyDecorator => Matches(/\S/, { message: '$property must not be only whitespace' });
