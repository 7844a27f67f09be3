/** Data an application may send: what browsers accept, plus Node's Buffer. */
export type BinaryData = ArrayBuffer | ArrayBufferView | Buffer;
export type MessageData = string | BinaryData;

/** A Uint8Array view of binary data, without copying. */
export function toBytes(data: BinaryData): Uint8Array {
  if (data instanceof Uint8Array) return data;
  if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  if (data instanceof ArrayBuffer || Object.prototype.toString.call(data) === '[object SharedArrayBuffer]') {
    return new Uint8Array(data as ArrayBuffer);
  }
  throw new TypeError('data must be a string, an ArrayBuffer, a typed array, a DataView or a Buffer');
}
