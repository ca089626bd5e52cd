// The reference for `npm run bench`: a bare Nest app on Fastify, one route, no globals (no guard,
// pipe, filter, interceptor, hook or CORS), Nest's own logger at warn. Started by bench/run.mjs as a
// child process exactly like the service: PORT and HOST from the environment, ready when it prints
// "listening on http://…", SIGTERM closes it and exits 0.
import 'reflect-metadata';
import { Controller, Get, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter } from '@nestjs/platform-fastify';

// What `@Controller() class Hello { @Get('hello') hello() {…} }` compiles to, without a compiler.
class Hello {
  hello() {
    return { hello: 'world' };
  }
}
Get('hello')(Hello.prototype, 'hello', Object.getOwnPropertyDescriptor(Hello.prototype, 'hello'));
Controller()(Hello);

class BareModule {}
Module({ controllers: [Hello] })(BareModule);

const port = Number(process.env.PORT ?? 3000);
const host = process.env.HOST ?? '127.0.0.1';
const app = await NestFactory.create(BareModule, new FastifyAdapter(), { logger: ['error', 'warn'] });
await app.listen(port, host);
console.log(`listening on http://${host}:${port}`);
for (const signal of ['SIGTERM', 'SIGINT']) {
  process.once(signal, async () => {
    await app.close();
    process.exit(0);
  });
}
