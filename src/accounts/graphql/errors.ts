import { builder } from "../../graphql/builder.ts";
import { DomainErrorInterface, errorType } from "../../graphql/error-types.ts";
import { EmailTaken, InvalidCredentials, WeakPassword } from "../errors.ts";

errorType(EmailTaken, "EmailTaken", "An account with this email already exists.");
errorType(InvalidCredentials, "InvalidCredentials", "The email or the password is wrong (which one is not said).");

builder.objectType(WeakPassword, {
  name: "WeakPassword",
  description: "The password breaks one or more rules; `reasons` lists them.",
  interfaces: [DomainErrorInterface],
  isTypeOf: (v) => v instanceof WeakPassword,
  fields: (t) => ({ reasons: t.exposeStringList("reasons") }),
});
