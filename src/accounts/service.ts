/**
 * Accounts, sessions, API keys and roles. Everything here goes through the storage port, so
 * it behaves the same on SQLite and MongoDB; uniqueness (one account per email, one key per
 * hash) is enforced by unique indexes, not by read-then-write checks.
 */
import { z } from "zod";
import { DuplicateKeyError, type Collection, type DocumentStore, type Page, type Stored } from "../store/port.ts";
import { InvalidInput, NotFound, invalidInputFromZod } from "../errors.ts";
import { newId } from "../ids.ts";
import type { Viewer } from "../viewer.ts";
import { COLLECTIONS, ROLES, SELF_SERVICE_ROLES, type Account, type ApiKey, type Role, type Session } from "./model.ts";
import { DECOY_HASH_PROMISE, hashPassword, passwordWeaknesses, verifyPassword } from "./passwords.ts";
import { bearerKind, newApiKeySecret, newSessionToken, sha256Hex } from "./credentials.ts";
import { EmailTaken, InvalidCredentials, Unauthenticated, WeakPassword } from "./errors.ts";
import type { AuditTrail } from "../audit-trail.ts";
import { ACTIONS, SYSTEM_ACTOR, auditEvent } from "../audit-actions.ts";

const email = z
  .string()
  .trim()
  .max(254, "must be at most 254 characters")
  .pipe(z.email("must be an email address like name@example.com"))
  .transform((e) => e.toLowerCase());

const signUpInput = z.object({
  email,
  password: z.string().min(1, "is required"),
  roles: z
    .array(z.enum(ROLES))
    .max(ROLES.length)
    .default(["BUYER"])
    .refine((rs) => rs.length > 0, "pick at least one role")
    .refine(
      (rs) => rs.every((r) => SELF_SERVICE_ROLES.includes(r)),
      "only OWNER and BUYER can be chosen at sign-up; REGULATOR and ADMIN are granted by an admin",
    ),
});

const signInInput = z.object({ email, password: z.string().min(1, "is required").max(1024) });

const apiKeyName = z.string().trim().min(1, "is required").max(80, "must be at most 80 characters");

export interface SignedIn {
  account: Stored<Account>;
  token: string;
  expiresAt: string;
}

/** Who is calling, resolved from a bearer credential: the viewer, with the whole stored account. */
export interface Principal extends Viewer {
  account: Stored<Account>;
}

export interface AccountsServiceOptions {
  sessionTtlMs: number;
  /** Sign-ups, role changes and API keys are recorded here (actor: the account id, never the email). */
  audit: AuditTrail;
  now?: () => Date;
}

export class AccountsService {
  private readonly accounts: Collection<Account>;
  private readonly sessions: Collection<Session>;
  private readonly apiKeys: Collection<ApiKey>;
  private readonly sessionTtlMs: number;
  private readonly now: () => Date;
  private readonly audit: AuditTrail;

  private constructor(
    cols: { accounts: Collection<Account>; sessions: Collection<Session>; apiKeys: Collection<ApiKey> },
    options: AccountsServiceOptions,
  ) {
    this.accounts = cols.accounts;
    this.sessions = cols.sessions;
    this.apiKeys = cols.apiKeys;
    this.sessionTtlMs = options.sessionTtlMs;
    this.now = options.now ?? (() => new Date());
    this.audit = options.audit;
    this.registerAuditFactChecks();
  }

  /** How the audit drift repair tells whether a promised event's fact was written. */
  private registerAuditFactChecks(): void {
    const accountExists = async (e: { subject: Record<string, string> }) => (await this.accounts.get(e.subject.accountId ?? "")) !== null;
    this.audit.drift.registerFactCheck(ACTIONS.accountSignedUp, accountExists);
    this.audit.drift.registerFactCheck(ACTIONS.accountCreated, accountExists);
    const roleApplied = async (e: { eventId: string; subject: Record<string, string> }) =>
      ((await this.accounts.get(e.subject.accountId ?? ""))?.roleEvents ?? []).includes(e.eventId);
    this.audit.drift.registerFactCheck(ACTIONS.roleGranted, roleApplied);
    this.audit.drift.registerFactCheck(ACTIONS.roleRevoked, roleApplied);
    this.audit.drift.registerFactCheck(ACTIONS.apiKeyCreated, async (e) => (await this.apiKeys.get(e.subject.apiKeyId ?? "")) !== null);
    this.audit.drift.registerFactCheck(ACTIONS.apiKeyRevoked, async (e) => Boolean((await this.apiKeys.get(e.subject.apiKeyId ?? ""))?.revokedAt));
  }

