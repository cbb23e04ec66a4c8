/**
 * @module Service IP and NodePort management for the REST storage: the
 * allocator (service-allocator.ts) rebuilt from the stored Services at
 * start-up, reservations taken on create and update (committed with the
 * write, rolled back when it fails), and values released when a Service is
 * deleted — at once by the REST delete, and from the watch for deletions
 * that finish elsewhere (a last finalizer removed). Releases are by owner
 * uid, so releasing twice never frees what another Service took since.
 */
import type { KubeObject } from "../api/meta.ts";
import type { ResourceType } from "../api/registry.ts";
import type { Store } from "../store/types.ts";
import { Follower } from "./follow.ts";
import type { WriteHooks } from "./rest-storage.ts";
import { type Reservation, ServiceAllocator, type ServiceAllocatorOptions } from "./service-allocator.ts";

export class ServiceIpam implements WriteHooks {
  readonly allocator: ServiceAllocator;
  #follower: Follower | undefined;

  constructor(
    private readonly store: Store,
    private readonly serviceType: ResourceType,
    opts: ServiceAllocatorOptions = {},
  ) {
    this.allocator = new ServiceAllocator(opts);
  }

  /** Marks every stored Service's IPs and ports, then follows deletions. */
  async start(): Promise<void> {
    const { items, revision } = await this.store.list(this.serviceType);
    this.allocator.rebuild(items.map((i) => i.object));
    this.#follower = new Follower(this.store, this.serviceType, (ev) => {
      if (ev.type === "DELETED") this.allocator.release(ev.object);
    });
    void revision;
    this.#follower.start();
  }

  async stop(): Promise<void> {
    await this.#follower?.stop();
  }

  reserve(obj: KubeObject, old: KubeObject | undefined, dryRun: boolean): Reservation {
    return this.allocator.allocate(obj, old, dryRun);
  }

  released(obj: KubeObject): void {
    this.allocator.release(obj);
  }
}
