import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import pg from 'pg';
import { expectErrorBody } from './support/http-contract.js';
import {
  answerOf,
  explainRefreshes,
  type FamilyState,
  graceTiming,
  isTokenPairOf,
  type Presentation,
  GRACE_MARGIN_MS,
  type RevocationReason,
  type Window,
} from './support/refresh-model.js';
import { startTestApp, type TestApp, type TestResponse } from './support/test-app.js';
import { uniqueEmail } from './support/users.js';

// Model-based test of sessions and refresh-token rotation (API.md "Rotation and reuse detection",
// "Logout and revocation"). fast-check draws short random sequences of commands (register, login,
// refresh, parallel bursts, replays of old tokens inside and outside the grace, logouts of every
// kind, session deletion, password change, forged tokens) and runs them against the real service
// over HTTP. A reference model (test/support/refresh-model.ts, plus the users and their sessions
// here) predicts every answer; after every command the service must agree with it:
//   - refresh answers: exactly what the model allows (rule 4: concurrent requests as some serial order);
//   - at most one working refresh token per family: only the model's current one rotates; any other
//     is 200 only inside its grace, and then with the current token, minting nothing;
//   - reuse revokes the whole family; revoked stays revoked (its refresh tokens refused, its access
//     tokens 401 session_revoked);
//   - exactly the model's live access tokens work on GET /users/me, and GET /auth/sessions lists
//     exactly the model's live sessions;
//   - auth_sessions agrees: the same rows, generation = rotations, revoked_at/revoked_reason exactly
//     for the model's revoked families.
// Runs are seeded (MODEL_SEED overrides) and end on the first failure without shrinking (a run costs
// real requests); fast-check then prints the seed, the path and the commands (each with what it
// did). MODEL_DEBUG=1 prints every run's commands.

const SEED = Number(process.env.MODEL_SEED ?? 8_2024);
const GRACE_S = 1;
const MAX_USERS = 4;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface ModelUser {
  id: string;
  email: string;
  password: string;
  oldPasswords: string[];
  families: ModelFamily[];
}

interface ModelFamily extends FamilyState {
  id: string;
  user: ModelUser;
  tokens: string[];
  rotations: Window[];
  revoked: RevocationReason | null;
  /** Every access token ever issued for the family (login, rotations, grace answers). */
  accessTokens: string[];
}

interface Stats {
  rotate: number;
  grace: number;
  reuse: number;
  refusedRevoked: number;
  undecided: number;
  burstsConverged: number;
  strictBurstsOneWinner: number;
  /** Live families that a reuse revoked. */
  revokedByReuse: number;
  sleptMs: number;
  commands: number;
}

const newStats = (): Stats => ({ rotate: 0, grace: 0, reuse: 0, refusedRevoked: 0, undecided: 0, burstsConverged: 0, strictBurstsOneWinner: 0, revokedByReuse: 0, sleptMs: 0, commands: 0 });

class World {
  users: ModelUser[] = [];
  families: ModelFamily[] = [];
  refreshTokensSeen = new Set<string>();
  accessTokensSeen = new Set<string>();
  touchedFamilies = new Set<ModelFamily>();
  touchedUsers = new Set<ModelUser>();

  constructor(readonly stats: Stats) {}

  touch(family: ModelFamily): void {
    this.touchedFamilies.add(family);
    this.touchedUsers.add(family.user);
  }

  touchUser(user: ModelUser): void {
    this.touchedUsers.add(user);
    for (const family of user.families) this.touchedFamilies.add(family);
  }

  revoke(family: ModelFamily, reason: RevocationReason): void {
    family.revoked ??= reason;
    this.touch(family);
  }

  /** Takes the access token of a 200 token pair: it must be one never issued before. */
  takeAccessToken(family: ModelFamily, response: TestResponse): void {
    const token = response.body.accessToken as string;
    expect(this.accessTokensSeen.has(token)).toBe(false);
    this.accessTokensSeen.add(token);
    family.accessTokens.push(token);
  }
}

interface Real {
  app: TestApp;
  db: pg.Pool;
  graceMs: number;
}

