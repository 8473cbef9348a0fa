/**
 * Typed named arguments of a SQL statement (`:name` in the text). Every value a caller passes
 * travels as a typed literal, never as SQL text, so no value can change what the statement says.
 */
import { SparkConnectError } from "./errors.ts";

export type SqlScalar =
  | { type: "boolean"; value: boolean }
  | { type: "integer"; value: number }
  | { type: "long"; value: bigint }
  | { type: "double"; value: number }
  | { type: "string"; value: string }
  /** Days since 1970-01-01. */
  | { type: "date"; value: number }
  /** Microseconds since 1970-01-01T00:00:00Z. */
  | { type: "timestamp"; value: bigint }
  | { type: "null"; of: ScalarType };

export type ScalarType = Exclude<SqlScalar["type"], "null">;

export type SqlArgument = SqlScalar | { type: "array"; of: ScalarType; values: SqlScalar[] };

const INT32 = { min: -(2 ** 31), max: 2 ** 31 - 1 };
const INT64 = { min: -(2n ** 63n), max: 2n ** 63n - 1n };

/** The protocol's DataType for a scalar type. */
function dataType(t: ScalarType): Record<string, object> {
  return { [t === "timestamp" ? "timestamp" : t]: {} };
}

function literal(name: string, a: SqlScalar): Record<string, unknown> {
  const bad = (rule: string) => new SparkConnectError("BAD_ARGUMENT", `argument ${name}: ${rule}`);
  switch (a.type) {
    case "boolean":
      if (typeof a.value !== "boolean") throw bad("a boolean argument must be true or false");
      return { boolean: a.value };
    case "integer":
    case "date":
      if (!Number.isInteger(a.value) || a.value < INT32.min || a.value > INT32.max) throw bad(`a ${a.type} argument must be a 32-bit integer`);
      return { [a.type]: a.value };
    case "long":
    case "timestamp":
      if (typeof a.value !== "bigint" || a.value < INT64.min || a.value > INT64.max) throw bad(`a ${a.type} argument must be a 64-bit bigint`);
      return { [a.type]: a.value.toString() };
    case "double":
      if (typeof a.value !== "number") throw bad("a double argument must be a number");
      return { double: a.value };
    case "string":
      if (typeof a.value !== "string") throw bad("a string argument must be a string");
      return { string: a.value };
    case "null":
      return { null: dataType(a.of) };
  }
}

/** The `named_arguments` map of a SQL relation: name → Expression { literal }. */
export function namedArguments(args: Record<string, SqlArgument>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [name, a] of Object.entries(args)) {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) throw new SparkConnectError("BAD_ARGUMENT", `argument name "${name.slice(0, 40)}" must be a SQL identifier`);
    if (a.type === "array") {
      for (const v of a.values)
        if (v.type !== a.of) throw new SparkConnectError("BAD_ARGUMENT", `argument ${name}: every element must be of type ${a.of}`);
      out[name] = { literal: { array: { elements: a.values.map((v) => literal(name, v)) }, data_type: { array: { element_type: dataType(a.of), contains_null: false } } } };
    } else out[name] = { literal: literal(name, a) };
  }
  return out;
}
