import { test } from 'node:test';
import assert from 'node:assert/strict';
import { acceptKey } from '../../src/protocol/index.js';

test('RFC 6455 §1.3: the accept value for the sample nonce', () => {
  assert.equal(acceptKey('dGhlIHNhbXBsZSBub25jZQ=='), 's3pPLMBiTxaQ9kYGzzhZRbK+xOo=');
});
