/** The server conformance section on utf8 (test/conformance/server-utf8.test.ts), run over HTTP/2 streams (RFC 8441). */
import { transport } from '../conformance/server-support.js';
transport.http2 = true;
await import('../conformance/server-utf8.test.js');
