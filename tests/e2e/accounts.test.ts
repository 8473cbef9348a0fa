/** Accounts, sessions, API keys and roles through the real HTTP GraphQL API, on every store adapter. */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { availableAdapters, startTestExchange, type TestExchange } from "../support/exchange.ts";

const SIGN_UP = /* GraphQL */ `
  mutation ($input: SignUpInput!) {
    signUp(input: $input) {
      __typename
      ... on MutationSignUpSuccess { data { token expiresAt account { id email roles } } }
      ... on DomainError { code message }
      ... on WeakPassword { reasons }
      ... on InvalidInput { issues { path message } }
    }
  }`;

const SIGN_IN = /* GraphQL */ `
  mutation ($input: SignInInput!) {
    signIn(input: $input) {
      __typename
      ... on MutationSignInSuccess { data { token account { email } } }
      ... on DomainError { code message }
    }
  }`;

const VIEWER = `{ viewer { email roles apiKeys { prefix name active } } }`;

const CREATE_KEY = /* GraphQL */ `
  mutation ($name: String!) {
    createApiKey(input: { name: $name }) {
      __typename
      ... on MutationCreateApiKeySuccess { data { secret apiKey { id prefix name active } } }
      ... on InvalidInput { issues { path message } }
    }
  }`;

const GOOD_PASSWORD = "Correct-Horse-42";

