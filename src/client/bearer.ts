import type { Middleware } from 'openapi-fetch';
import { errorCode } from './auth-client.error.js';
import type { Fetch } from './auth-client.types.js';
import type { SessionKeeper } from './session-keeper.js';

interface BearerContext {
  keeper: SessionKeeper;
  isTrusted(url: string): boolean;
}

function withToken(request: Request, token: string): Request {
  const headers = new Headers(request.headers);
  headers.set('Authorization', `Bearer ${token}`);
  return new Request(request, { headers });
}

async function codeOf(response: Response): Promise<string | undefined> {
  if (response.status !== 401) return undefined;
  try {
    return errorCode(await response.clone().json());
  } catch {
    return undefined;
  }
}

/** Whether the Bearer token goes with this request: a trusted origin, and no Authorization of the caller's own. */
function wantsToken(context: BearerContext, request: Request): boolean {
  return context.isTrusted(request.url) && !request.headers.has('authorization');
}

/**
 * What follows a response to a request sent with `token`: `token_expired` gets one refresh (shared
 * with every other request waiting on it) and one retry of `retry` with the new token;
 * `session_revoked` ends the session. Anything else is the caller's.
 */
async function settle(context: BearerContext, response: Response, token: string, retry: Request, fetch: Fetch): Promise<Response> {
  const code = await codeOf(response);
  if (code === 'session_revoked') context.keeper.afterRevoked(token);
  if (code !== 'token_expired') return response;
  const fresh = await context.keeper.afterExpired(token);
  if (!fresh) return response;
  const retried = await fetch(withToken(retry, fresh));
  if ((await codeOf(retried)) === 'session_revoked') context.keeper.afterRevoked(fresh);
  return retried;
}

/** `request` with the Bearer token when it is to get one (and a token there is), with its copy for a retry. */
async function authorize(context: BearerContext, request: Request): Promise<{ authorized: Request; token: string; retry: Request } | undefined> {
  if (!wantsToken(context, request)) return undefined;
  const token = await context.keeper.accessToken();
  if (!token) return undefined;
  const retry = request.clone();
  return { authorized: withToken(request, token), token, retry };
}

/** A fetch that sends the Bearer token to trusted origins only, refreshing and retrying once on expiry. */
export function bearerFetch(context: BearerContext, fetch: Fetch): (input: string | URL | Request, init?: RequestInit) => Promise<Response> {
  return async (input, init) => {
    const request = new Request(input, init);
    const sending = await authorize(context, request);
    if (!sending) return fetch(request);
    return settle(context, await fetch(sending.authorized), sending.token, sending.retry, fetch);
  };
}

/** The same for an openapi-fetch client: `api.use(auth.middleware)`, best as its last middleware. */
export function bearerMiddleware(context: BearerContext): Middleware {
  const sent = new WeakMap<Request, { token: string; retry: Request }>();
  return {
    async onRequest({ request }) {
      const sending = await authorize(context, request);
      if (!sending) return undefined;
      sent.set(sending.authorized, { token: sending.token, retry: sending.retry });
      return sending.authorized;
    },
    async onResponse({ request, response, options }) {
      const entry = sent.get(request);
      if (!entry) return undefined;
      sent.delete(request);
      return settle(context, response, entry.token, entry.retry, options.fetch);
    },
  };
}