  static async open(store: DocumentStore, options: AccountsServiceOptions): Promise<AccountsService> {
    const c = COLLECTIONS;
    return new AccountsService(
      {
        accounts: await store.collection<Account>(c.accounts.name, c.accounts.indexes),
        sessions: await store.collection<Session>(c.sessions.name, c.sessions.indexes),
        apiKeys: await store.collection<ApiKey>(c.apiKeys.name, c.apiKeys.indexes),
      },
      options,
    );
  }

  async signUp(input: { email: string; password: string; roles?: Role[] | null }): Promise<SignedIn> {
    const parsed = signUpInput.safeParse({ ...input, roles: input.roles ?? undefined });
    if (!parsed.success) throw invalidInputFromZod(parsed.error);
    const { email, password, roles } = parsed.data;
    const weak = passwordWeaknesses(password, email);
    if (weak.length > 0) throw new WeakPassword(weak);
    const account = await this.createAccount(email, password, [...new Set(roles)], "signUp");
    return this.startSession(account);
  }

  /** Creates an account with any roles: for the seed and for admin tooling, not for the API. */
  async createAccount(email: string, password: string, roles: Role[], via: "signUp" | "system" = "system"): Promise<Stored<Account>> {
    const id = newId("acc");
    const passwordHash = await hashPassword(password);
    const action = via === "signUp" ? ACTIONS.accountSignedUp : ACTIONS.accountCreated;
    const event = auditEvent(action, {
      eventId: `${action}:${id}`,
      actor: via === "signUp" ? id : SYSTEM_ACTOR,
      subject: { accountId: id },
      data: { roles },
    });
    try {
      return await this.audit.drift.withEvent(event, () =>
        this.accounts.insert({ _id: id, email, passwordHash, roles, createdAt: this.now().toISOString() }),
      );
    } catch (e) {
      if (e instanceof DuplicateKeyError && e.fields.includes("email")) throw new EmailTaken();
      throw e;
    }
  }

  async signIn(input: { email: string; password: string }): Promise<SignedIn> {
    const parsed = signInInput.safeParse(input);
    if (!parsed.success) throw invalidInputFromZod(parsed.error);
    const account = await this.accounts.findOne({ email: parsed.data.email });
    const ok = await verifyPassword(parsed.data.password, account?.passwordHash ?? (await DECOY_HASH_PROMISE));
    if (!account || !ok) throw new InvalidCredentials();
    return this.startSession(account);
  }

  private async startSession(account: Stored<Account>): Promise<SignedIn> {
    const token = newSessionToken();
    const now = this.now();
    const expiresAt = new Date(now.getTime() + this.sessionTtlMs).toISOString();
    await this.sessions.insert({
      _id: sha256Hex(token),
      accountId: account._id,
      createdAt: now.toISOString(),
      expiresAt,
      revokedAt: null,
    });
    return { account, token, expiresAt };
  }

  /** Ends a session; returns false when it was already ended. */
  async signOut(sessionId: string): Promise<boolean> {
    const ended = await this.sessions.updateOne({ _id: sessionId, revokedAt: null }, { $set: { revokedAt: this.now().toISOString() } });
    return ended !== null;
  }

  /** Resolves an `Authorization: Bearer …` value; throws Unauthenticated with the reason. */
  async authenticate(token: string): Promise<Principal> {
    const kind = bearerKind(token);
    if (kind === null) throw new Unauthenticated("malformed bearer credential: expected a dxk_… API key or a dxs_… session token");
    const hash = sha256Hex(token);
    const nowIso = this.now().toISOString();
    if (kind === "session") {
      const session = await this.sessions.get(hash);
      if (!session) throw new Unauthenticated("unknown session token");
      if (session.revokedAt) throw new Unauthenticated("session was signed out");
      if (session.expiresAt <= nowIso) throw new Unauthenticated("session expired; sign in again");
      const account = await this.accounts.get(session.accountId);
      if (!account) throw new Unauthenticated("unknown session token");
      return { account, via: "session", credentialId: session._id, keyPrefix: null };
    }
    const key = await this.apiKeys.findOne({ secretHash: hash });
    if (!key) throw new Unauthenticated("unknown API key");
    if (key.revokedAt) throw new Unauthenticated(`API key ${key.prefix} was revoked`);
    const account = await this.accounts.get(key.accountId);
    if (!account) throw new Unauthenticated("unknown API key");
    // Last use is advisory; at most one write per key per minute.
    if (!key.lastUsedAt || Date.parse(nowIso) - Date.parse(key.lastUsedAt) > 60_000) {
      await this.apiKeys.updateOne({ _id: key._id }, { $set: { lastUsedAt: nowIso } });
    }
    return { account, via: "apiKey", credentialId: key._id, keyPrefix: key.prefix };
  }

