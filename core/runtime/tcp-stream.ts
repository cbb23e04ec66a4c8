/**
 * @module `connectTcp(host, port)`: a TCP connection as a readable and a
 * writable web stream (what `RuntimeAdapter.portForward` returns), with
 * backpressure (the socket pauses while the reader lags) and half-close
 * (closing the writable ends our side; the readable ends when the peer's does).
 */
import net from "node:net";

export function connectTcp(host: string, port: number): Promise<{ readable: ReadableStream<Uint8Array>; writable: WritableStream<Uint8Array> }> {
  return new Promise((resolve, reject) => {
    const socket = net.createConnection({ host, port, allowHalfOpen: true });
    socket.once("error", reject);
    socket.once("connect", () => {
      socket.off("error", reject);
      const readable = new ReadableStream<Uint8Array>({
        start(c) {
          socket.on("data", (d: Buffer) => {
            c.enqueue(new Uint8Array(d));
            if ((c.desiredSize ?? 1) <= 0) socket.pause();
          });
          socket.on("end", () => {
            try {
              c.close();
            } catch {
              /* cancelled already */
            }
          });
          socket.on("error", (e) => {
            try {
              c.error(e);
            } catch {
              /* closed already */
            }
          });
        },
        pull() {
          socket.resume();
        },
        cancel() {
          socket.destroy();
        },
      });
      const writable = new WritableStream<Uint8Array>({
        write: (chunk) => new Promise((res, rej) => socket.write(chunk, (e) => (e ? rej(e) : res()))),
        close: () => new Promise<void>((res) => socket.end(res)),
        abort: () => void socket.destroy(),
      });
      resolve({ readable, writable });
    });
  });
}
