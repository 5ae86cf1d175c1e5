/** Shared plumbing of the contract suites. */

/** Runs `test` on a fresh fixture and always closes it, so a failing case never leaks a server or a table. */
export async function withFixture<F extends { close?(): Promise<void> }>(
  make: () => Promise<F>,
  test: (fixture: F) => Promise<void>,
): Promise<void> {
  const fixture = await make();
  try {
    await test(fixture);
  } finally {
    await fixture.close?.();
  }
}