async function timed(send: () => Promise<TestResponse>): Promise<{ response: TestResponse; at: Window }> {
  const sentAt = Date.now();
  const response = await send();
  return { response, at: { sentAt, receivedAt: Date.now() } };
}

const refreshRequest = (real: Real, refreshToken: string) => real.app.request('POST', '/auth/refresh', { body: { refreshToken } });

function expectBearerRefused(response: TestResponse, code = 'session_revoked'): void {
  expectErrorBody(response, 401, code);
  expect(response.headers.get('www-authenticate')).toBe('Bearer error="invalid_token"');
}

/** Logs `user` in: a new family in the model. */
async function loginNew(world: World, real: Real, user: ModelUser): Promise<ModelFamily> {
  const response = await real.app.request('POST', '/auth/login', { body: { email: user.email, password: user.password } });
  expect(response.status).toBe(200);
  const sessionId = response.body.sessionId as string;
  expect(isTokenPairOf(response, sessionId)).toBe(true);
  expect(world.families.some((family) => family.id === sessionId)).toBe(false);
  expect(world.refreshTokensSeen.has(response.body.refreshToken)).toBe(false);
  const family: ModelFamily = { id: sessionId, user, tokens: [response.body.refreshToken], rotations: [], revoked: null, accessTokens: [] };
  world.refreshTokensSeen.add(response.body.refreshToken);
  world.takeAccessToken(family, response);
  user.families.push(family);
  world.families.push(family);
  world.touch(family);
  return family;
}

async function registerNew(world: World, real: Real): Promise<ModelUser> {
  const email = uniqueEmail('model');
  const password = `pw-${randomUUID()}`;
  // Padding and case are normalised away (API.md: trimmed and lower-cased).
  const response = await real.app.request('POST', '/auth/register', { body: { email: `  ${email.toUpperCase()} `, password } });
  expect(response.status).toBe(201);
  expect(response.body).toEqual({ id: expect.any(String), email, displayName: null, roles: expect.any(Array), createdAt: expect.any(String) });
  const user: ModelUser = { id: response.body.id, email, password, oldPasswords: [], families: [] };
  world.users.push(user);
  world.touchedUsers.add(user);
  return user;
}

/**
 * Presents `generations` of the family at once (Promise.all) and holds the answers to the model:
 * some serial order must explain them. Updates the family and takes every access token handed out.
 */
async function presentRefreshes(world: World, real: Real, family: ModelFamily, generations: number[]): Promise<string[]> {
  const presentations: Presentation[] = await Promise.all(
    generations.map(async (generation) => ({ generation, ...(await timed(() => refreshRequest(real, family.tokens[generation]))) })),
  );
  const explained = explainRefreshes(family.id, family, presentations, real.graceMs, (token) => world.refreshTokensSeen.has(token));
  for (const { response } of presentations) {
    if (response.status === 200) {
      world.takeAccessToken(family, response);
      world.refreshTokensSeen.add(response.body.refreshToken);
    } else {
      expectErrorBody(response, 401, response.body.code, family.tokens as string[]);
    }
  }
  if (!family.revoked && explained.state.revoked === 'reuse') world.stats.revokedByReuse++;
  family.tokens = [...explained.state.tokens];
  family.rotations = [...explained.state.rotations];
  family.revoked = explained.state.revoked;
  world.touch(family);
  const { stats } = world;
  for (const outcome of explained.outcomes) {
    if (outcome === 'rotate') stats.rotate++;
    else if (outcome === 'current') stats.grace++;
    else if (outcome === 'refresh_token_reused') stats.reuse++;
    else stats.refusedRevoked++;
  }
  stats.undecided += explained.undecided;
  return explained.outcomes;
}

