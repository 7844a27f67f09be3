import { appRoot, connectRealtime, h } from '../shared/page.js';

// Placeholder: this page is being built. The badge still shows the realtime connection.
connectRealtime();
appRoot().append(h('section', { class: 'soon' }, h('h1', {}, 'Collaborative editing'), h('p', {}, 'A shared document on Yjs with remote cursors, through the stock y-websocket provider.'), h('p', {}, 'This page is being built.')));
