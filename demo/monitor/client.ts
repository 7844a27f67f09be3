import { appRoot, connectRealtime, h } from '../shared/page.js';

// Placeholder: this page is being built. The badge still shows the realtime connection.
connectRealtime();
appRoot().append(h('section', { class: 'soon' }, h('h1', {}, 'Live monitoring'), h('p', {}, 'This server’s own numbers from stats(), streaming every second.'), h('p', {}, 'This page is being built.')));
