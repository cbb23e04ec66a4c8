import { afterAll } from "bun:test";
import { storeConformance } from "../../test/conformance/store-suite.ts";
import { DRIVERS, storeFactory } from "../../test/fixtures/stores.ts";

for (const driver of DRIVERS) {
  const f = storeFactory(driver);
  afterAll(() => f.cleanup());
  storeConformance(`sqlite (${driver})`, (opts) => f.open(opts));
}
