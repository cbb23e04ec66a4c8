/**
 * Suites that need a tool from the machine (kubectl, python3-kubernetes):
 * in CI a missing tool fails the suite; elsewhere it is skipped with a loud
 * one-line reason.
 */
import { describe, test } from "bun:test";

export function describeWith(name: string, available: boolean, requirement: string, body: () => void): void {
  if (available) {
    describe(name, body);
  } else if (process.env.CI) {
    describe(name, () => {
      test(`requires ${requirement}`, () => {
        throw new Error(`${requirement} is missing: install it (see .ci/run)`);
      });
    });
  } else {
    process.stderr.write(`SKIPPED ${name}: ${requirement} is not installed\n`);
    describe.skip(name, body);
  }
}
