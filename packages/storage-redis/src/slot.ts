// CRC16-XMODEM, the checksum Redis Cluster maps keys to its 16 384 slots with. Computed here (a
// 256-entry table) so grouping same-tick work by slot needs no dependency beyond the driver.
const TABLE = new Uint16Array(256)
for (let i = 0; i < 256; i++) {
  let crc = i << 8
  for (let bit = 0; bit < 8; bit++) crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff
  TABLE[i] = crc
}

function crc16(bytes: Uint8Array, from: number, to: number): number {
  let crc = 0
  for (let i = from; i < to; i++) crc = ((crc << 8) & 0xffff) ^ TABLE[((crc >> 8) ^ bytes[i]!) & 0xff]!
  return crc
}

/**
 * The Redis Cluster slot of `key`: CRC16 of its hash tag (the text between the first `{` and the
 * next `}`, when not empty), else of the whole key, modulo 16 384.
 */
export function keySlot(key: string): number {
  const bytes = Buffer.from(key, 'utf8')
  let from = 0
  let to = bytes.length
  const open = bytes.indexOf(0x7b)
  if (open !== -1) {
    const close = bytes.indexOf(0x7d, open + 1)
    if (close > open + 1) {
      from = open + 1
      to = close
    }
  }
  return crc16(bytes, from, to) & 0x3fff
}
