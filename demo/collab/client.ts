import * as Y from 'yjs';
import { WebsocketProvider } from 'y-websocket';
import { yCollab, yUndoManagerKeymap } from 'y-codemirror.next';
import { EditorState } from '@codemirror/state';
import { EditorView, drawSelection, highlightActiveLine, keymap, placeholder } from '@codemirror/view';
import { appRoot, connectionState, h, nickname, wsUrl } from '../shared/page.js';
import { COLLAB_DOCUMENTS, COLLAB_SOCKET_PATH, type CollabDocument } from './documents.js';
import './collab.css';

/** Cursor colours: distinct on the dark background, picked from the name so each person keeps theirs. */
const COLOURS = ['#f472b6', '#fb923c', '#facc15', '#4ade80', '#22d3ee', '#818cf8', '#c084fc', '#f87171'];

function colourOf(name: string): string {
  let hash = 0;
  for (let i = 0; i < name.length; i++) hash = (hash * 31 + name.charCodeAt(i)) >>> 0;
  return COLOURS[hash % COLOURS.length]!;
}

interface Person {
  name: string;
  colour: string;
  line: number | null;
  you: boolean;
}

const me = nickname();
let myColour = colourOf(me);

/**
 * Two people with one colour cannot tell their cursors apart: when someone who joined
 * earlier (a smaller client id wins, so both sides agree) has ours, take the next free one.
 */
function settleColour(session: Session): void {
  const { awareness } = session.provider;
  const taken = new Map<string, number>();
  awareness.getStates().forEach((state, id) => {
    const colour = (state.user as { color?: unknown } | undefined)?.color;
    if (id !== session.ydoc.clientID && typeof colour === 'string') taken.set(colour, Math.min(id, taken.get(colour) ?? Infinity));
  });
  const rival = taken.get(myColour);
  if (rival === undefined || rival > session.ydoc.clientID) return;
  const free = COLOURS.find((c) => !taken.has(c));
  if (free === undefined) return;
  myColour = free;
  awareness.setLocalStateField('user', { name: me, color: myColour, colorLight: `${myColour}33` });
}

// ---- layout -----------------------------------------------------------------------

const tabs = h('nav', { class: 'collab-tabs', 'aria-label': 'Documents' });
const editorHost = h('div', { class: 'collab-editor' });
const offlineNote = h('p', { class: 'collab-offline', hidden: true }, 'Offline: keep typing, your edits sync when the connection is back.');
const peopleList = h('ul', { class: 'collab-people' });
const stats = {
  chars: h('strong', {}, '0'),
  words: h('strong', {}, '0'),
  lines: h('strong', {}, '0'),
  merged: h('strong', {}, '0'),
  sync: h('span', { class: 'collab-sync', 'data-synced': 'false' }, 'syncing…'),
};

appRoot().append(
  h(
    'div',
    { class: 'collab' },
    h('section', { class: 'collab-main' }, tabs, h('div', { class: 'panel collab-paper' }, editorHost), offlineNote),
    h(
      'aside',
      { class: 'collab-side' },
      h('div', { class: 'panel' }, h('h2', {}, 'People here'), peopleList),
      h(
        'div',
        { class: 'panel' },
        h('h2', {}, 'This document ', stats.sync),
        h(
          'dl',
          { class: 'collab-stats' },
          h('dt', {}, 'characters'), h('dd', {}, stats.chars),
          h('dt', {}, 'words'), h('dd', {}, stats.words),
          h('dt', {}, 'lines'), h('dd', {}, stats.lines),
          h('dt', {}, 'edits from others'), h('dd', {}, stats.merged),
        ),
      ),
      h(
        'div',
        { class: 'panel collab-about' },
        h('h2', {}, 'How it works'),
        h('p', {}, 'Edits are Yjs updates. The stock ', h('code', {}, 'y-websocket'), ' provider sends them to ', h('code', {}, 'tether-ws/yjs'), ', which merges them into the server copy and relays them, framed once, to everyone else. Cursors and names travel as awareness.'),
      ),
    ),
  ),
);

// ---- one open document ----------------------------------------------------------

interface Session {
  doc: CollabDocument;
  ydoc: Y.Doc;
  provider: WebsocketProvider;
  view: EditorView;
}

let current: Session | null = null;
let wasLive = false;

const editorTheme = EditorView.theme(
  {
    '&': { color: 'var(--text)', backgroundColor: 'transparent', fontSize: '16px' },
    '.cm-content': { fontFamily: 'var(--font)', fontSize: '17px', padding: '22px 0 18px', caretColor: 'var(--accent)', lineHeight: '1.7' },
    '.cm-line': { padding: '0 18px' },
    '&.cm-focused': { outline: 'none' },
    '.cm-cursor, .cm-dropCursor': { borderLeftColor: 'var(--accent)', borderLeftWidth: '2px' },
    '&.cm-focused .cm-selectionBackground, .cm-selectionBackground, ::selection': { backgroundColor: 'rgba(34, 211, 238, .22)' },
    '.cm-activeLine': { backgroundColor: 'rgba(255, 255, 255, .03)' },
    '.cm-placeholder': { color: 'var(--muted)' },
    // Names above remote cursors stay visible (the binding shows them on hover only).
    '.cm-ySelectionInfo': { opacity: 1, fontFamily: 'var(--font)', fontSize: '11px', fontWeight: '600', color: '#0b1220', padding: '1px 5px', borderRadius: '4px 4px 4px 0', top: '-1.45em' },
    '.cm-ySelectionCaretDot': { display: 'none' },
  },
  { dark: true },
);

