import { appRoot, connectRealtime, h } from '../shared/page.js';

// Placeholder: this page is being built. The badge still shows the realtime connection.
connectRealtime();
appRoot().append(h('section', { class: 'soon' }, h('h1', {}, 'Chat'), h('p', {}, 'Rooms, nicknames, presence, typing indicators, history on join and delivered ticks.'), h('p', {}, 'This page is being built.')));
