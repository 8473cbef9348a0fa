/** A `currency:` argument: an ISO 4217 code (any case), else BAD_USER_INPUT naming the rule. */
import { codedError } from "../../graphql/coded-error.ts";

const ISO_4217 = new Set(Intl.supportedValuesOf("currency").map((c) => c.toLowerCase()));

/** The lower-case code, or the exchange's default when the argument was left out. */
export function currencyArg(given: string | null | undefined, fallback: string): string {
  if (given === null || given === undefined) return fallback;
  const code = given.toLowerCase();
  if (!/^[a-z]{3}$/.test(code) || !ISO_4217.has(code)) {
    throw codedError("BAD_USER_INPUT", `currency: ${JSON.stringify(given.slice(0, 16))} is not an ISO 4217 currency code such as cny or usd`);
  }
  return code;
}