/** After every command: the service, its database and the model agree. */
async function checkInvariants(world: World, real: Real, everything = false): Promise<void> {
  // The database: the same session rows, generation = rotations, revoked exactly where the model says.
  const { rows } = await real.db.query<{ id: string; generation: number; revoked_at: Date | null; revoked_reason: string | null }>(
    'SELECT id, generation, revoked_at, revoked_reason FROM auth_sessions WHERE user_id = ANY($1::text[]) ORDER BY id',
    [world.users.map((user) => user.id)],
  );
  const actual = rows.map((row) => ({ id: row.id, generation: row.generation, revoked: row.revoked_at !== null, reason: row.revoked_reason }));
  const expected = [...world.families]
    .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
    .map((family) => ({ id: family.id, generation: family.tokens.length - 1, revoked: family.revoked !== null, reason: family.revoked }));
  expect(actual).toEqual(expected);

  // Exactly the live families' access tokens work; a revoked family's are refused as session_revoked.
  // After a command: the touched families' first and latest few; at the end of a run: every one.
  const families = everything ? world.families : [...world.touchedFamilies];
  await Promise.all(
    families.flatMap((family) =>
      (everything ? family.accessTokens : [...new Set([family.accessTokens[0], ...family.accessTokens.slice(-3)])]).map(async (accessToken) => {
        const response = await real.app.request('GET', '/users/me', { token: accessToken });
        if (family.revoked) expectBearerRefused(response);
        else {
          expect(response.status).toBe(200);
          expect(response.body.id).toBe(family.user.id);
        }
      }),
    ),
  );

  // Each touched user's session list is exactly its live families, the caller's marked current.
  const users = everything ? world.users : [...world.touchedUsers];
  await Promise.all(
    users.map(async (user) => {
      const live = user.families.filter((family) => !family.revoked);
      if (!live.length) return;
      const caller = live[live.length - 1];
      const response = await real.app.request('GET', '/auth/sessions', { token: caller.accessTokens.at(-1) });
      expect(response.status).toBe(200);
      const listed = (response.body as { id: string; current: boolean }[]).map(({ id, current }) => ({ id, current })).sort((a, b) => a.id.localeCompare(b.id));
      expect(listed).toEqual(live.map((family) => ({ id: family.id, current: family === caller })).sort((a, b) => a.id.localeCompare(b.id)));
    }),
  );
}

// ---- commands -------------------------------------------------------------------------------

function pickFamily(world: Readonly<World>, userIndex: number, familyIndex: number): ModelFamily | undefined {
  if (!world.users.length) return undefined;
  const user = world.users[userIndex % world.users.length];
  return user.families.length ? user.families[familyIndex % user.families.length] : undefined;
}

const label = (family: ModelFamily) => `u${family.user.email.slice(6, 10)}/s${family.id.slice(0, 4)}`;

abstract class Step implements fc.AsyncCommand<World, Real> {
  /** What the step did, for the counterexample fast-check prints. */
  protected did = '';
  abstract check(world: Readonly<World>): boolean;
  protected abstract act(world: World, real: Real): Promise<void>;
  protected abstract describe(): string;

  async run(world: World, real: Real): Promise<void> {
    world.touchedFamilies.clear();
    world.touchedUsers.clear();
    world.stats.commands++;
    await this.act(world, real);
    await checkInvariants(world, real);
  }

  toString(): string {
    return `${this.describe()}${this.did ? ` [${this.did}]` : ''}`;
  }
}

class Register extends Step {
  constructor(private readonly duplicate: boolean) {
    super();
  }
  check(world: Readonly<World>) {
    return this.duplicate ? world.users.length > 0 : world.users.length < MAX_USERS;
  }
  protected async act(world: World, real: Real) {
    if (!this.duplicate) {
      const user = await registerNew(world, real);
      const family = await loginNew(world, real, user);
      this.did = `${label(family)}`;
      return;
    }
    const user = world.users[0];
    const response = await real.app.request('POST', '/auth/register', { body: { email: ` ${user.email.toUpperCase()}`, password: `pw-${randomUUID()}` } });
    expectErrorBody(response, 409, 'email_taken');
  }
  protected describe() {
    return this.duplicate ? 'Register(taken email)' : 'Register';
  }
}

type LoginKind = 'right' | 'wrong' | 'stale';

