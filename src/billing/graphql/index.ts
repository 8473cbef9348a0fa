/** Registers billing's GraphQL types and fields. */
import "./scalars.ts";
import "./errors.ts";
import "./buyer-types.ts";
import "./buyer-fields.ts";
import "./owner-types.ts";
import "./owner-fields.ts";
import "./subscription-fields.ts";
import "./admin-fields.ts";
