import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { ExpressAdapter } from '@nestjs/platform-express';
import { AppModule } from './app.module.js';

// Bootstrap only: no global pipe, filter or body plugin. AuthModule brings what its routes need.
const app = await NestFactory.create(AppModule, new ExpressAdapter());
app.enableShutdownHooks();
await app.listen(Number(process.env.PORT ?? 3000), '127.0.0.1');
