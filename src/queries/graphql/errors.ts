import { builder } from "../../graphql/builder.ts";
import { DomainErrorInterface } from "../../graphql/error-types.ts";
import { POLICY_RULES, PolicyViolation } from "../errors.ts";

export const PolicyRuleEnum = builder.enumType("PolicyRule", {
  description: "The rule a refused query or analysis broke (see README, Queries).",
  values: POLICY_RULES,
});

builder.objectType(PolicyViolation, {
  name: "PolicyViolation",
  description: "The query breaks a rule of the dataset's policy or of the exchange; `rule` says which, `path` which input field.",
  interfaces: [DomainErrorInterface],
  isTypeOf: (v) => v instanceof PolicyViolation,
  fields: (t) => ({
    rule: t.expose("rule", { type: PolicyRuleEnum }),
    path: t.exposeString("path"),
  }),
});
