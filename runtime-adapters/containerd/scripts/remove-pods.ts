/**
 * Removes every pod sandbox (and so every container) from the containerd at
 * SOCKET through CRI, which also tears down their CNI networking and portmap
 * rules. Used by stop-containerd.sh before it stops the daemon.
 * usage: bun remove-pods.ts SOCKET
 */
import { CriClient, orGone } from "../cri-client.ts";

const socket = process.argv[2];
if (!socket) throw new Error("usage: remove-pods.ts SOCKET");
const cri = new CriClient(socket, { timeoutMs: 30_000 });
try {
  const r = await cri.runtime("ListPodSandbox", {});
  for (const s of r.items as { id: string }[]) {
    await orGone(cri.runtime("StopPodSandbox", { podSandboxId: s.id }));
    await orGone(cri.runtime("RemovePodSandbox", { podSandboxId: s.id }));
  }
} finally {
  cri.close();
}
