import { describe, expect, it } from "vitest";
import { parseSparkConnectUrl } from "../../spark-connect/index.ts";

describe("Spark Connect connection strings", () => {
  it("reads host, port and parameters", () => {
    expect(parseSparkConnectUrl("sc://spark.internal")).toMatchObject({ host: "spark.internal", port: 15002, useSsl: false, token: null });
    expect(parseSparkConnectUrl("sc://10.0.0.5:443/;use_ssl=true;user_id=exchange")).toMatchObject({
      host: "10.0.0.5",
      port: 443,
      useSsl: true,
      userId: "exchange",
    });
    expect(parseSparkConnectUrl("sc://[::1]:15002/;token=abc%3D")).toMatchObject({ host: "::1", token: "abc=", useSsl: true });
  });

  it("refuses malformed strings with the rule", () => {
    expect(() => parseSparkConnectUrl("http://spark:15002")).toThrow(/sc:\/\/host:port/);
    expect(() => parseSparkConnectUrl("sc://spark:99999")).toThrow(/port must be 1–65535/);
    expect(() => parseSparkConnectUrl("sc://spark/;colour=blue")).toThrow(/unknown Spark Connect URL parameter "colour"/);
    expect(() => parseSparkConnectUrl("sc://spark/;session_id=42")).toThrow(/UUID/);
  });
});
