/** Ids as the API shows them: Relay global ids ("Dataset:ds_…" in base64), raw ids also accepted over HTTP. */
import { decodeGlobalID, encodeGlobalID } from "@pothos/plugin-relay";

/** The dataset id in a global id (or a raw "ds_…" id), or null if it is neither. */
export function datasetIdFrom(id: string): string | null {
  if (/^ds_[a-z0-9]+$/.test(id)) return id;
  try {
    const { typename, id: raw } = decodeGlobalID(id);
    return typename === "Dataset" && /^ds_[a-z0-9]+$/.test(raw) ? raw : null;
  } catch {
    return null;
  }
}

export const globalId = encodeGlobalID;
