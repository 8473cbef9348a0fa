import { builder } from "../../graphql/builder.ts";
import { DomainErrorInterface } from "../../graphql/error-types.ts";
import { PolicyViolation } from "../errors.ts";

builder.objectType(PolicyViolation, {
  name: "PolicyViolation",
  description: "The query breaks a rule of the dataset's policy or of the exchange; `rule` says which, `path` which input field.",
  interfaces: [DomainErrorInterface],
  isTypeOf: (v) => v instanceof PolicyViolation,
  fields: (t) => ({
    rule: t.exposeString("rule", {
      description:
        "UNKNOWN_COLUMN, COLUMN_NOT_ALLOWED, AGGREGATE_NOT_ALLOWED, VALUE_NOT_IN_KEY_SET, BAD_FILTER, TOO_MANY_AGGREGATES, TOO_MANY_GROUPS, EPSILON_ABOVE_LIMIT, NO_ENTITLEMENT, BUDGET_TOO_SMALL, DERIVED_KEYS_UNAVAILABLE",
    }),
    path: t.exposeString("path"),
  }),
});
