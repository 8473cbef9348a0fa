import { codedError } from "../../graphql/coded-error.ts";
import { InvalidInput } from "../../errors.ts";
import { parseEventFilter, type EventFilter } from "../search.ts";

/** Regulators and admins read the log; nobody writes it through the API. */
export const REGULATOR_SCOPES = { $any: { regulator: true, admin: true } } as const;

/** Filter validation for connection fields, which report bad input as BAD_USER_INPUT. */
export function filterOrBadInput(input: unknown): EventFilter {
  try {
    return parseEventFilter(input);
  } catch (e) {
    if (e instanceof InvalidInput) throw codedError("BAD_USER_INPUT", e.message, { issues: e.issues });
    throw e;
  }
}