class Login extends Step {
  constructor(
    private readonly userIndex: number,
    private readonly kind: LoginKind,
  ) {
    super();
  }
  check(world: Readonly<World>) {
    if (!world.users.length) return false;
    return this.kind !== 'stale' || world.users[this.userIndex % world.users.length].oldPasswords.length > 0;
  }
  protected async act(world: World, real: Real) {
    const user = world.users[this.userIndex % world.users.length];
    if (this.kind === 'right') {
      this.did = label(await loginNew(world, real, user));
      return;
    }
    const password = this.kind === 'stale' ? user.oldPasswords.at(-1)! : `${user.password}-wrong`;
    const response = await real.app.request('POST', '/auth/login', { body: { email: user.email, password } });
    expectErrorBody(response, 401, 'invalid_credentials', [password]);
    world.touchUser(user);
  }
  protected describe() {
    return `Login(user ${this.userIndex}, ${this.kind} password)`;
  }
}

/** A burst of `size` concurrent refreshes of the family's current token, every other one of its predecessor when `mixed`. */
class Refresh extends Step {
  constructor(
    private readonly userIndex: number,
    private readonly familyIndex: number,
    private readonly size: number,
    private readonly mixed: boolean,
  ) {
    super();
  }
  check(world: Readonly<World>) {
    return pickFamily(world, this.userIndex, this.familyIndex) !== undefined;
  }
  protected async act(world: World, real: Real) {
    const family = pickFamily(world, this.userIndex, this.familyIndex)!;
    const current = family.tokens.length - 1;
    const generations = Array.from({ length: this.size }, (_, index) => (this.mixed && current > 0 && index % 2 ? current - 1 : current));
    const before = family.revoked;
    const outcomes = await presentRefreshes(world, real, family, generations);
    this.did = `${label(family)} g${current}: ${outcomes.join(', ')}`;
    if (this.size > 1 && !this.mixed && !before) {
      // One successor for all that succeeded; in strict mode exactly one wins.
      const successes = outcomes.filter((outcome) => outcome === 'rotate' || outcome === 'current').length;
      if (real.graceMs > 0 && successes === this.size) world.stats.burstsConverged++;
      if (real.graceMs === 0 && successes === 1) world.stats.strictBurstsOneWinner++;
    }
  }
  protected describe() {
    return this.size === 1 ? `Refresh(${this.userIndex}/${this.familyIndex})` : `Burst(${this.userIndex}/${this.familyIndex}, ${this.size}${this.mixed ? ', with predecessor' : ''})`;
  }
}

/**
 * Presents an already-rotated token. `recent`: the latest rotated one, usually inside its grace.
 * `old`: the first token of the family, after waiting (at most the grace) until it is surely outside.
 * `back`: any token `back` places back in history, as it comes.
 */
class Replay extends Step {
  constructor(
    private readonly userIndex: number,
    private readonly familyIndex: number,
    private readonly pick: 'recent' | 'old' | 'back',
    private readonly back: number,
  ) {
    super();
  }
  /** Among the families with a rotated token: the one drawn, or for `old` the one rotated longest ago. */
  private target(world: Readonly<World>): ModelFamily | undefined {
    const rotated = world.families.filter((family) => family.tokens.length > 1);
    if (!rotated.length) return undefined;
    if (this.pick === 'old') return rotated.reduce((oldest, family) => (family.rotations[0].receivedAt < oldest.rotations[0].receivedAt ? family : oldest));
    return rotated[(this.userIndex * 8 + this.familyIndex) % rotated.length];
  }
  check(world: Readonly<World>) {
    return this.target(world) !== undefined;
  }
  protected async act(world: World, real: Real) {
    const family = this.target(world)!;
    const rotated = family.tokens.length - 1;
    const generation = this.pick === 'recent' ? rotated - 1 : this.pick === 'old' ? 0 : rotated - 1 - (this.back % rotated);
    if (this.pick === 'old') {
      const wait = Math.max(0, family.rotations[0].receivedAt + real.graceMs + 2 * GRACE_MARGIN_MS - Date.now());
      world.stats.sleptMs += wait;
      await sleep(wait);
    }
    const timing = graceTiming(family.rotations[generation], { sentAt: Date.now(), receivedAt: Date.now() }, real.graceMs);
    const outcomes = await presentRefreshes(world, real, family, [generation]);
    this.did = `${label(family)} g${generation} of ${rotated} (${timing} at start): ${outcomes.join(', ')}`;
  }
  protected describe() {
    return `Replay(${this.userIndex}/${this.familyIndex}, ${this.pick === 'back' ? `back ${this.back}` : this.pick})`;
  }
}

