/** The server conformance section on close (test/conformance/server-close.test.ts), run over HTTP/2 streams (RFC 8441). */
import { transport } from '../conformance/server-support.js';
transport.http2 = true;
await import('../conformance/server-close.test.js');
