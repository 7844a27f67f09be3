import { appRoot, connectRealtime, h } from '../shared/page.js';

// Placeholder: this page is being built. The badge still shows the realtime connection.
connectRealtime();
appRoot().append(h('section', { class: 'soon' }, h('h1', {}, 'Multiplayer game'), h('p', {}, 'A real-time arena: an authoritative server ticking binary snapshots, interpolated.'), h('p', {}, 'This page is being built.')));
