export { encodeMsgpack, decodeMsgpack, MsgpackError, MAX_DEPTH } from './msgpack.js';
export { jsonCodec, msgpackCodec, codecs, codecForSubprotocol, CodecError, BINARY_KEY, type Codec } from './codec.js';
