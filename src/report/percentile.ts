/**
 * The nearest-rank percentile: the smallest value with at least p% of the values at or below
 * it, so the answer is always one of the measured values (no interpolation). `undefined` for
 * no values; p is clamped to 0..100, and p = 0 gives the minimum.
 */
export function percentile(values: readonly number[], p: number): number | undefined {
  if (values.length === 0) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  // Multiply before dividing: (28 / 100) * 25 is 7.000000000000001, which would round up to rank 8.
  const rank = Math.ceil((Math.min(100, Math.max(0, p)) * sorted.length) / 100);
  return sorted[Math.max(1, rank) - 1];
}
