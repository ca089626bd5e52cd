import type { TestResponse } from './test-app.js';

// A reference model of one refresh-token family (API.md "Rotation and reuse detection"), used by the
// model-based and fault specs to predict every answer of POST /auth/refresh.
//
// Time is the client's clock (Date.now(), the same host as the database): what the server did in
// answer to a request happened after the request was sent and before its answer was received, so
// every server-side instant is known as a window. A token rotated in the window R and presented again
// in the window P is surely inside the grace when P ends less than the grace after R starts, surely
// outside when P starts at least the grace after R ends; in between the model accepts either answer
// (and learns which from the answer). A margin absorbs clock granularity.

/** Client-clock bounds (ms) of something the server did: after `sentAt`, before `receivedAt`. */
export interface Window {
  sentAt: number;
  receivedAt: number;
}

export type RevocationReason = 'logout' | 'logout_all' | 'deleted' | 'password_change' | 'reuse';

/** What the model knows of a family. */
export interface FamilyState {
  /** Every refresh token the family has had, in generation order: the last one is its current token. */
  readonly tokens: readonly string[];
  /** When each token but the last was rotated: rotations[g] is the rotation of tokens[g]. */
  readonly rotations: readonly Window[];
  /** Why the family was revoked (the first revocation wins), or null while it lives. */
  readonly revoked: RevocationReason | null;
}

export const GRACE_MARGIN_MS = 25;

export type GraceTiming = 'inside' | 'outside' | 'either';

/** Whether a token rotated in `rotation` and presented in `presented` is within the reuse grace. */
export function graceTiming(rotation: Window, presented: Window, graceMs: number): GraceTiming {
  // Strict mode: any second presentation is reuse.
  if (graceMs <= 0) return 'outside';
  if (presented.receivedAt - rotation.sentAt < graceMs - GRACE_MARGIN_MS) return 'inside';
  if (presented.sentAt - rotation.receivedAt >= graceMs + GRACE_MARGIN_MS) return 'outside';
  return 'either';
}

/** What the contract allows as the answer to one presentation, and the family afterwards. */
export type Branch =
  | { expect: 'rotate' }
  | { expect: 'current'; next: FamilyState }
  | { expect: 'refused'; code: string; next: FamilyState };

/**
 * The answers API.md allows when `generation` of the family in `state` is presented at `at`:
 * - its current token: a rotation (200, a new token) while the family lives, else 401 session_revoked;
 * - an older token inside the grace: 200 with the family's current token, minting nothing, while it
 *   lives, else 401 session_revoked;
 * - an older token outside the grace: 401 refresh_token_reused, and the family is revoked. Rule 2
 *   ("presented at any other time: reuse") is read as applying whatever became of the family since,
 *   so a replay behind an earlier revocation hears the same answer (test/rotation.e2e-spec.ts).
 */
export function refreshBranches(state: FamilyState, generation: number, at: Window, graceMs: number): Branch[] {
  const current = state.tokens.length - 1;
  if (generation === current) {
    return state.revoked ? [{ expect: 'refused', code: 'session_revoked', next: state }] : [{ expect: 'rotate' }];
  }
  const timing = graceTiming(state.rotations[generation], at, graceMs);
  const branches: Branch[] = [];
  if (timing !== 'outside') {
    branches.push(state.revoked ? { expect: 'refused', code: 'session_revoked', next: state } : { expect: 'current', next: state });
  }
  if (timing !== 'inside') branches.push({ expect: 'refused', code: 'refresh_token_reused', next: { ...state, revoked: state.revoked ?? 'reuse' } });
  return branches;
}

/** A refresh token as the contract describes it: opaque base64url, at least 256 bits. */
export const REFRESH_TOKEN_SHAPE = /^[A-Za-z0-9_-]{43,}$/;

/** True when `response` is a token pair of the session `sessionId`. */
export function isTokenPairOf(response: TestResponse, sessionId: string): boolean {
  const body = response.body;
  return (
    response.status === 200 &&
    typeof body === 'object' &&
    body !== null &&
    body.sessionId === sessionId &&
    body.tokenType === 'Bearer' &&
    typeof body.accessToken === 'string' &&
    typeof body.expiresIn === 'number' &&
    typeof body.refreshTokenExpiresIn === 'number' &&
    typeof body.refreshToken === 'string' &&
    REFRESH_TOKEN_SHAPE.test(body.refreshToken)
  );
}

/** One POST /auth/refresh as it was sent (which generation of the family) and answered. */
export interface Presentation {
  generation: number;
  at: Window;
  response: TestResponse;
}

