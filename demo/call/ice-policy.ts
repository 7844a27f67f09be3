/**
 * Which ICE candidates a participant shares. There are no STUN or TURN servers (the demo
 * needs no outside service), so candidates are host addresses. When the page is served
 * from a loopback address, every participant is on this machine: if the browser gathers
 * loopback candidates (Chromium does with --allow-loopback-in-peer-connection), only those
 * are shared, and media stays on the loopback interface. Otherwise every host candidate is.
 */
export interface IcePolicy {
  readonly loopbackOnly: boolean;
  /** Whether a candidate line ("candidate:... 127.0.0.1 50000 typ host ...") may be sent. */
  shares(candidate: string): boolean;
  /** An SDP with the candidate lines that may not be sent removed. */
  filterSdp(sdp: string): string;
}

const LOOPBACK = /^(127\.\d+\.\d+\.\d+|::1|localhost)$/i;

/** The address field of a candidate attribute (the fifth token after "candidate:"). */
export function candidateAddress(candidate: string): string | undefined {
  return candidate.replace(/^a=/, '').split(/\s+/)[4];
}

function policy(loopbackOnly: boolean): IcePolicy {
  const shares = (c: string): boolean => !loopbackOnly || LOOPBACK.test(candidateAddress(c) ?? '');
  return {
    loopbackOnly,
    shares,
    filterSdp: (sdp) => sdp.split('\r\n').filter((line) => !line.startsWith('a=candidate:') || shares(line)).join('\r\n'),
  };
}

function servedFromLoopback(): boolean {
  return LOOPBACK.test(location.hostname.replace(/^\[|\]$/g, ''));
}

/** Gathers candidates once on a throwaway connection to see whether loopback ones come. */
async function gathersLoopback(): Promise<boolean> {
  const pc = new RTCPeerConnection({ iceServers: [] });
  try {
    pc.createDataChannel('probe');
    let found = false;
    const done = new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, 2000);
      pc.onicecandidate = (e) => {
        if (e.candidate === null) {
          clearTimeout(timer);
          resolve();
        } else if (LOOPBACK.test(candidateAddress(e.candidate.candidate) ?? '')) found = true;
      };
    });
    await pc.setLocalDescription(await pc.createOffer());
    await done;
    return found;
  } finally {
    pc.close();
  }
}

export async function chooseIcePolicy(): Promise<IcePolicy> {
  return policy(servedFromLoopback() && (await gathersLoopback()));
}