class Logout extends Step {
  constructor(
    private readonly userIndex: number,
    private readonly familyIndex: number,
    private readonly via: 'bearer' | 'refresh',
    private readonly back: number,
  ) {
    super();
  }
  check(world: Readonly<World>) {
    return pickFamily(world, this.userIndex, this.familyIndex) !== undefined;
  }
  protected async act(world: World, real: Real) {
    const family = pickFamily(world, this.userIndex, this.familyIndex)!;
    world.touch(family);
    if (this.via === 'bearer') {
      const accessToken = family.accessTokens[family.accessTokens.length - 1 - (this.back % family.accessTokens.length)];
      const response = await real.app.request('POST', '/auth/logout', { token: accessToken });
      this.did = `${label(family)} ${response.status}`;
      if (family.revoked) return expectBearerRefused(response);
      expect(response.status).toBe(204);
      world.revoke(family, 'logout');
      return;
    }
    const generation = family.tokens.length - 1 - (this.back % family.tokens.length);
    const current = generation === family.tokens.length - 1;
    const timing = current ? 'inside' : graceTiming(family.rotations[generation], { sentAt: Date.now(), receivedAt: Date.now() }, real.graceMs);
    const { response, at } = await timed(() => real.app.request('POST', '/auth/logout', { body: { refreshToken: family.tokens[generation] } }));
    const finalTiming = current ? 'inside' : graceTiming(family.rotations[generation], at, real.graceMs);
    this.did = `${label(family)} g${generation} (${timing}): ${answerOf(response, family.tokens)}`;
    // Logging out with a token of the family ends it. With an older token, the contract leaves open
    // whether that is a logout or a reuse (401 refresh_token_reused); either way the family ends.
    // A revoked family stays as it is (idempotent 204, or refused).
    if (response.status === 204) {
      world.revoke(family, 'logout');
      return;
    }
    const allowed = family.revoked ? ['session_revoked'] : [];
    if (!current && finalTiming !== 'inside') allowed.push('refresh_token_reused');
    expect(response.status).toBe(401);
    expect(allowed).toContain(response.body?.code);
    expectErrorBody(response, 401, response.body.code, family.tokens);
    if (response.body.code === 'refresh_token_reused') world.revoke(family, 'reuse');
  }
  protected describe() {
    return `Logout(${this.userIndex}/${this.familyIndex}, by ${this.via}, back ${this.back})`;
  }
}

class LogoutAll extends Step {
  constructor(
    private readonly userIndex: number,
    private readonly familyIndex: number,
  ) {
    super();
  }
  check(world: Readonly<World>) {
    return pickFamily(world, this.userIndex, this.familyIndex) !== undefined;
  }
  protected async act(world: World, real: Real) {
    const family = pickFamily(world, this.userIndex, this.familyIndex)!;
    world.touchUser(family.user);
    const response = await real.app.request('POST', '/auth/logout-all', { token: family.accessTokens.at(-1) });
    this.did = `${label(family)} ${response.status}`;
    if (family.revoked) return expectBearerRefused(response);
    expect(response.status).toBe(204);
    for (const other of family.user.families) world.revoke(other, 'logout_all');
  }
  protected describe() {
    return `LogoutAll(${this.userIndex}/${this.familyIndex})`;
  }
}

