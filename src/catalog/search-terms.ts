/**
 * Full-text terms for catalog search, for Chinese (no spaces between words) and English.
 *
 *   Chinese, Japanese, Korean runs → every single character and every pair of adjacent
 *   characters ("出租车" → 出 租 车 出租 租车). A query of two or more such characters looks for
 *   its pairs, so "出租车" finds "城市出租车行程" without a word segmenter or dictionary.
 *   Other letters and digits → lower-cased words, with a light English plural fold
 *   ("trips" → "trip", "cities" → "city"), minus a few stop words.
 *
 * Text is NFKC-normalised first, so full-width letters and digits ("ＧＰＳ", "２０２４") match
 * their ASCII forms. The terms are stored on the listing as an array field and queried with the
 * port's `$contains`; ranking happens in the service (search.ts).
 */

const CJK = /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Hangul}]/u;
const RUN = /[\p{L}\p{N}]+/gu;
const STOP_WORDS = new Set(["a", "an", "and", "the", "of", "in", "on", "for", "to", "with", "by", "or", "at", "from", "is", "are"]);

/** Most terms one listing stores: bounds the document size (titles and tags come first). */
export const MAX_TERMS_PER_LISTING = 4000;
/** Most terms one query looks for. */
export const MAX_QUERY_TERMS = 24;

interface Segment {
  cjk: boolean;
  text: string;
}

function segments(text: string): Segment[] {
  const out: Segment[] = [];
  for (const m of text.normalize("NFKC").toLowerCase().matchAll(RUN)) {
    let current: Segment | null = null;
    for (const ch of m[0]) {
      const cjk = CJK.test(ch);
      if (current && current.cjk === cjk) current.text += ch;
      else {
        current = { cjk, text: ch };
        out.push(current);
      }
    }
  }
  return out;
}

/** Folds simple English plurals so "trips" and "trip" meet. */
function foldWord(w: string): string {
  if (w.length > 4 && w.endsWith("ies")) return `${w.slice(0, -3)}y`;
  if (w.length > 3 && w.endsWith("s") && !w.endsWith("ss") && !w.endsWith("us") && !w.endsWith("is")) return w.slice(0, -1);
  return w;
}

/** Terms a piece of text is found by (unigrams and bigrams of CJK runs, folded words). */
export function indexTerms(text: string): string[] {
  const terms = new Set<string>();
  for (const s of segments(text)) {
    if (s.cjk) {
      const chars = [...s.text];
      chars.forEach((c, i) => {
        terms.add(c);
        if (i + 1 < chars.length) terms.add(c + chars[i + 1]);
      });
    } else if (!STOP_WORDS.has(s.text)) {
      terms.add(foldWord(s.text));
    }
  }
  return [...terms];
}

/** Terms a query looks for: CJK pairs (or the single character), folded words; distinct, capped. */
export function queryTerms(query: string): string[] {
  const terms = new Set<string>();
  for (const s of segments(query)) {
    if (s.cjk) {
      const chars = [...s.text];
      if (chars.length === 1) terms.add(chars[0]!);
      for (let i = 0; i + 1 < chars.length; i++) terms.add(chars[i]! + chars[i + 1]!);
    } else if (!STOP_WORDS.has(s.text)) {
      terms.add(foldWord(s.text));
    }
  }
  return [...terms].slice(0, MAX_QUERY_TERMS);
}

/** The stored term list of a listing: title terms first, so a very long description is what gets cut. */
export function listingTerms(parts: { titles: string[]; tags: string[]; descriptions: string[] }): string[] {
  const all = new Set<string>();
  for (const text of [...parts.titles, ...parts.tags, ...parts.descriptions]) {
    for (const t of indexTerms(text)) {
      if (all.size >= MAX_TERMS_PER_LISTING) return [...all];
      all.add(t);
    }
  }
  return [...all];
}

/** Text compacted for phrase matching: normalised, lower-cased, letters and digits only. */
export function compact(text: string): string {
  return [...text.normalize("NFKC").toLowerCase().matchAll(RUN)].map((m) => m[0]).join("");
}
