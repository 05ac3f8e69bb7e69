// Reconnect delays: exponential, capped, and jittered so that every dashboard open on a server
// does not reconnect in the same instant after a restart.

export const reconnectPolicy = { baseMilliseconds: 500, capMilliseconds: 30_000 };

/**
 * The wait before reconnect attempt `attempt` (0 for the first after a loss): a random value in
 * [ceiling / 2, ceiling], where ceiling = min(cap, base × 2^attempt).
 */
export function reconnectDelay(attempt, random = Math.random, policy = reconnectPolicy) {
  const exponent = Math.min(Math.max(0, attempt), 30);
  const ceiling = Math.min(policy.capMilliseconds, policy.baseMilliseconds * 2 ** exponent);
  return Math.round(ceiling / 2 + random() * (ceiling / 2));
}
