/** The typed arrays a column may be: name ↔ constructor, so they can cross processes by name. */
export const TYPED_ARRAY_TYPES = {
  Float64Array,
  Float32Array,
  Int32Array,
  Uint32Array,
  Int16Array,
  Uint16Array,
  Int8Array,
  Uint8Array,
} as const;

export type TypedArrayName = keyof typeof TYPED_ARRAY_TYPES;
/** Any of them, over an ArrayBuffer or a SharedArrayBuffer. */
export type ColumnArray =
  | Float64Array<ArrayBufferLike>
  | Float32Array<ArrayBufferLike>
  | Int32Array<ArrayBufferLike>
  | Uint32Array<ArrayBufferLike>
  | Int16Array<ArrayBufferLike>
  | Uint16Array<ArrayBufferLike>
  | Int8Array<ArrayBufferLike>
  | Uint8Array<ArrayBufferLike>;

export function typedArrayName(value: unknown): TypedArrayName | null {
  for (const [name, ctor] of Object.entries(TYPED_ARRAY_TYPES)) {
    // exact class: a subclass could carry behaviour we would not reproduce on the other side
    if (value instanceof ctor && Object.getPrototypeOf(value) === ctor.prototype) return name as TypedArrayName;
  }
  return null;
}

export function isTypedArrayName(value: unknown): value is TypedArrayName {
  return typeof value === "string" && Object.hasOwn(TYPED_ARRAY_TYPES, value);
}
