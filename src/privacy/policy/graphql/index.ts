/** Registers the privacy-policy GraphQL types and fields. */
import "./errors.ts";
import "./profile.ts";
import "./policy.ts";
import "./mutations.ts";
import "./queries.ts";
export { PrivacyPolicyRef, PublicSizeRef } from "./policy.ts";
export { dropNulls } from "./drop-nulls.ts";
