/** Registers the accounts module's GraphQL types and fields. */
import "./errors.ts";
import "./account.ts";
import "./api-key.ts";
import "./queries.ts";
import "./session-mutations.ts";
import "./api-key-mutations.ts";
import "./role-mutations.ts";
