// graphql-ws (GraphQL over WebSocket) unchanged on tether-ws/ws: `ws` is aliased to the
// facade; the server is graphql-ws's useServer on the facade's WebSocketServer, the client
// graphql-ws's createClient with the facade's WebSocket. A query and a subscription.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { aliasWs, facadeEsmUrl } from './alias-ws.js';

aliasWs();

test('graphql-ws: a query and a subscription over tether-ws/ws', async () => {
  const facade = await import(facadeEsmUrl);
  assert.equal((await import('ws' as string)).WebSocket, facade.WebSocket, 'ws is aliased to the facade');
  const { GraphQLObjectType, GraphQLSchema, GraphQLString } = await import('graphql');
  const { useServer } = await import('graphql-ws/use/ws');
  const { createClient } = await import('graphql-ws');

  const schema = new GraphQLSchema({
    query: new GraphQLObjectType({ name: 'Query', fields: { hello: { type: GraphQLString, resolve: () => 'world' } } }),
    subscription: new GraphQLObjectType({
      name: 'Subscription',
      fields: {
        greetings: {
          type: GraphQLString,
          subscribe: async function* () {
            for (const hi of ['Hi', 'Bonjour', 'Hola']) yield { greetings: hi };
          },
        },
      },
    }),
  });

  const wss = new facade.WebSocketServer({ port: 0, host: '127.0.0.1', path: '/graphql' });
  await once(wss, 'listening');
  const server = useServer({ schema }, wss);
  const url = `ws://127.0.0.1:${(wss.address() as AddressInfo).port}/graphql`;
  const client = createClient({ url, webSocketImpl: facade.WebSocket, retryAttempts: 0 });
  try {
    const query = await new Promise<unknown>((resolve, reject) => {
      let result: unknown;
      client.subscribe({ query: '{ hello }' }, { next: (v) => (result = v), error: reject, complete: () => resolve(result) });
    });
    assert.deepEqual(query, { data: { hello: 'world' } });

    const greetings: string[] = [];
    for await (const event of client.iterate({ query: 'subscription { greetings }' })) {
      greetings.push((event.data as { greetings: string }).greetings);
    }
    assert.deepEqual(greetings, ['Hi', 'Bonjour', 'Hola']);
    // The server saw graphql-ws's subprotocol, chosen through the handleProtocols it set on wss.options.
    const [socket] = [...(wss.clients as Set<{ protocol: string }>)];
    assert.equal(socket?.protocol, 'graphql-transport-ws');
  } finally {
    await client.dispose();
    await server.dispose();
  }
});
