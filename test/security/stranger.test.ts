/**
 * Attacks by a stranger in radio range with a BLE central and no pairing (protocol brief, "Attacks",
 * over the air), performed with the attacker's kit against the simulated toy through the virtual
 * radio and the toy's real BLE host stack. Each shows the exact refusal and that nothing changed.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { toHex } from '../../protocol/bytes.js';
import { INFO_CHAR_UUID, RX_CHAR_UUID, TX_CHAR_UUID } from '../../protocol/gatt/constants.js';
import { AlertCode, decodeAlert, LinkType } from '../../protocol/link.js';
import { encodeAppMessage } from '../../protocol/messages/index.js';
import type { AppRequest } from '../../protocol/messages/types.js';
import { encodeTransferMessage, TransferDirection } from '../../protocol/transfer/index.js';
import { GAP_DEVICE_NAME } from '../../radio/constants.js';
import { TestPhone } from '../firmware-sim/fixtures/toy-bench.js';
import { Att, AttError, FramedLink, type Lab, makePhoneIdentity, openLab } from './kit/index.js';

let lab: Lab | undefined;
afterEach(async () => {
  await lab?.close();
  lab = undefined;
});

const norm = (uuid: string) => uuid.replace(/-/g, '').toLowerCase();

/** Every request a phone can make, as a stranger would send it (no session, request id 1). */
const REQUESTS: AppRequest[] = [
  { type: 'StatusRequest', requestId: 1 },
  { type: 'SetVolume', requestId: 1, volume: 0 },
  { type: 'Identify', requestId: 1, seconds: 30 },
  { type: 'SetLed', requestId: 1, led: { mode: 'on' } },
  { type: 'ListMessages', requestId: 1, filter: 'all' },
  { type: 'DeleteMessage', requestId: 1, messageId: 1 },
  { type: 'Lullaby', requestId: 1, messageId: 1, loop: { mode: 'times', times: 3 } },
  { type: 'LullabyStop', requestId: 1 },
  { type: 'SetGameMode', requestId: 1, enabled: true },
  { type: 'ListPairings', requestId: 1 },
  { type: 'OpenPairingWindow', requestId: 1, role: 'admin', seconds: 180 },
  { type: 'RemovePairing', requestId: 1, phoneId: new Uint8Array(16) },
  { type: 'FactoryResetRequest', requestId: 1 },
] as AppRequest[];

/** A transfer Init asking to upload a message, and one asking to download message 1. */
function transferInits(): Array<{ name: string; bytes: Uint8Array }> {
  return [
    {
      name: 'upload Init',
      bytes: encodeTransferMessage({
        type: 'TransferInit',
        transferId: 7,
        direction: TransferDirection.Upload,
        codec: 1,
        totalBytes: 1000,
        sha256: new Uint8Array(32),
        startOffset: 0,
      }),
    },
    {
      name: 'download request',
      bytes: encodeTransferMessage({ type: 'DownloadRequest', transferId: 8, messageId: 1 }),
    },
  ];
}

/** Records a two-second recording with the record paw (the only way the microphone turns on). */
async function recordWithPaw(l: Lab): Promise<number> {
  const { toy } = l.bench;
  await toy.press('record');
  await new Promise<void>((resolve) => toy.hardwareClock.setTimer(resolve, 2_000));
  await toy.press('record');
  return (await l.bench.toyEvent('recording-stored')).messageId;
}

