import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { TypeOrmUserStore } from './typeorm-user-store.js';
import { UserEntity } from './user.entity.js';
import { UserStore } from './user-store.js';
import { UsersController } from './users.controller.js';

@Module({
  imports: [TypeOrmModule.forFeature([UserEntity])],
  providers: [{ provide: UserStore, useClass: TypeOrmUserStore }],
  controllers: [UsersController],
  exports: [UserStore],
})
export class UsersModule {}
