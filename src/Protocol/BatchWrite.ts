/**
 * Writing a batch of whole messages to a stream socket in one go, shared by the daemon's
 * outboxes and the client's send path. Structural, so this module needs no `node:net`.
 */

/** What a batch is written to: a Node `net.Socket` fits. */
export interface BatchSink {
  write(chunk: Buffer): unknown
  cork(): void
  uncork(): void
}

/**
 * Batches of messages averaging at most this size are joined into one buffer (one copy costs
 * less than a write request per small message); larger ones go out as one vectored write, with
 * no copy (a 10 KB message copied again per hop shows up as garbage-collector time).
 */
export const JOIN_AVERAGE_BYTES = 4096

/** Writes `batch` (`bytes` in all) as one system call where the platform allows. */
export const writeBatch = (sink: BatchSink, batch: ReadonlyArray<Buffer>, bytes: number): void => {
  if (batch.length === 1) {
    sink.write(batch[0]!)
  } else if (bytes <= JOIN_AVERAGE_BYTES * batch.length) {
    sink.write(Buffer.concat(batch, bytes))
  } else {
    sink.cork()
    for (const b of batch) sink.write(b)
    sink.uncork()
  }
}