describe('the GATT surface, before any protocol', () => {
  it('reads beyond INFO are refused: RX and TX answer Read Not Permitted, and nothing readable carries the toy id, the setup code or a name', async () => {
    lab = await openLab();
    const conn = await lab.attacker().connect(await lab.attacker().findToy());
    const chars = await conn.characteristics();
    const rx = chars.find((c) => c.uuid === norm(RX_CHAR_UUID))!;
    const tx = chars.find((c) => c.uuid === norm(TX_CHAR_UUID))!;
    const info = chars.find((c) => c.uuid === norm(INFO_CHAR_UUID))!;
    expect(await conn.read(rx.valueHandle)).toEqual({
      ok: false,
      error: AttError.ReadNotPermitted,
      opcode: Att.ReadReq,
    });
    expect(await conn.read(tx.valueHandle)).toEqual({
      ok: false,
      error: AttError.ReadNotPermitted,
      opcode: Att.ReadReq,
    });
    expect(await conn.readBlob(rx.valueHandle, 0)).toMatchObject({ ok: false });

    const secrets = [
      lab.state().toyId,
      lab.state().toyStaticPublicKey,
      Buffer.from(lab.setupCode()).toString('hex'),
    ];
    const readable: string[] = [];
    for (const a of await conn.attributes()) {
      const r = await conn.read(a.handle);
      if (!r.ok) continue;
      readable.push(a.type);
      for (const s of secrets) expect(r.value.toString('hex')).not.toContain(s.slice(0, 16));
      if (a.handle === info.valueHandle) expect(r.value.length).toBe(5);
      if (a.type === '2a00') expect(r.value.toString()).toBe(GAP_DEVICE_NAME);
    }
    // Only GATT structure (service and characteristic declarations, CCCDs), GAP's fixed name and
    // appearance, and INFO.
    const allowed = new Set(['2800', '2803', '2902', '2a00', '2a01', norm(INFO_CHAR_UUID)]);
    expect(readable.filter((t) => !allowed.has(t))).toEqual([]);
  });

  it('writes anywhere but RX are refused (INFO, TX, declarations) and long writes to RX too; the toy is unchanged', async () => {
    lab = await openLab();
    const before = lab.state();
    const conn = await lab.attacker().connect(await lab.attacker().findToy());
    const chars = await conn.characteristics();
    const info = chars.find((c) => c.uuid === norm(INFO_CHAR_UUID))!;
    const tx = chars.find((c) => c.uuid === norm(TX_CHAR_UUID))!;
    const rx = chars.find((c) => c.uuid === norm(RX_CHAR_UUID))!;
    const payload = Buffer.from('0102030405', 'hex');
    expect(await conn.writeRequest(info.valueHandle, payload)).toEqual({
      ok: false,
      error: AttError.WriteNotPermitted,
      opcode: Att.WriteReq,
    });
    expect(await conn.writeRequest(tx.valueHandle, payload)).toEqual({
      ok: false,
      error: AttError.WriteNotPermitted,
      opcode: Att.WriteReq,
    });
    expect(await conn.writeRequest(info.declHandle, payload)).toMatchObject({ ok: false });
    // A Prepare Write (long write) to RX at offset 5: the toy's GATT service refuses offsets.
    const prepare = await conn.request(
      Buffer.from([Att.PrepareWriteReq, rx.valueHandle & 0xff, rx.valueHandle >> 8, 5, 0, 1, 2, 3]),
    );
    if (prepare[0] === Att.PrepareWriteRsp) {
      const exec = await conn.request(Buffer.from([Att.ExecuteWriteReq, 1]));
      expect(exec[0]).toBe(Att.ErrorRsp);
    } else expect(prepare[0]).toBe(Att.ErrorRsp);
    expect((await conn.readInfo()).length).toBe(5);
    expect(lab.state()).toEqual(before);
  });

  it('malformed ATT PDUs of every opcode get an error or nothing; the toy keeps serving its owner', async () => {
    lab = await openLab();
    const before = lab.state();
    const eve = lab.attacker();
    const conn = await eve.connect(await eve.findToy());
    const answered: number[] = [];
    for (let op = 0; op < 256; op++) {
      // Requests wait for their answer; everything else is fire and forget.
      const pdu = Buffer.from([op, 0x01]);
      if ([0x02, 0x04, 0x06, 0x08, 0x0a, 0x0c, 0x0e, 0x10, 0x12, 0x16, 0x18, 0x20].includes(op)) {
        const rsp = await conn.request(pdu);
        answered.push(rsp[0]!);
      } else conn.sendPdu(pdu);
    }
    expect(answered.every((o) => o === Att.ErrorRsp)).toBe(true);
    if (conn.connected) await conn.disconnect();
    expect(lab.state()).toEqual(before);
    const { phone } = await lab.owner();
    expect((await phone.request({ type: 'StatusRequest' })).type).toBe('Status');
    await phone.close();
  });
});

