/** The server conformance section on framing (test/conformance/server-framing.test.ts), run over HTTP/2 streams (RFC 8441). */
import { transport } from '../conformance/server-support.js';
transport.http2 = true;
await import('../conformance/server-framing.test.js');
