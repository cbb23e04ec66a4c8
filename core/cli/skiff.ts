/**
 * @module The entry of the start-up bundle (`scripts/build.ts`): before the
 * rest of the command loads, a first `skiff server` start begins making the
 * cluster's certificates on another thread (`precreate.ts`), then the
 * command itself (`main.ts`) loads and runs. From the sources, `main.ts` is
 * the entry and the certificates are made in-thread.
 */
import { precreateForArgv } from "../server/pki/precreate.ts";

precreateForArgv(process.argv);
void import("./main.ts");
