/** Allowances and caps run per UTC calendar month, named "YYYY-MM". */
export function monthOf(instant: Date): string {
  return instant.toISOString().slice(0, 7);
}
