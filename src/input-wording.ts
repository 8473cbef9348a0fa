/**
 * Our wording for every input rule zod checks without a message of its own. zod's English
 * ("Invalid input: expected nonoptional, received undefined") would otherwise reach callers
 * through InvalidInput; messages a schema gives itself ("must be at most 200 characters") still
 * win, because zod asks this map only when a check has none. Installed once, for the process,
 * by importing this module (src/errors.ts does, so every InvalidInput sees it).
 */
import { z } from "zod";

type Issue = z.core.$ZodRawIssue;

const TYPE_NAMES: Record<string, string> = {
  string: "text",
  number: "a number",
  int: "a whole number",
  bigint: "a whole number",
  boolean: "true or false",
  array: "a list",
  object: "an object",
  date: "a date",
  null: "null",
};

const UNITS: Record<string, string> = { string: "characters", array: "items", set: "items", map: "entries", file: "bytes" };

/** The message for one issue: what the field must be, never what the library expected. */
export function inputWording(issue: Issue): string {
  switch (issue.code) {
    case "invalid_type": {
      if (issue.input === undefined || issue.expected === "nonoptional") return "is required";
      if (issue.expected === "number" && typeof issue.input === "number") return "must be a finite number";
      return `must be ${TYPE_NAMES[issue.expected] ?? issue.expected}`;
    }
    case "too_small":
    case "too_big": {
      const small = issue.code === "too_small";
      const bound = small ? (issue as { minimum: unknown }).minimum : (issue as { maximum: unknown }).maximum;
      const unit = UNITS[issue.origin ?? ""];
      if (small && unit && Number(bound) === 1 && issue.inclusive !== false) return "must not be empty";
      const relation = issue.exact ? "exactly" : issue.inclusive === false ? (small ? "more than" : "less than") : small ? "at least" : "at most";
      return unit ? `must have ${relation} ${String(bound)} ${unit}` : `must be ${relation} ${String(bound)}`;
    }
    case "invalid_value":
      return issue.values.length === 1
        ? `must be ${JSON.stringify(issue.values[0])}`
        : `must be one of ${issue.values.map((v) => JSON.stringify(v)).join(", ")}`;
    case "invalid_format":
      return "is not in the expected format";
    case "not_multiple_of":
      return `must be a multiple of ${String(issue.divisor)}`;
    case "unrecognized_keys":
      return `has unknown field${issue.keys.length > 1 ? "s" : ""} ${issue.keys.join(", ")}`;
    case "invalid_union":
      return "does not match any accepted form";
    case "invalid_key":
      return "has a key that is not allowed";
    case "invalid_element":
      return "has a value that is not allowed";
    default:
      return "is not valid";
  }
}

z.config({ localeError: inputWording });