class DeleteSession extends Step {
  constructor(
    private readonly userIndex: number,
    private readonly familyIndex: number,
    private readonly target: number,
    private readonly scope: 'own' | 'any' | 'unknown',
  ) {
    super();
  }
  check(world: Readonly<World>) {
    return pickFamily(world, this.userIndex, this.familyIndex) !== undefined;
  }
  protected async act(world: World, real: Real) {
    const caller = pickFamily(world, this.userIndex, this.familyIndex)!;
    world.touch(caller);
    const candidates = this.scope === 'own' ? caller.user.families : world.families;
    const target = this.scope === 'unknown' ? undefined : candidates[this.target % candidates.length];
    if (target) world.touch(target);
    const response = await real.app.request('DELETE', `/auth/sessions/${target?.id ?? randomUUID()}`, { token: caller.accessTokens.at(-1) });
    this.did = `${label(caller)} deletes ${target ? label(target) : 'an unknown id'}: ${response.status}`;
    if (caller.revoked) return expectBearerRefused(response);
    if (!target || target.user !== caller.user) return expectErrorBody(response, 404, 'session_not_found');
    if (!target.revoked) {
      expect(response.status).toBe(204);
      world.revoke(target, 'deleted');
      return;
    }
    // Already ended: no longer one of the caller's (listed) sessions; deleting it again changes nothing.
    if (response.status !== 204) expectErrorBody(response, 404, 'session_not_found');
  }
  protected describe() {
    return `DeleteSession(${this.userIndex}/${this.familyIndex}, ${this.scope} ${this.target})`;
  }
}

class ChangePassword extends Step {
  constructor(
    private readonly userIndex: number,
    private readonly familyIndex: number,
    private readonly wrong: boolean,
  ) {
    super();
  }
  check(world: Readonly<World>) {
    return pickFamily(world, this.userIndex, this.familyIndex) !== undefined;
  }
  protected async act(world: World, real: Real) {
    const family = pickFamily(world, this.userIndex, this.familyIndex)!;
    const user = family.user;
    world.touchUser(user);
    const newPassword = `pw-${randomUUID()}`;
    const currentPassword = this.wrong ? `${user.password}-wrong` : user.password;
    const response = await real.app.request('POST', '/auth/password', { token: family.accessTokens.at(-1), body: { currentPassword, newPassword } });
    this.did = `${label(family)} ${response.status}`;
    if (family.revoked) return expectBearerRefused(response);
    if (this.wrong) return expectErrorBody(response, 401, 'invalid_credentials', [currentPassword, newPassword]);
    expect(response.status).toBe(204);
    for (const other of user.families) if (other !== family) world.revoke(other, 'password_change');
    user.oldPasswords.push(user.password);
    user.password = newPassword;
  }
  protected describe() {
    return `ChangePassword(${this.userIndex}/${this.familyIndex}${this.wrong ? ', wrong current password' : ''})`;
  }
}

/** A forged token: the family's current token with one character changed, to refresh or log out with. */
class Forged extends Step {
  constructor(
    private readonly userIndex: number,
    private readonly familyIndex: number,
    private readonly position: number,
    private readonly via: 'refresh' | 'logout',
  ) {
    super();
  }
  check(world: Readonly<World>) {
    return pickFamily(world, this.userIndex, this.familyIndex) !== undefined;
  }
  protected async act(world: World, real: Real) {
    const family = pickFamily(world, this.userIndex, this.familyIndex)!;
    world.touch(family);
    const token = family.tokens.at(-1)!;
    const at = this.position % token.length;
    const forged = `${token.slice(0, at)}${token[at] === 'A' ? 'B' : 'A'}${token.slice(at + 1)}`;
    const response = await real.app.request('POST', this.via === 'refresh' ? '/auth/refresh' : '/auth/logout', { body: { refreshToken: forged } });
    this.did = `${label(family)} char ${at}: ${response.status} ${response.body?.code}`;
    expectErrorBody(response, 401, 'refresh_token_invalid', [forged, token]);
  }
  protected describe() {
    return `Forged(${this.userIndex}/${this.familyIndex}, char ${this.position}, ${this.via})`;
  }
}

