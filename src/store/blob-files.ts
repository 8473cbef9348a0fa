/**
 * The file-system blob store: blob "a/b/c" is the file `<dir>/a/b/c`.
 *
 * Keys are validated with assertBlobKey (segments of [A-Za-z0-9._-], never "." or ".."),
 * so a key cannot leave `dir`. A put writes a temporary file beside the target and renames
 * it over the target, so readers see the old blob or the new one, never a torn one.
 * Directories emptied by deletes are removed.
 *
 * File names are limited (255 bytes) but key segments are not, so a segment longer than
 * MAX_PIECE characters is split into pieces: every piece but the last is a directory named
 * "<piece>~" ("~" marks "the segment continues inside"), the last piece is an ordinary name.
 * "~" cannot occur in a key, so these never clash with ordinary segments; temporary files
 * are named "~tmp.*" and are neither, so they never show up as keys.
 *
 * Because key segments are path segments, a key cannot be both a blob and a "directory"
 * of other blobs ("a/b" and "a/b/c"): such a put throws StoreUsageError.
 */
import { randomBytes } from "node:crypto";
import { mkdir, open, readdir, readFile, rename, rmdir, stat, unlink } from "node:fs/promises";
import { dirname, join, resolve, sep } from "node:path";
import { assertBlobKey, StoreUsageError, type BlobStore } from "./port.ts";

const SEGMENT = /^[A-Za-z0-9._-]+$/;
/** A directory holding the continuation of a long segment: "<piece>~". */
const CONTINUED = /^([A-Za-z0-9._-]+)~$/;
const MAX_PIECE = 200;

/**
 * The path components for one key segment. Long segments are cut into MAX_PIECE-character
 * pieces, except that the last piece is always at least 3 characters, so it is never "."
 * or ".." (which the file system would interpret).
 */
function segmentPath(segment: string): string[] {
  const parts: string[] = [];
  let rest = segment;
  while (rest.length > MAX_PIECE) {
    const size = rest.length - MAX_PIECE >= 3 ? MAX_PIECE : rest.length - 3;
    parts.push(`${rest.slice(0, size)}~`);
    rest = rest.slice(size);
  }
  parts.push(rest);
  return parts;
}

function keyPath(segments: string[]): string[] {
  return segments.flatMap(segmentPath);
}

function errCode(err: unknown): string | undefined {
  return typeof err === "object" && err !== null && "code" in err ? String((err as { code: unknown }).code) : undefined;
}

export async function openFileBlobStore(dir: string): Promise<BlobStore> {
  const root = resolve(dir);
  await mkdir(root, { recursive: true });
  return new FileBlobStore(root);
}

class FileBlobStore implements BlobStore {
  readonly kind = "files" as const;
  readonly #root: string;

  constructor(root: string) {
    this.#root = root;
  }

