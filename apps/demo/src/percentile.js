/**
 * The `q` quantile (0..1) of an ascending array by the nearest-rank method, or `null` when it
 * is empty. Nearest rank, so the answer is always a latency that was actually seen.
 * @param {number[]} sorted
 * @param {number} q
 */
export function percentile(sorted, q) {
  if (sorted.length === 0) return null
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil(q * sorted.length)))
  return sorted[rank - 1]
}
