import { appRoot, connectRealtime, h } from '../shared/page.js';

// Placeholder: this page is being built. The badge still shows the realtime connection.
connectRealtime();
appRoot().append(h('section', { class: 'soon' }, h('h1', {}, 'Video call'), h('p', {}, 'A WebRTC meeting room whose signalling travels over Tether; media goes peer to peer.'), h('p', {}, 'This page is being built.')));