function commandArbitraries(): fc.Arbitrary<Step>[] {
  const user = fc.nat({ max: MAX_USERS - 1 });
  const family = fc.nat({ max: 7 });
  const back = fc.oneof({ weight: 3, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.nat({ max: 20 }) });
  const refresh = fc.tuple(user, family).map(([u, f]) => new Refresh(u, f, 1, false));
  const burst = fc.tuple(user, family, fc.integer({ min: 2, max: 5 }), fc.boolean()).map(([u, f, size, mixed]) => new Refresh(u, f, size, mixed));
  const replay = fc.tuple(user, family, fc.constantFrom<'recent' | 'old' | 'back'>('recent', 'old', 'back'), fc.nat({ max: 20 })).map(
    ([u, f, pick, b]) => new Replay(u, f, pick, b),
  );
  // Listed more than once: drawn more often (rotation is what this is about).
  const arbitraries: fc.Arbitrary<Step>[] = [
    fc.constantFrom(false, false, true).map((duplicate) => new Register(duplicate)),
    fc.tuple(user, fc.constantFrom<LoginKind>('right', 'right', 'wrong', 'stale')).map(([u, kind]) => new Login(u, kind)),
    refresh,
    refresh,
    refresh,
    burst,
    burst,
    replay,
    replay,
    replay,
    fc.tuple(user, family, fc.constantFrom<'bearer' | 'refresh'>('bearer', 'refresh'), back).map(([u, f, via, b]) => new Logout(u, f, via, b)),
    fc.tuple(user, family).map(([u, f]) => new LogoutAll(u, f)),
    fc.tuple(user, family, fc.nat({ max: 15 }), fc.constantFrom<'own' | 'any' | 'unknown'>('own', 'own', 'any', 'unknown')).map(
      ([u, f, target, scope]) => new DeleteSession(u, f, target, scope),
    ),
    fc.tuple(user, family, fc.boolean()).map(([u, f, wrong]) => new ChangePassword(u, f, wrong)),
    fc.tuple(user, family, fc.nat({ max: 100 }), fc.constantFrom<'refresh' | 'logout'>('refresh', 'logout')).map(
      ([u, f, position, via]) => new Forged(u, f, position, via),
    ),
  ];
  return arbitraries;
}

/** Two users with a session each, then the drawn commands, then a check of everything and a last rotation of every live family. */
async function runModel(real: Real, commands: Iterable<fc.AsyncCommand<World, Real, boolean>>, stats: Stats): Promise<void> {
  const world = new World(stats);
  const setup = async () => {
    for (let index = 0; index < 2; index++) {
      const user = await registerNew(world, real);
      await loginNew(world, real, user);
    }
    await checkInvariants(world, real, true);
    return { model: world, real };
  };
  await fc.asyncModelRun(setup, commands);
  if (process.env.MODEL_DEBUG) console.log(String(commands));
  await checkInvariants(world, real, true);
  // Every live family's current token still rotates: it is the one working token of its family.
  for (const family of world.families.filter((candidate) => !candidate.revoked)) {
    expect(await presentRefreshes(world, real, family, [family.tokens.length - 1])).toEqual(['rotate']);
  }
  await checkInvariants(world, real, true);
}

// The reference model itself must be able to say no: answers that break the contract are refused.
describe('the reference model', () => {
  const now = Date.now();
  const window = (from: number) => ({ sentAt: now + from, receivedAt: now + from + 5 });
  const token = (letter: string) => letter.repeat(43);
  const pair = (refreshToken: string, sessionId = 's') => ({
    status: 200,
    headers: new Headers(),
    body: { accessToken: randomUUID(), tokenType: 'Bearer', expiresIn: 900, refreshToken, refreshTokenExpiresIn: 60, sessionId },
  });
  const refused = (code: string) => ({ status: 401, headers: new Headers(), body: { code } });
  const longAgo: FamilyState = { tokens: [token('a'), token('b')], rotations: [window(-5000)], revoked: null };
  const justNow: FamilyState = { tokens: [token('a'), token('b')], rotations: [window(-100)], revoked: null };
  const explain = (state: FamilyState, graceMs: number, answers: [number, TestResponse][]) =>
    explainRefreshes('s', state, answers.map(([generation, response]) => ({ generation, at: window(0), response })), graceMs, () => false);

  it('accepts what the contract allows', () => {
    expect(explain(longAgo, 1000, [[1, pair(token('c'))], [1, pair(token('c'))]]).outcomes).toEqual(['rotate', 'current']);
    expect(explain(longAgo, 0, [[1, pair(token('c'))], [1, refused('refresh_token_reused')]]).state.revoked).toBe('reuse');
    expect(explain(justNow, 1000, [[0, pair(token('b'))]]).outcomes).toEqual(['current']);
    expect(explain(longAgo, 1000, [[0, refused('refresh_token_reused')]]).state.revoked).toBe('reuse');
  });

  it.each([
    ['two successors for one token', longAgo, 1000, [[1, pair(token('c'))], [1, pair(token('d'))]]],
    ['two winners in strict mode', longAgo, 0, [[1, pair(token('c'))], [1, pair(token('c'))]]],
    ['an old token past the grace answered 200', longAgo, 1000, [[0, pair(token('b'))]]],
    ['an old token inside the grace refused as reuse', justNow, 1000, [[0, refused('refresh_token_reused')]]],
    ['an old token inside the grace answered with a new token (a branch)', justNow, 1000, [[0, pair(token('z'))]]],
    ['a revoked family rotating', { ...longAgo, revoked: 'logout' }, 1000, [[1, pair(token('c'))]]],
    ['a rotation handing out an old token again', longAgo, 1000, [[1, pair(token('a'))]]],
    ['a token pair of another session', longAgo, 1000, [[1, pair(token('c'), 'other')]]],
  ] as [string, FamilyState, number, [number, TestResponse][]][])('refuses %s', (_name, state, graceMs, answers) => {
    expect(() => explain(state, graceMs, answers)).toThrow(/no one-after-another order/);
  });
});