  async createApiKey(accountId: string, name: string): Promise<{ apiKey: Stored<ApiKey>; secret: string }> {
    const parsed = apiKeyName.safeParse(name);
    if (!parsed.success) throw invalidInputFromZod(parsed.error, "input.name");
    const active = await this.apiKeys.count({ accountId, revokedAt: null });
    if (active >= 50) throw new InvalidInput([{ path: "input", message: "at most 50 active API keys per account; revoke one first" }]);
    const { secret, prefix } = newApiKeySecret();
    const id = newId("key");
    const event = auditEvent(ACTIONS.apiKeyCreated, {
      eventId: `${ACTIONS.apiKeyCreated}:${id}`,
      actor: accountId,
      subject: { accountId, apiKeyId: id },
      data: {},
    });
    const apiKey = await this.audit.drift.withEvent(event, () =>
      this.apiKeys.insert({
        _id: id,
        accountId,
        name: parsed.data,
        prefix,
        secretHash: sha256Hex(secret),
        createdAt: this.now().toISOString(),
        revokedAt: null,
        lastUsedAt: null,
      }),
    );
    return { apiKey, secret };
  }

  async listApiKeys(accountId: string): Promise<Stored<ApiKey>[]> {
    const page = await this.apiKeys.find({ accountId }, { sort: [["createdAt", -1]], limit: 100 });
    return page.items;
  }

  /** Revokes one of the account's keys (idempotent); NotFound for a key of someone else. */
  async revokeApiKey(accountId: string, keyId: string): Promise<Stored<ApiKey>> {
    const key = await this.apiKeys.get(keyId);
    if (!key || key.accountId !== accountId) throw new NotFound("API key");
    if (key.revokedAt) return key;
    const event = auditEvent(ACTIONS.apiKeyRevoked, {
      eventId: `${ACTIONS.apiKeyRevoked}:${keyId}`,
      actor: accountId,
      subject: { accountId, apiKeyId: keyId },
      data: {},
    });
    const revoked = await this.audit.drift.withEvent(event, () =>
      this.apiKeys.updateOne({ _id: keyId, revokedAt: null }, { $set: { revokedAt: this.now().toISOString() } }),
    );
    return revoked ?? ((await this.apiKeys.get(keyId)) as Stored<ApiKey>);
  }

  getAccount(id: string): Promise<Stored<Account> | null> {
    return this.accounts.get(id);
  }

  listAccounts(first: number, after?: string | null): Promise<Page<Stored<Account>>> {
    return this.accounts.find({}, { sort: [["createdAt", 1]], limit: first, ...(after ? { after } : {}) });
  }

  countAccounts(): Promise<number> {
    return this.accounts.count();
  }

  /** Adds or removes a role with optimistic concurrency, so concurrent grants never lose one. */
  async setRole(accountId: string, role: Role, present: boolean, actor: string = SYSTEM_ACTOR): Promise<Stored<Account>> {
    for (let attempt = 0; attempt < 10; attempt++) {
      const account = await this.accounts.get(accountId);
      if (!account) throw new NotFound("account");
      const has = account.roles.includes(role);
      if (has === present) return account;
      const roles = present ? [...account.roles, role] : account.roles.filter((r) => r !== role);
      const action = present ? ACTIONS.roleGranted : ACTIONS.roleRevoked;
      // Deterministic per attempt; the account keeps it so the drift repair can see it applied.
      const eventId = `${action}:${accountId}:${role}:v${account._v + 1}:${actor}`;
      const event = auditEvent(action, { eventId, actor, subject: { accountId }, data: { role } });
      const updated = await this.audit.drift
        .withEvent(event, async () => {
          const done = await this.accounts.updateVersion(accountId, account._v, { $set: { roles }, $push: { roleEvents: eventId } });
          if (!done) throw new VersionConflict();
          return done;
        })
        .catch((e: unknown) => {
          if (e instanceof VersionConflict) return null;
          throw e;
        });
      if (updated) return updated;
    }
    throw new Error(`role change on ${accountId} kept conflicting`);
  }
}

/** Another change to the account won the optimistic race; try again from its new version. */
class VersionConflict extends Error {}
