import { describe, expect, it } from "vitest";
import { indexTerms, listingTerms, queryTerms, MAX_TERMS_PER_LISTING } from "../../../src/catalog/search-terms.ts";
import { parseQuery, scoreListing } from "../../../src/catalog/search.ts";

describe("search terms", () => {
  it("indexes Chinese runs as characters and character pairs", () => {
    expect(indexTerms("出租车")).toEqual(["出", "出租", "租", "租车", "车"]);
  });

  it("queries Chinese by pairs, or by the single character", () => {
    expect(queryTerms("出租车")).toEqual(["出租", "租车"]);
    expect(queryTerms("车")).toEqual(["车"]);
  });

  it("splits mixed text into Chinese pairs and lower-cased English words, folding plurals and dropping stop words", () => {
    expect(indexTerms("北京 Taxi Trips of the City")).toEqual(["北", "北京", "京", "taxi", "trip", "city"]);
    expect(queryTerms("cities")).toEqual(["city"]);
    expect(queryTerms("the")).toEqual([]);
  });

  it("normalises full-width letters and digits (NFKC)", () => {
    expect(indexTerms("ＧＰＳ２０２４")).toEqual(["gps2024"]);
  });

  it("caps the terms one listing stores, keeping title terms", () => {
    const long = Array.from({ length: 6000 }, (_, i) => String.fromCodePoint(0x4e00 + i)).join("");
    const terms = listingTerms({ titles: ["空气质量"], tags: [], descriptions: [long] });
    expect(terms.length).toBe(MAX_TERMS_PER_LISTING);
    expect(terms).toContain("空气");
  });

  it("a listing matches only when it holds enough of the query's terms, title above description", () => {
    const base = {
      _id: "lst_1",
      _v: 1,
      ownerId: "o",
      datasetId: "d",
      datasetVersion: 1,
      tags: [],
      category: "TRANSPORT" as const,
      licence: "x",
      permittedUse: "x",
      pricePlan: {} as never,
      indicativeQueryPrice: 0,
      free: true,
      hasFreeTier: false,
      instantAccess: false,
      status: "PUBLISHED" as const,
      statusHistory: [],
      searchTerms: [],
      auditEventIds: [],
      createdAt: "",
      updatedAt: "",
      publishedAt: "",
    };
    const inTitle = { ...base, title: { zh: "城市出租车行程", en: "" }, description: { zh: "", en: "" } };
    const inDescription = { ...base, title: { zh: "交通", en: "" }, description: { zh: "包含出租车数据", en: "" } };
    const partly = { ...base, title: { zh: "出租房屋", en: "" }, description: { zh: "", en: "" } };
    const q = parseQuery("出租车");
    expect(scoreListing(inTitle, q)!.score).toBeGreaterThan(scoreListing(inDescription, q)!.score);
    expect(scoreListing(partly, q)).toBeNull();
  });
});
