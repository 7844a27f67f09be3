import type { IcePolicy } from './ice-policy.js';
import type { Signal } from './room.js';

/**
 * The connection to one other participant, negotiated with the "perfect negotiation"
 * pattern: both sides add their tracks and may offer at any time; when offers collide,
 * the polite side (the one whose peer id sorts first) rolls its own back and answers.
 */
export class Peer {
  readonly pc: RTCPeerConnection;
  readonly stream = new MediaStream();
  /** The participant's current session (it changes when they reconnect). */
  sessionId: string;
  name: string;
  mic = true;
  cam = true;
  /** When the participant vanished from the room's presence (0: present). */
  goneSince = 0;
  private makingOffer = false;
  private ignoreOffer = false;
  private readonly polite: boolean;

  constructor(
    readonly peerId: string,
    myPeerId: string,
    sessionId: string,
    name: string,
    local: MediaStream | null,
    private readonly ice: IcePolicy,
    private readonly send: (signal: Signal) => void,
    private readonly changed: () => void,
  ) {
    this.sessionId = sessionId;
    this.name = name;
    this.polite = myPeerId < peerId;
    this.pc = new RTCPeerConnection({ iceServers: [] });
    if (local !== null && local.getTracks().length > 0) {
      for (const track of local.getTracks()) this.pc.addTrack(track, local);
    } else {
      // Nothing to send: still ask to receive.
      this.pc.addTransceiver('audio', { direction: 'recvonly' });
      this.pc.addTransceiver('video', { direction: 'recvonly' });
    }
    this.pc.ontrack = (e) => {
      this.stream.addTrack(e.track);
      this.changed();
    };
    this.pc.onconnectionstatechange = () => this.changed();
    this.pc.onicecandidate = (e) => {
      if (e.candidate !== null && e.candidate.candidate !== '' && this.ice.shares(e.candidate.candidate)) {
        this.send({ kind: 'candidate', candidate: { candidate: e.candidate.candidate, sdpMid: e.candidate.sdpMid, sdpMLineIndex: e.candidate.sdpMLineIndex } });
      }
    };
    this.pc.onnegotiationneeded = async () => {
      try {
        this.makingOffer = true;
        await this.pc.setLocalDescription();
        this.sendDescription();
      } catch (err) {
        console.warn('call: negotiation failed', err);
      } finally {
        this.makingOffer = false;
      }
    };
  }

  async receive(signal: Signal): Promise<void> {
    switch (signal.kind) {
      case 'description': {
        const d = signal.description;
        const collision = d.type === 'offer' && (this.makingOffer || this.pc.signalingState !== 'stable');
        this.ignoreOffer = !this.polite && collision;
        if (this.ignoreOffer) return;
        await this.pc.setRemoteDescription(d);
        if (d.type === 'offer') {
          await this.pc.setLocalDescription();
          this.sendDescription();
        }
        return;
      }
      case 'candidate':
        try {
          await this.pc.addIceCandidate(signal.candidate);
        } catch (err) {
          if (!this.ignoreOffer) throw err;
        }
        return;
      case 'state':
        this.mic = signal.mic;
        this.cam = signal.cam;
        this.changed();
        return;
      case 'bye':
        return;
    }
  }

  close(): void {
    this.pc.close();
    for (const t of this.stream.getTracks()) t.stop();
  }

  private sendDescription(): void {
    const d = this.pc.localDescription;
    if (d === null) return;
    this.send({ kind: 'description', description: { type: d.type, sdp: this.ice.filterSdp(d.sdp) } });
  }
}