export interface Explained {
  state: FamilyState;
  /** How each presentation was explained, in the order given: rotate, current, or the refusal code. */
  outcomes: string[];
  /** How many presentations of older tokens fell into the undecided band around the grace. */
  undecided: number;
}

/**
 * Rule 4: concurrent requests give the same outcome as some one-after-another order of them. Finds
 * the orders in which the model answers every presentation exactly as the service did and returns
 * the family afterwards; throws when there is none (the service broke the contract), or when orders
 * that explain the answers leave the family in different states (the model cannot tell, so neither
 * could a client). `seen(token)` tells whether a token was ever handed out before (a rotation must
 * mint a token never seen).
 */
export function explainRefreshes(
  sessionId: string,
  state: FamilyState,
  presentations: Presentation[],
  graceMs: number,
  seen: (token: string) => boolean,
): Explained {
  const finals: { state: FamilyState; outcomes: string[] }[] = [];
  const search = (current: FamilyState, remaining: number[], outcomes: string[]) => {
    if (finals.length > 64) return;
    if (!remaining.length) {
      finals.push({ state: current, outcomes });
      return;
    }
    for (const index of remaining) {
      const { generation, at, response } = presentations[index];
      const rest = remaining.filter((other) => other !== index);
      for (const branch of refreshBranches(current, generation, at, graceMs)) {
        const record = (label: string) => outcomes.map((outcome, position) => (position === index ? label : outcome));
        if (branch.expect === 'rotate') {
          const fresh = response.body?.refreshToken;
          if (!isTokenPairOf(response, sessionId) || current.tokens.includes(fresh) || seen(fresh)) continue;
          const next: FamilyState = {
            tokens: [...current.tokens, fresh],
            rotations: [...current.rotations, at],
            revoked: current.revoked,
          };
          search(next, rest, record('rotate'));
        } else if (branch.expect === 'current') {
          if (!isTokenPairOf(response, sessionId) || response.body.refreshToken !== current.tokens.at(-1)) continue;
          search(branch.next, rest, record('current'));
        } else {
          if (response.status !== 401 || response.body?.code !== branch.code) continue;
          search(branch.next, rest, record(branch.code));
        }
      }
    }
  };
  search(state, presentations.map((_, index) => index), presentations.map(() => ''));

  const describe = () =>
    JSON.stringify(
      {
        family: { generation: state.tokens.length - 1, revoked: state.revoked, rotated: state.rotations.map((window) => ageOf(window)) },
        graceMs,
        presentations: presentations.map(({ generation, at, response }) => ({
          generation,
          sentMsAgo: Date.now() - at.sentAt,
          tookMs: at.receivedAt - at.sentAt,
          answer: answerOf(response, state.tokens),
        })),
      },
      null,
      1,
    );
  if (!finals.length) throw new Error(`no one-after-another order of these refreshes gives the service's answers:\n${describe()}`);
  const keyOf = (candidate: FamilyState) => JSON.stringify([candidate.tokens, candidate.revoked]);
  const keys = new Set(finals.map(({ state: candidate }) => keyOf(candidate)));
  if (keys.size > 1) throw new Error(`the answers leave the family in ${keys.size} different states:\n${describe()}`);

  // Orders that agree on the state may disagree on which request rotated when: keep the widest window.
  const [first] = finals;
  const rotations = first.state.rotations.map((_window, generation) => ({
    sentAt: Math.min(...finals.map((final) => final.state.rotations[generation].sentAt)),
    receivedAt: Math.max(...finals.map((final) => final.state.rotations[generation].receivedAt)),
  }));
  const merged: FamilyState = { ...first.state, rotations };
  const undecided = presentations.filter(
    ({ generation, at }) => generation < merged.rotations.length && graceTiming(merged.rotations[generation], at, graceMs) === 'either',
  ).length;
  return { state: merged, outcomes: first.outcomes, undecided };
}

function ageOf(window: Window): string {
  return `${Date.now() - window.receivedAt}-${Date.now() - window.sentAt} ms ago`;
}

/** An answer for a failure message, tokens named by their place in the family, never spelled out. */
export function answerOf(response: TestResponse, tokens: readonly string[]): string {
  if (response.status !== 200) return `${response.status} ${response.body?.code ?? JSON.stringify(response.body)}`;
  const token = response.body?.refreshToken;
  const generation = tokens.indexOf(token);
  return `200 ${generation >= 0 ? `token of generation ${generation}` : 'a token not seen before'} (session ${response.body?.sessionId})`;
}
