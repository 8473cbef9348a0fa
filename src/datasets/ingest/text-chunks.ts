/** Text uploads: a leading UTF-8 byte-order mark is dropped, and (first pass) every byte is validated. */
import { Utf8Checker } from "./utf8.ts";

export async function* textChunks(chunks: AsyncIterable<Buffer>, validate: boolean): AsyncGenerator<Buffer> {
  const checker = validate ? new Utf8Checker() : null;
  let first = true;
  for await (let buf of chunks) {
    if (checker) buf = checker.check(buf);
    if (first && buf.length > 0) {
      first = false;
      if (buf[0] === 0xef && buf[1] === 0xbb && buf[2] === 0xbf) buf = buf.subarray(3);
    }
    if (buf.length > 0) yield buf;
  }
  checker?.end();
}
