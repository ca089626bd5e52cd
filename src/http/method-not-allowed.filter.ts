import { type ArgumentsHost, Catch, type INestApplication, MethodNotAllowedException, NotFoundException } from '@nestjs/common';
import type { HttpAdapterHost } from '@nestjs/core';
import { AuthExceptionFilter } from '../auth/index.js';

interface Route {
  method: string;
  path: string;
}

/**
 * Every route the adapter serves, as it will be once the app is initialised. Fastify reports them
 * as they are added (so call this before any route is); Express keeps them on its router.
 */
export function routesOf(app: INestApplication): () => Route[] {
  const adapter = app.getHttpAdapter();
  if (adapter.getType() === 'fastify') {
    const routes: Route[] = [];
    adapter.getInstance().addHook('onRoute', ({ method, url }: { method: string | string[]; url: string }) => {
      for (const one of [method].flat()) routes.push({ method: one, path: url });
    });
    return () => routes;
  }
  type Layer = { route?: { path: string; methods: Record<string, boolean> } };
  return () =>
    (adapter.getInstance().router.stack as Layer[]).flatMap(({ route }) =>
      route ? Object.keys(route.methods).map((method) => ({ method: method.toUpperCase(), path: route.path })) : [],
    );
}

/**
 * The service's error filter: the package's, plus `405 method_not_allowed` with `Allow` for a path
 * that is served, only not with this method, where the adapters would answer 404.
 */
@Catch()
export class MethodNotAllowedFilter extends AuthExceptionFilter {
  private table?: { method: string; pattern: RegExp }[];

  constructor(
    private readonly host: HttpAdapterHost,
    private readonly routes: () => Route[],
  ) {
    super(host);
  }

  override catch(exception: unknown, context: ArgumentsHost): void {
    if (!(exception instanceof NotFoundException)) return super.catch(exception, context);
    const http = this.host.httpAdapter;
    const request = context.switchToHttp().getRequest();
    const allowed = this.allowedMethods(http.getRequestUrl(request).split(/[?#]/)[0]);
    // A route of this method answered 404 itself (or there is none of any method): a real 404.
    if (!allowed.length || allowed.includes(http.getRequestMethod(request))) return super.catch(exception, context);
    http.setHeader(context.switchToHttp().getResponse(), 'Allow', allowed.join(', '));
    super.catch(new MethodNotAllowedException(), context);
  }

  private allowedMethods(path: string): string[] {
    this.table ??= this.routes()
      // CORS answers OPTIONS on every path; that says nothing about the other methods.
      .filter(({ method }) => method !== 'OPTIONS' && method !== '_ALL')
      .map(({ method, path: route }) => ({ method, pattern: patternOf(route) }));
    const methods = new Set(this.table.filter(({ pattern }) => pattern.test(path)).map(({ method }) => method));
    if (methods.has('GET')) methods.add('HEAD');
    return [...methods].sort();
  }
}

/** A route path (`/auth/sessions/:id`, `/docs/*`) as an anchored pattern over request paths. */
function patternOf(path: string): RegExp {
  const segments = path.split('/').map((segment) =>
    segment.includes('*') ? '.*' : segment.includes(':') ? '[^/]+' : segment.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'),
  );
  return new RegExp(`^${segments.join('/')}$`);
}
