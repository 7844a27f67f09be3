/** Data conversions as ws does them (lib/buffer-util.js toBuffer, binaryType). */

export type BinaryType = 'nodebuffer' | 'arraybuffer' | 'fragments' | 'blob';
export const BINARY_TYPES: readonly BinaryType[] = ['nodebuffer', 'arraybuffer', 'fragments', 'blob'];

export const EMPTY = Buffer.alloc(0);

export function isBlob(value: unknown): value is Blob {
  return typeof Blob !== 'undefined' && value instanceof Blob;
}

/** Bytes of a message argument without copying when possible; strings are encoded. */
export function toBuffer(data: unknown): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (typeof data === 'string') return Buffer.from(data);
  if (data instanceof ArrayBuffer) return Buffer.from(data);
  if (ArrayBuffer.isView(data)) return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  return Buffer.from(data as never);
}

/** A received binary message in the shape binaryType asks for. */
export function shapeBinary(data: Buffer, type: BinaryType): Buffer | ArrayBuffer | Buffer[] | Blob {
  switch (type) {
    case 'nodebuffer':
      return data;
    case 'arraybuffer':
      // The view may share its memory with other data: the ArrayBuffer is a copy of exactly the message.
      return data.buffer.slice(data.byteOffset, data.byteOffset + data.length) as ArrayBuffer;
    case 'fragments':
      return [data];
    case 'blob':
      return new Blob([data as Uint8Array<ArrayBuffer>]);
  }
}
