import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsEmail, IsOptional, IsString, Length, MaxLength } from 'class-validator';
import { NormalizeEmail } from './email.transform.js';
import { NoControlCharacters } from './no-control-characters.js';
import { NormalizePassword, NotOnlyWhitespace } from './password.transform.js';

export class RegisterDto {
  @ApiProperty({ example: 'ada@example.com', maxLength: 254, description: 'Unicode NFC, trimmed and lower-cased' })
  @NormalizeEmail()
  @IsEmail()
  @MaxLength(254)
  email: string;

  @ApiProperty({ example: 'correct horse battery staple', minLength: 8, maxLength: 128, description: 'Unicode NFC (lengths count after it); not only whitespace' })
  @NormalizePassword()
  @IsString()
  @Length(8, 128)
  @NotOnlyWhitespace()
  password: string;

  @ApiPropertyOptional({ example: 'Ada Lovelace', maxLength: 100 })
  @IsOptional()
  @IsString()
  @Length(1, 100)
  @NoControlCharacters()
  displayName?: string;
}