  /** The file for a key; asserts the key and, belt and braces, that it stays under root. */
  #file(key: string): string {
    assertBlobKey(key);
    const file = join(this.#root, ...keyPath(key.split("/")));
    if (!file.startsWith(this.#root + sep)) throw new StoreUsageError(`invalid blob key ${JSON.stringify(key)}`);
    return file;
  }

  async put(key: string, data: Uint8Array): Promise<void> {
    const file = this.#file(key);
    if (!(data instanceof Uint8Array)) throw new StoreUsageError(`blob ${key}: data must be a Uint8Array`);
    const parent = dirname(file);
    const tmp = join(parent, `~tmp.${process.pid}.${randomBytes(8).toString("hex")}`);
    // A concurrent delete may prune the parent between mkdir and open: retry a few times.
    for (let attempt = 0; ; attempt++) {
      try {
        await mkdir(parent, { recursive: true });
      } catch (err) {
        const code = errCode(err);
        if (code === "ENOTDIR" || code === "EEXIST") {
          throw new StoreUsageError(`blob ${key}: a parent segment is itself a blob`);
        }
        throw err;
      }
      let handle;
      try {
        handle = await open(tmp, "wx");
      } catch (err) {
        if (errCode(err) === "ENOENT" && attempt < 5) continue;
        throw err;
      }
      try {
        await handle.writeFile(data);
        await handle.sync();
      } catch (err) {
        await handle.close().catch(() => {});
        await unlink(tmp).catch(() => {});
        throw err;
      }
      await handle.close();
      break;
    }
    try {
      await rename(tmp, file);
    } catch (err) {
      await unlink(tmp).catch(() => {});
      const code = errCode(err);
      if (code === "EISDIR" || code === "ENOTEMPTY" || code === "EEXIST") {
        throw new StoreUsageError(`blob ${key}: other blobs live under this key`);
      }
      throw err;
    }
  }

  async get(key: string): Promise<Uint8Array | null> {
    const file = this.#file(key);
    try {
      const buf = await readFile(file);
      return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
    } catch (err) {
      if (isAbsent(err)) return null;
      throw err;
    }
  }

  async exists(key: string): Promise<boolean> {
    const file = this.#file(key);
    try {
      return (await stat(file)).isFile();
    } catch (err) {
      if (isAbsent(err)) return false;
      throw err;
    }
  }

  async delete(key: string): Promise<boolean> {
    const file = this.#file(key);
    const existed = await this.#unlink(file);
    if (existed) await this.#prune(file);
    return existed;
  }

  async list(prefix: string): Promise<string[]> {
    if (typeof prefix !== "string") throw new StoreUsageError("blob prefix must be a string");
    const segments = prefix.split("/");
    const partial = segments.pop()!;
    // A prefix whose complete segments are not valid key segments matches no key.
    if (!segments.every((s) => SEGMENT.test(s) && s !== "." && s !== "..")) return [];
    if (partial !== "" && !SEGMENT.test(partial)) return [];
    // Start in the directory of the prefix's complete segments: only that subtree is read.
    const base = segments.length === 0 ? "" : `${segments.join("/")}/`;
    const keys: string[] = [];
    await this.#walk(join(this.#root, ...keyPath(segments)), base, prefix, keys);
    return keys.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  }

  async deletePrefix(prefix: string): Promise<number> {
    const keys = await this.list(prefix);
    let deleted = 0;
    for (const key of keys) {
      const file = this.#file(key);
      if (await this.#unlink(file)) {
        deleted++;
        await this.#prune(file);
      }
    }
    return deleted;
  }

  async close(): Promise<void> {}

  /**
   * Collects the keys starting with `prefix` under `dir`, whose entries continue the key
   * text `text` ("ds/1/" in an ordinary directory, "ds/aaaa…" inside a long segment).
   * Descends only where the key text is still compatible with the prefix.
   */
  async #walk(dir: string, text: string, prefix: string, out: string[]): Promise<void> {
    let entries;
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch (err) {
      if (isAbsent(err)) return;
      throw err;
    }
    const compatible = (t: string): boolean => t.startsWith(prefix) || prefix.startsWith(t);
    for (const entry of entries) {
      const name = entry.name;
      // Temporary files and anything else that is not ours are skipped; symlinks are never followed.
      if (SEGMENT.test(name) && name !== "." && name !== "..") {
        if (entry.isFile()) {
          if (`${text}${name}`.startsWith(prefix)) out.push(`${text}${name}`);
        } else if (entry.isDirectory() && compatible(`${text}${name}/`)) {
          await this.#walk(join(dir, name), `${text}${name}/`, prefix, out);
        }
        continue;
      }
      const piece = CONTINUED.exec(name)?.[1];
      if (piece !== undefined && entry.isDirectory() && compatible(`${text}${piece}`)) {
        await this.#walk(join(dir, name), `${text}${piece}`, prefix, out);
      }
    }
  }

  async #unlink(file: string): Promise<boolean> {
    try {
      await unlink(file);
      return true;
    } catch (err) {
      const code = errCode(err);
      if (isAbsent(err) || code === "EISDIR" || code === "EPERM") return false;
      throw err;
    }
  }

  /** Removes the now-empty directories above a deleted file, stopping at the root. */
  async #prune(file: string): Promise<void> {
    for (let d = dirname(file); d.startsWith(this.#root + sep); d = dirname(d)) {
      try {
        await rmdir(d);
      } catch {
        return; // not empty (or already gone): stop
      }
    }
  }
}

function isAbsent(err: unknown): boolean {
  const code = errCode(err);
  return code === "ENOENT" || code === "ENOTDIR" || code === "EISDIR";
}
