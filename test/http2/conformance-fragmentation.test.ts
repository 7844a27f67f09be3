/** The server conformance section on fragmentation (test/conformance/server-fragmentation.test.ts), run over HTTP/2 streams (RFC 8441). */
import { transport } from '../conformance/server-support.js';
transport.http2 = true;
await import('../conformance/server-fragmentation.test.js');
