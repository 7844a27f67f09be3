/** The documents of the collaborative editing page (shared by its server and front-end). */
export const COLLAB_SOCKET_PATH = '/collab/ws';

export interface CollabDocument {
  id: string;
  title: string;
  /** The text a new document starts with. */
  seed: string;
}

export const COLLAB_DOCUMENTS: CollabDocument[] = [
  {
    id: 'welcome',
    title: 'Welcome',
    seed: [
      'Welcome to the shared notebook!',
      '',
      'Everyone on this page edits the same text at the same time. Open it in a second window (or on your phone) and type in both: each change appears everywhere, and so does everyone\'s cursor, with their name.',
      '',
      'Under the hood, Yjs (a CRDT) merges concurrent edits, the stock y-websocket provider talks to tether-ws/yjs on the server, and CodeMirror 6 is the editor.',
      '',
      '- Select some text and watch it light up in the other window.',
      '- Stop the server and keep typing; start it again and the edits sync.',
      '',
    ].join('\n'),
  },
  {
    id: 'meeting',
    title: 'Meeting notes',
    seed: ['Meeting notes', '', 'Attendees:', '', 'Agenda:', '1. ', '', 'Decisions:', '', 'Action items:', '- [ ] ', ''].join('\n'),
  },
  {
    id: 'scratch',
    title: 'Scratchpad',
    seed: 'A blank page for anything.\n',
  },
];