function open(doc: CollabDocument): void {
  close();
  const ydoc = new Y.Doc();
  const ytext = ydoc.getText('body');
  const provider = new WebsocketProvider(wsUrl(COLLAB_SOCKET_PATH), doc.id, ydoc, { maxBackoffTime: 2500 });
  provider.awareness.setLocalStateField('user', { name: me, color: myColour, colorLight: `${myColour}33` });
  const undoManager = new Y.UndoManager(ytext);
  const view = new EditorView({
    parent: editorHost,
    state: EditorState.create({
      doc: ytext.toString(),
      extensions: [
        // Typing, deleting, moving and selecting are the browser's own (contenteditable); undo is per person (Y.UndoManager).
        keymap.of(yUndoManagerKeymap),
        drawSelection(),
        highlightActiveLine(),
        EditorView.lineWrapping,
        placeholder('Start typing…'),
        EditorView.contentAttributes.of({ 'aria-label': `${doc.title} (shared document)` }),
        editorTheme,
        yCollab(ytext, provider.awareness, { undoManager }),
      ],
    }),
  });
  const session: Session = { doc, ydoc, provider, view };
  current = session;

  let merged = 0;
  ydoc.on('update', (_update: Uint8Array, origin: unknown) => {
    // Updates the provider applied came from the server: other people's edits (or our own, returning after a restart).
    if (origin === provider && provider.synced) stats.merged.textContent = String(++merged);
  });
  ytext.observe(() => renderStats(ytext));
  provider.awareness.on('change', () => {
    settleColour(session);
    renderPeople(session);
  });
  provider.on('sync', (synced: boolean) => {
    stats.sync.textContent = synced ? 'synced' : 'syncing…';
    stats.sync.dataset.synced = String(synced);
  });
  provider.on('status', ({ status }: { status: string }) => {
    offlineNote.hidden = status === 'connected';
    if (status === 'connected') {
      wasLive = true;
      connectionState.set('live');
    } else if (status === 'connecting' && connectionState.phase !== 'reconnecting') {
      connectionState.set(wasLive ? 'reconnecting' : 'connecting');
    }
  });
  provider.on('connection-close', () => {
    if (!provider.shouldConnect) return;
    // The stock provider retries after min(2^attempts × 100 ms, maxBackoffTime); the attempt is counted right after this event.
    const delay = Math.min(2 ** (provider.wsUnsuccessfulReconnects + 1) * 100, provider.maxBackoffTime);
    connectionState.set('reconnecting', delay);
  });
  renderStats(ytext);
  renderPeople(session);
  tabs.querySelectorAll('a').forEach((a) => a.setAttribute('aria-current', a.dataset.doc === doc.id ? 'page' : 'false'));
}

function close(): void {
  if (current === null) return;
  current.view.destroy();
  current.provider.destroy();
  current.ydoc.destroy();
  current = null;
}

function renderStats(ytext: Y.Text): void {
  const text = ytext.toString();
  stats.chars.textContent = text.length.toLocaleString('en');
  stats.words.textContent = (text.match(/\S+/g)?.length ?? 0).toLocaleString('en');
  stats.lines.textContent = text.split('\n').length.toLocaleString('en');
}

function people(session: Session): Person[] {
  const out: Person[] = [];
  const { awareness } = session.provider;
  awareness.getStates().forEach((state, clientId) => {
    const user = state.user as { name?: unknown; color?: unknown } | undefined;
    if (typeof user?.name !== 'string') return;
    let line: number | null = null;
    const head = (state.cursor as { head?: unknown } | null | undefined)?.head;
    if (head != null) {
      const pos = Y.createAbsolutePositionFromRelativePosition(Y.createRelativePositionFromJSON(head), session.ydoc);
      if (pos !== null && pos.index <= session.view.state.doc.length) line = session.view.state.doc.lineAt(pos.index).number;
    }
    out.push({ name: user.name, colour: typeof user.color === 'string' ? user.color : '#93a1bd', line, you: clientId === session.ydoc.clientID });
  });
  return out.sort((a, b) => Number(b.you) - Number(a.you) || a.name.localeCompare(b.name));
}

function renderPeople(session: Session): void {
  const list = people(session);
  peopleList.replaceChildren(
    ...list.map((p) =>
      h(
        'li',
        { 'data-name': p.name },
        h('span', { class: 'collab-dot', style: `background:${p.colour}` }),
        h('span', { class: 'collab-name' }, p.name, p.you ? h('span', { class: 'muted' }, ' (you)') : null),
        h('span', { class: 'collab-where muted' }, p.line === null ? '' : `line ${p.line}`),
      ),
    ),
  );
}

// ---- documents ------------------------------------------------------------------

for (const d of COLLAB_DOCUMENTS) {
  tabs.append(
    h('a', {
      href: `#${d.id}`,
      'data-doc': d.id,
      onclick: (ev: Event) => {
        ev.preventDefault();
        history.replaceState(null, '', `#${d.id}`);
        open(d);
      },
    }, d.title),
  );
}

function fromHash(): CollabDocument {
  return COLLAB_DOCUMENTS.find((d) => `#${d.id}` === location.hash) ?? COLLAB_DOCUMENTS[0]!;
}
open(fromHash());
addEventListener('hashchange', () => {
  if (current?.doc.id !== fromHash().id) open(fromHash());
});

/** For the tests and the curious: the shared text and who is here. */
(globalThis as { tetherCollab?: unknown }).tetherCollab = {
  text: () => current?.ydoc.getText('body').toString() ?? '',
  synced: () => current?.provider.synced ?? false,
  people: () => (current === null ? [] : people(current).map((p) => p.name)),
  document: () => current?.doc.id,
};
