/** Cell parsing and type inference: the rules of src/datasets/ingest/values.ts. */
import { describe, expect, it } from "vitest";
import {
  classifyText,
  classifyValue,
  daysFromCivil,
  joinTypes,
  parseBoolText,
  parseDateText,
  parseFloatText,
  parseIntText,
  parseTimestampText,
} from "../../../src/datasets/ingest/values.ts";

describe("parsing cells", () => {
  it("reads integers strictly: no leading zeros, no signs but minus, safe range only", () => {
    expect(parseIntText("0")).toBe(0);
    expect(parseIntText("-0")).toBe(0);
    expect(parseIntText("12345")).toBe(12345);
    expect(parseIntText("-2147483649")).toBe(-2147483649);
    expect(parseIntText("9007199254740991")).toBe(9007199254740991);
    for (const bad of ["", "-", "007", "+5", "1.0", "1e3", " 1", "1 ", "12a", "99999999999999999"]) expect(parseIntText(bad)).toBeNaN();
  });

  it("reads decimals with fractions and exponents, not hex, words or leading zeros", () => {
    expect(parseFloatText("3.25")).toBe(3.25);
    expect(parseFloatText("-0.5")).toBe(-0.5);
    expect(parseFloatText(".5")).toBe(0.5);
    expect(parseFloatText("+1e-3")).toBe(0.001);
    expect(parseFloatText("12")).toBe(12);
    for (const bad of ["", ".", "1.", "01.5", "0x10", "NaN", "Infinity", "1e", "1e400", "1,5", "１２"]) expect(parseFloatText(bad)).toBeNaN();
  });

  it("reads booleans in any case; 1/0 only when lenient", () => {
    expect(parseBoolText("TRUE", false)).toBe(1);
    expect(parseBoolText("False", false)).toBe(0);
    expect(parseBoolText("tRuE", false)).toBe(1);
    expect(parseBoolText("1", false)).toBe(-1);
    expect(parseBoolText("1", true)).toBe(1);
    expect(parseBoolText("0", true)).toBe(0);
    expect(parseBoolText("yes", true)).toBe(-1);
  });

  it("reads calendar dates as epoch days and refuses impossible days", () => {
    expect(parseDateText("1970-01-01")).toBe(0);
    expect(parseDateText("2024-02-29")).toBe(daysFromCivil(2024, 2, 29));
    expect(parseDateText("2024-02-29")).toBe(Date.UTC(2024, 1, 29) / 86_400_000);
    expect(parseDateText("1969-12-31")).toBe(-1);
    for (const bad of ["2023-02-29", "2024-13-01", "2024-00-10", "2024-1-01", "24-01-01", "2024/01/01"]) expect(parseDateText(bad)).toBeNaN();
  });

  it("reads timestamps with T or space, optional seconds, fractions and zones; no zone is UTC", () => {
    expect(parseTimestampText("2024-03-01 08:15:32", false)).toBe(Date.UTC(2024, 2, 1, 8, 15, 32));
    expect(parseTimestampText("2024-03-01T08:15", false)).toBe(Date.UTC(2024, 2, 1, 8, 15));
    expect(parseTimestampText("2024-03-01T08:15:32.123456Z", false)).toBe(Date.UTC(2024, 2, 1, 8, 15, 32, 123));
    expect(parseTimestampText("2024-03-01T08:15:32+08:00", false)).toBe(Date.UTC(2024, 2, 1, 0, 15, 32));
    expect(parseTimestampText("2024-03-01T08:15:32-0130", false)).toBe(Date.UTC(2024, 2, 1, 9, 45, 32));
    expect(parseTimestampText("2024-03-01", false)).toBeNaN();
    expect(parseTimestampText("2024-03-01", true)).toBe(Date.UTC(2024, 2, 1));
    for (const bad of ["2024-03-01 24:00", "2024-03-01 08:60", "2024-03-01X08:15", "2024-03-01 08:15:32+25:00", "2024-03-01 08:15 "]) {
      expect(parseTimestampText(bad, true)).toBeNaN();
    }
  });
});

describe("inferring types", () => {
  it("classifies text by the narrowest type it fits", () => {
    expect(classifyText("42")).toBe("int");
    expect(classifyText("4.2")).toBe("float");
    expect(classifyText("true")).toBe("boolean");
    expect(classifyText("2024-01-05")).toBe("date");
    expect(classifyText("2024-01-05 10:00:00")).toBe("timestamp");
    expect(classifyText("浦东新区")).toBe("string");
    expect(classifyText("007")).toBe("string");
    expect(classifyText("110101199003071234")).toBe("string"); // an 18-digit ID number is text
  });

  it("classifies JSON values by their JSON type; strings are never numbers", () => {
    expect(classifyValue(3)).toBe("int");
    expect(classifyValue(3.5)).toBe("float");
    expect(classifyValue(false)).toBe("boolean");
    expect(classifyValue("3")).toBe("string");
    expect(classifyValue("2024-01-05")).toBe("date");
    expect(classifyValue(new Date(0))).toBe("timestamp");
    expect(classifyValue({ a: 1 })).toBeNull();
  });

  it("widens only int→float and date→timestamp; every other mix is string", () => {
    expect(joinTypes(null, "int")).toBe("int");
    expect(joinTypes("int", "float")).toBe("float");
    expect(joinTypes("float", "int")).toBe("float");
    expect(joinTypes("date", "timestamp")).toBe("timestamp");
    expect(joinTypes("int", "boolean")).toBe("string");
    expect(joinTypes("date", "int")).toBe("string");
    expect(joinTypes("string", "int")).toBe("string");
  });
});
