import { builder } from "../../graphql/builder.ts";
import { ROLES } from "../model.ts";

export const RoleEnum = builder.enumType("Role", {
  description: "OWNER and BUYER are chosen at sign-up; REGULATOR and ADMIN are granted by an admin.",
  values: ROLES,
});
