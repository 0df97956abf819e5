import { randomUUID } from 'node:crypto';
import { expect } from 'vitest';
import type { CallOptions } from './call-budget.js';
import type { StatusRequest } from './connector.js';
import type { ConnectorOutcome } from './outcome.js';

/** What the conformance suites share. Not a test file: each `<kind>.conformance.ts` registers tests. */

/** Budget for ordinary calls in conformance tests: generous, since a vendor sandbox may be slow. */
export const requestBudget: CallOptions = { timeoutMs: 5_000 };

/** Budget given to a call that hangs: short, so the suite stays fast, yet above timer granularity. */
export const hangBudgetMsDefault = 25;

/**
 * Unique references per run (a random run id, then a counter), so suites can run against a vendor's
 * shared sandbox that remembers earlier runs. Randomness here is the test's, not the simulator's.
 */
export function conformanceReferences(kind: string): () => string {
  const runId = randomUUID().slice(0, 8);
  let counter = 0;
  return () => `conf-${kind}-${runId}-${++counter}`;
}

/** A reference the vendor has no record of: status answers `not_sent`. */
export async function expectNoTrace(
  connector: { status(request: StatusRequest, options: CallOptions): Promise<ConnectorOutcome<unknown>> },
  reference: string,
): Promise<void> {
  const status = await connector.status({ reference }, requestBudget);
  expect(status.status).toBe('not_sent');
}