describe('commands without a session', () => {
  it('bytes written to RX before the framing handshake close the link; nothing changes', async () => {
    lab = await openLab();
    const before = lab.state();
    const eve = lab.attacker();
    const conn = await eve.connect(await eve.findToy());
    await conn.subscribe(() => {});
    // A segment that is not a handshake request: a would-be "play" of the old toy.
    conn.writeCommand(
      (await conn.characteristic(RX_CHAR_UUID)).valueHandle,
      Buffer.from('0500010203', 'hex'),
    );
    expect(await conn.closedWithin(1_000)).toBe(true);
    expect(lab.state()).toEqual(before);
  });

  it('every application request, in plaintext in every envelope type, gets a ProtocolError alert and the link dropped; nothing is acted on', async () => {
    lab = await openLab();
    const before = lab.state();
    const since = lab.eventsSince();
    const envelopes = [LinkType.Pairing, LinkType.Handshake, LinkType.Record, LinkType.Alert, 0x42];
    const bodies = [
      ...REQUESTS.map((r) => ({ name: r.type, bytes: encodeAppMessage(r) })),
      ...transferInits(),
    ];
    for (const envelope of envelopes) {
      for (const body of bodies) {
        const { conn, link } = await lab.stranger();
        link.send(envelope, body.bytes);
        expect(await conn.closedWithin(2_000), `${body.name} in envelope ${envelope}`).toBe(true);
        const answers = link.messages();
        // Before a session the toy answers nothing but an alert.
        expect(answers.every((m) => m.type === LinkType.Alert)).toBe(true);
        if (envelope !== LinkType.Alert && answers.length > 0) {
          expect(decodeAlert(answers[0]!.body)).toBe(AlertCode.ProtocolError);
        }
      }
    }
    expect(lab.state()).toEqual(before);
    const acted = since().filter((e) =>
      [
        'volume',
        'identify',
        'lullaby',
        'game-mode',
        'playback-started',
        'recording-started',
        'message-deleted',
        'factory-reset-pending',
        'pairing-window',
      ].includes(e.event),
    );
    expect(acted).toEqual([]);
  });

  it('no message of any type, in any envelope, turns the microphone on: only the record paw does', async () => {
    lab = await openLab();
    const since = lab.eventsSince();
    // Every type byte as an app message body (type, request id 1, a body of zeros and ones).
    for (const envelope of [LinkType.Pairing, LinkType.Record]) {
      const { conn, link } = await lab.stranger();
      for (let type = 0; type < 256 && link.open; type++)
        link.send(envelope, Uint8Array.of(type, 1, 0, 1, 1));
      await conn.closedWithin(2_000);
    }
    expect(lab.bench.toy.microphone.recording).toBe(false);
    expect(since().some((e) => e.event === 'recording-started')).toBe(false);
    // The control: the record paw does start it.
    await lab.bench.toy.press('record');
    expect(lab.bench.toy.microphone.recording).toBe(true);
  });

  it('downloading recordings without a session: zero audio bytes leave the toy', async () => {
    lab = await openLab();
    const id = await recordWithPaw(lab);
    const recording = lab.bench.toy.storage.readMessage(id)!;
    expect(recording.length).toBeGreaterThan(100);
    const before = lab.state();
    const heard: Uint8Array[] = [];
    for (const envelope of [LinkType.Pairing, LinkType.Handshake, LinkType.Record]) {
      for (const messageId of [id, 1, 2]) {
        const { conn, link } = await lab.stranger();
        link.send(envelope, encodeTransferMessage({ type: 'DownloadRequest', transferId: 9, messageId }));
        link.send(envelope, encodeAppMessage({ type: 'ListMessages', requestId: 2, filter: 'recording' }));
        await conn.closedWithin(2_000);
        heard.push(...conn.notifications.map((n) => n.value));
      }
    }
    // Every 8-byte window of the recording is absent from everything the toy notified.
    const air = toHex(Buffer.concat(heard));
    for (let o = 0; o + 8 <= recording.length; o += 8) {
      expect(air.includes(toHex(recording.subarray(o, o + 8)))).toBe(false);
    }
    expect(lab.state()).toEqual(before);
  });

  it('a connection held open without authenticating is dropped 10 s after it was made, with an AuthTimeout alert; the owner then connects and pairs', async () => {
    lab = await openLab();
    const eve = lab.attacker();
    const address = await eve.findToy();
    const t0 = lab.bench.air.now();
    const conn = await eve.connect(address);
    await conn.exchangeMtu(247);
    const link = await FramedLink.open(conn, lab.bench.scheduler);
    await conn.whenClosed();
    const held = lab.bench.air.now() - t0;
    expect(held).toBeGreaterThanOrEqual(10_000);
    expect(held).toBeLessThanOrEqual(10_500);
    expect(link.messages().map((m) => m.type === LinkType.Alert && decodeAlert(m.body))).toEqual([
      AlertCode.AuthTimeout,
    ]);
    const { phone } = await lab.owner();
    expect((await phone.request({ type: 'StatusRequest' })).type).toBe('Status');
    await phone.close();
  });

  it('an attacker who reconnects the moment it is dropped does not keep a waiting owner out', async () => {
    lab = await openLab();
    // The owner's phone has seen its toy before (it keeps the id), as an app does.
    let toyId: string | undefined;
    for await (const t of lab.bench.central.scan({ timeoutMs: 5_000 })) {
      toyId = t.id;
      break;
    }
    const eve = lab.attacker();
    const address = await eve.findToy();
    let holding = true;
    let holds = 0;
    const hold = (async () => {
      while (holding) {
        const conn = await eve.connect(address);
        holds++;
        await conn.whenClosed();
      }
    })();
    await lab.bench.toy.hold('listen', 3_000);
    const t0 = lab.bench.air.now();
    const phone = await TestPhone.connect(lab.bench, makePhoneIdentity('owner'), { id: toyId! });
    // The owner got in at the first drop (≤ 10 s after the attacker connected), not never.
    expect(lab.bench.air.now() - t0).toBeLessThanOrEqual(10_500);
    expect(holds).toBe(1);
    holding = false;
    const paired = await phone.pair(lab.setupCode());
    expect(paired.role).toBe('admin');
    await phone.close();
    void hold;
  });

  it('a Noise handshake from a phone the toy does not know is refused with UnknownPhone; a made-up toy key with ProtocolError', async () => {
    lab = await openLab();
    const { phone, paired } = await lab.owner();
    await phone.close();
    const stranger = makePhoneIdentity('stranger');
    const { conn } = await lab.stranger().then(async (s) => {
      await s.conn.disconnect();
      return s;
    });
    expect(conn.connected).toBe(false);
    const before = lab.state();
    // With the toy's real static key (a stranger can learn it from an old pairing) but an unknown phone key.
    const strangerPhone = await TestPhone.connect(lab.bench, stranger);
    strangerPhone.driver.act((e, now) => e.openSession(paired, now));
    expect((await strangerPhone.next('alert')).code).toBe(AlertCode.UnknownPhone);
    // With a made-up toy key.
    const again = await TestPhone.connect(lab.bench, stranger);
    again.driver.act((e, now) =>
      e.openSession({ ...paired, toyStaticPublicKey: new Uint8Array(32).fill(9) }, now),
    );
    expect((await again.next('alert')).code).toBe(AlertCode.ProtocolError);
    expect(lab.state()).toEqual(before);
  });
});

describe('FramedLink is a faithful stranger', () => {
  it('completes the framing handshake with the toy (the control for every test above)', async () => {
    lab = await openLab();
    const { link } = await lab.stranger();
    expect(link.open).toBe(true);
    expect(link).toBeInstanceOf(FramedLink);
  });
});
