/**
 * Group ids: three int32 words `{memb_proc_id, memb_time, index}` (client-protocol §6.7).
 * Clients may only compare them for equality (`SP_equal_group_ids`).
 */
export interface GroupId {
  readonly procId: number
  readonly time: number
  readonly index: number
}

export const equalGroupIds = (a: GroupId, b: GroupId): boolean =>
  a.procId === b.procId && a.time === b.time && a.index === b.index

export const GROUP_ID_LENGTH = 12

export const readGroupId = (buf: Buffer, offset: number, swapped: boolean): GroupId =>
  swapped
    ? { procId: buf.readInt32BE(offset), time: buf.readInt32BE(offset + 4), index: buf.readInt32BE(offset + 8) }
    : { procId: buf.readInt32LE(offset), time: buf.readInt32LE(offset + 4), index: buf.readInt32LE(offset + 8) }

export const writeGroupId = (buf: Buffer, offset: number, gid: GroupId): void => {
  buf.writeInt32LE(gid.procId | 0, offset)
  buf.writeInt32LE(gid.time | 0, offset + 4)
  buf.writeInt32LE(gid.index | 0, offset + 8)
}
