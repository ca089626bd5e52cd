import { ApiProperty } from '@nestjs/swagger';
import { IsString, Length } from 'class-validator';
import { NormalizePassword, NotOnlyWhitespace } from './password.transform.js';

export class ChangePasswordDto {
  @ApiProperty({ minLength: 1, maxLength: 128, example: 'correct horse battery staple' })
  @NormalizePassword()
  @IsString()
  @Length(1, 128)
  currentPassword: string;

  @ApiProperty({ minLength: 8, maxLength: 128, description: 'Unicode NFC (lengths count after it); not only whitespace', example: 'a new horse, a new staple' })
  @NormalizePassword()
  @IsString()
  @Length(8, 128)
  @NotOnlyWhitespace()
  newPassword: string;
}