const BASE_ENV = { RATE_LIMIT: 'off', DB_POOL_SIZE: '20' };

describe('model-based: sessions and rotation against a reference model', () => {
  let db: pg.Pool;
  beforeAll(() => {
    db = new pg.Pool({ connectionString: process.env.TEST_DATABASE_URL, max: 3 });
  });
  afterAll(() => db.end());

  describe(`with a reuse grace of ${GRACE_S} s`, () => {
    let app: TestApp;
    beforeAll(async () => {
      app = await startTestApp({ ...BASE_ENV, REFRESH_REUSE_GRACE: String(GRACE_S) });
    });
    afterAll(() => app.close());

    it('answers every command as the model predicts, and keeps its invariants after each', async () => {
      const stats = newStats();
      const real = { app, db, graceMs: GRACE_S * 1000 };
      await fc.assert(
        fc.asyncProperty(fc.commands(commandArbitraries(), { maxCommands: 14, size: 'max' }), (commands) => runModel(real, commands, stats)),
        { seed: SEED, numRuns: 20, endOnFailure: true },
      );
      console.log(`model (grace ${GRACE_S} s, seed ${SEED}): ${JSON.stringify(stats)}`);
      // The runs reached both sides of the grace, converging bursts and reuse.
      expect(stats.rotate).toBeGreaterThan(0);
      expect(stats.grace).toBeGreaterThan(0);
      expect(stats.reuse).toBeGreaterThan(0);
      expect(stats.revokedByReuse).toBeGreaterThan(0);
      expect(stats.burstsConverged).toBeGreaterThan(0);
    }, 90_000);
  });

  describe('in strict mode (REFRESH_REUSE_GRACE=0)', () => {
    let app: TestApp;
    beforeAll(async () => {
      app = await startTestApp({ ...BASE_ENV, REFRESH_REUSE_GRACE: '0' });
    });
    afterAll(() => app.close());

    it('answers every command as the model predicts: any second presentation is reuse', async () => {
      const stats = newStats();
      const real = { app, db, graceMs: 0 };
      await fc.assert(
        fc.asyncProperty(fc.commands(commandArbitraries(), { maxCommands: 12, size: 'max' }), (commands) => runModel(real, commands, stats)),
        { seed: SEED + 1, numRuns: 15, endOnFailure: true },
      );
      console.log(`model (strict, seed ${SEED + 1}): ${JSON.stringify(stats)}`);
      expect(stats.rotate).toBeGreaterThan(0);
      expect(stats.reuse).toBeGreaterThan(0);
      expect(stats.grace).toBe(0);
      expect(stats.revokedByReuse).toBeGreaterThan(0);
      expect(stats.strictBurstsOneWinner).toBeGreaterThan(0);
    }, 90_000);
  });
});