describe.each(availableAdapters())("accounts over HTTP on %s", (adapter) => {
  let ex: TestExchange;
  beforeAll(async () => {
    ex = await startTestExchange(adapter);
  });
  afterAll(async () => {
    await ex?.stop();
  });

  async function signUp(email: string, roles?: string[]) {
    const r = await ex.gql(SIGN_UP, { input: { email, password: GOOD_PASSWORD, ...(roles ? { roles } : {}) } });
    expect(r.body.data.signUp.__typename, JSON.stringify(r.body)).toBe("MutationSignUpSuccess");
    return r.body.data.signUp.data as { token: string; account: { id: string; email: string; roles: string[] } };
  }

  it("signs up, then answers viewer with the session token; anonymous viewer is null", async () => {
    const s = await signUp("Alice@Example.com", ["OWNER", "BUYER"]);
    expect(s.token).toMatch(/^dxs_/);
    expect(s.account.email).toBe("alice@example.com");
    const v = await ex.gql(VIEWER, {}, s.token);
    expect(v.status).toBe(200);
    expect(v.body.data.viewer).toEqual({ email: "alice@example.com", roles: ["OWNER", "BUYER"], apiKeys: [] });
    const anon = await ex.gql(VIEWER);
    expect(anon.body.data.viewer).toBeNull();
  });

  it("refuses a taken email (any case) with EmailTaken and creates nothing", async () => {
    await signUp("bob@example.com");
    const before = await ex.services.accounts.countAccounts();
    const r = await ex.gql(SIGN_UP, { input: { email: "BOB@example.com", password: GOOD_PASSWORD } });
    expect(r.body.data.signUp).toMatchObject({ __typename: "EmailTaken", code: "EMAIL_TAKEN" });
    expect(await ex.services.accounts.countAccounts()).toBe(before);
  });

  it("explains a weak password and an invalid email field by field, creating nothing", async () => {
    const before = await ex.services.accounts.countAccounts();
    const weak = await ex.gql(SIGN_UP, { input: { email: "carol@example.com", password: "short" } });
    expect(weak.body.data.signUp.__typename).toBe("WeakPassword");
    expect(weak.body.data.signUp.reasons).toContain("use at least 10 characters");
    const bad = await ex.gql(SIGN_UP, { input: { email: "not-an-email", password: GOOD_PASSWORD } });
    expect(bad.body.data.signUp.__typename).toBe("InvalidInput");
    expect(bad.body.data.signUp.issues[0].path).toBe("input.email");
    const admin = await ex.gql(SIGN_UP, { input: { email: "dave@example.com", password: GOOD_PASSWORD, roles: ["ADMIN"] } });
    expect(admin.body.data.signUp.__typename).toBe("InvalidInput");
    expect(admin.body.data.signUp.issues[0]).toMatchObject({ path: "input.roles" });
    expect(admin.body.data.signUp.issues[0].message).toMatch(/granted by an admin/);
    expect(await ex.services.accounts.countAccounts()).toBe(before);
  });

  it("signs in with the right password only, with one error for unknown email and wrong password", async () => {
    await signUp("erin@example.com");
    const ok = await ex.gql(SIGN_IN, { input: { email: "ERIN@example.com", password: GOOD_PASSWORD } });
    expect(ok.body.data.signIn.__typename).toBe("MutationSignInSuccess");
    const wrong = await ex.gql(SIGN_IN, { input: { email: "erin@example.com", password: "Wrong-Horse-42" } });
    const unknown = await ex.gql(SIGN_IN, { input: { email: "nobody@example.com", password: GOOD_PASSWORD } });
    expect(wrong.body.data.signIn).toEqual(unknown.body.data.signIn);
    expect(wrong.body.data.signIn.code).toBe("INVALID_CREDENTIALS");
  });

  it("creates an API key shown once, lists it by prefix, authenticates with it, and revokes it", async () => {
    const s = await signUp("frank@example.com", ["BUYER"]);
    const created = await ex.gql(CREATE_KEY, { name: "analytics job" }, s.token);
    const { secret, apiKey } = created.body.data.createApiKey.data;
    expect(secret.startsWith(`${apiKey.prefix}_`)).toBe(true);
    const viaKey = await ex.gql(VIEWER, {}, secret);
    expect(viaKey.body.data.viewer.email).toBe("frank@example.com");
    expect(viaKey.body.data.viewer.apiKeys).toEqual([{ prefix: apiKey.prefix, name: "analytics job", active: true }]);
    expect(JSON.stringify(viaKey.body)).not.toContain(secret.slice(apiKey.prefix.length + 1));

    const revoke = await ex.gql(
      `mutation ($id: ID!) { revokeApiKey(id: $id) { __typename ... on MutationRevokeApiKeySuccess { data { active } } } }`,
      { id: apiKey.id },
      s.token,
    );
    expect(revoke.body.data.revokeApiKey.data.active).toBe(false);
    const after = await ex.gql(VIEWER, {}, secret);
    expect(after.status).toBe(401);
    expect(after.body.errors[0].extensions.code).toBe("UNAUTHENTICATED");
    expect(after.body.errors[0].message).toMatch(/revoked/);
  });

  it("rejects an empty API key name and another account's key id", async () => {
    const s = await signUp("gina@example.com");
    const empty = await ex.gql(CREATE_KEY, { name: "   " }, s.token);
    expect(empty.body.data.createApiKey.issues[0].path).toBe("input.name");
    const other = await signUp("hank@example.com");
    const key = (await ex.gql(CREATE_KEY, { name: "k" }, other.token)).body.data.createApiKey.data.apiKey;
    const steal = await ex.gql(`mutation ($id: ID!) { revokeApiKey(id: $id) { __typename } }`, { id: key.id }, s.token);
    expect(steal.body.data.revokeApiKey.__typename).toBe("NotFound");
    const v = await ex.gql(VIEWER, {}, other.token);
    expect(v.body.data.viewer.apiKeys[0].active).toBe(true);
  });

  it("answers 401 with a specific reason for unknown, malformed and non-bearer credentials", async () => {
    const unknownKey = "dxk_abcdefgh_" + "A".repeat(43);
    const r1 = await ex.gql(VIEWER, {}, unknownKey);
    expect(r1.status).toBe(401);
    expect(r1.body.errors[0]).toMatchObject({ message: "unknown API key", extensions: { code: "UNAUTHENTICATED" } });
    const r2 = await ex.gql(VIEWER, {}, "hello");
    expect(r2.status).toBe(401);
    expect(r2.body.errors[0].message).toMatch(/malformed/);
    const r3 = await fetch(`${ex.url}/graphql`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: "Basic Zm9vOmJhcg==" },
      body: JSON.stringify({ query: VIEWER }),
    });
    expect(r3.status).toBe(401);
  });

  it("signs out a session so its token stops working", async () => {
    const s = await signUp("ivan@example.com");
    const out = await ex.gql(`mutation { signOut { __typename ... on MutationSignOutSuccess { data } } }`, {}, s.token);
    expect(out.body.data.signOut.data).toBe(true);
    const after = await ex.gql(VIEWER, {}, s.token);
    expect(after.status).toBe(401);
    expect(after.body.errors[0].message).toMatch(/signed out/);
  });

  it("lets only admins grant roles and list accounts; everyone else gets NOT_AUTHORIZED and nothing changes", async () => {
    const user = await signUp("judy@example.com");
    const adminAccount = await ex.services.accounts.createAccount("root@example.com", GOOD_PASSWORD, ["ADMIN"]);
    const { secret: adminKey } = await ex.services.accounts.createApiKey(adminAccount._id, "admin");
    const GRANT = `mutation ($id: ID!) { grantRole(accountId: $id, role: REGULATOR) { __typename ... on MutationGrantRoleSuccess { data { roles } } } }`;

    const denied = await ex.gql(GRANT, { id: user.account.id }, user.token);
    expect(denied.body.errors[0].extensions.code).toBe("NOT_AUTHORIZED");
    expect(denied.body.data).toBeNull();
    const anon = await ex.gql(GRANT, { id: user.account.id });
    expect(anon.body.errors[0].extensions.code).toBe("NOT_AUTHORIZED");
    expect((await ex.gql(VIEWER, {}, user.token)).body.data.viewer.roles).toEqual(["BUYER"]);

    const granted = await ex.gql(GRANT, { id: user.account.id }, adminKey);
    expect(granted.body.data.grantRole.data.roles).toEqual(["BUYER", "REGULATOR"]);

    const list = await ex.gql(`{ accounts(first: 2) { edges { node { email } } pageInfo { hasNextPage endCursor } } }`, {}, adminKey);
    expect(list.body.data.accounts.edges).toHaveLength(2);
    expect(list.body.data.accounts.pageInfo.hasNextPage).toBe(true);
    const tooMany = await ex.gql(`{ accounts(first: 500) { edges { node { email } } } }`, {}, adminKey);
    expect(tooMany.body.errors[0].message).toMatch(/first: must be between 1 and 100/);
    const notAdmin = await ex.gql(`{ accounts(first: 2) { edges { node { email } } } }`, {}, user.token);
    expect(notAdmin.body.errors[0].extensions.code).toBe("NOT_AUTHORIZED");
  });
});
