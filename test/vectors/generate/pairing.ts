/**
 * Our pairing vector: a complete seeded exchange (toy provisioning, paw window, every message both
 * ways, every derived secret, the persisted state before and after), plus a wrong-code attempt
 * showing the failure counter. Written to test/vectors/pairing.json by `npm run vectors -- pairing`;
 * test/protocol/pairing/vectors.test.ts recomputes it bit for bit.
 */
import { toHex } from '../../../protocol/bytes.js';
import { x25519PublicKey } from '../../../protocol/crypto.js';
import {
  createToyPairingState,
  encodeToyPairingState,
  PairingInitiator,
  type PairingSecrets,
  provisionToy,
  ToyPairing,
  type ToyPairingOutput,
} from '../../../protocol/pairing/index.js';
import { seededRandom } from '../../../protocol/random.js';

const hexSecrets = (s: PairingSecrets): Record<string, string> =>
  Object.fromEntries(
    Object.entries(s)
      .filter(([k]) => k !== 'side')
      .map(([k, v]) => [k, toHex(v as Uint8Array)]),
  );

function sent(outputs: ToyPairingOutput[]): Uint8Array {
  for (const o of outputs) if (o.kind === 'send') return o.body;
  throw new Error('toy sent nothing');
}

export function generate() {
  // Factory: code, discriminator and verifier; the toy's static key pair.
  const factory = seededRandom('pawlink pairing vector: factory');
  const iterations = 1000;
  const { setupCode, discriminator, verifier } = provisionToy(factory, { iterations, saltLength: 32 });
  const toyStaticPrivate = factory(32);
  const toyStaticPublicKey = x25519PublicKey(toyStaticPrivate);
  const initialState = createToyPairingState({ discriminator, verifier, toyStaticPublicKey }, factory);

  // The phone's long-term identity.
  const phoneKeys = seededRandom('pawlink pairing vector: phone identity');
  const phoneId = phoneKeys(16);
  const phoneStaticPublicKey = x25519PublicKey(phoneKeys(32));
  const name = 'Mum’s phone';

  const persisted: string[] = [];
  const logs: PairingSecrets[] = [];
  const toy = new ToyPairing({
    state: initialState,
    random: seededRandom('pawlink pairing vector: toy'),
    persist: (b) => persisted.push(toHex(b)),
    keyLog: (s) => logs.push(s),
  });
  const phone = new PairingInitiator({
    setupCode,
    phoneId,
    phoneStaticPublicKey,
    name,
    random: seededRandom('pawlink pairing vector: phone'),
    keyLog: (s) => logs.push(s),
  });

  const window = toy.openWindowByPaw(0, 3000);
  const conn = 1;
  const request = phone.start(1000);
  const response = sent(toy.handle(1010, conn, request));
  const pake1 = phone.handle(1020, response).send[0]!;
  const pake2 = sent(toy.handle(1030, conn, pake1));
  const afterPake1 = persisted.at(-1)!;
  const [pake3, phoneIdentity] = phone.handle(1040, pake2).send;
  toy.handle(1050, conn, pake3!);
  const toyOutputs = toy.handle(1060, conn, phoneIdentity!);
  const toyIdentity = sent(toyOutputs);
  const result = phone.handle(1070, toyIdentity).result!;
  const phoneLog = logs.find((l) => l.side === 'phone')!;
  const toyLog = logs.find((l) => l.side === 'toy')!;

  // A wrong code on a fresh toy in the same initial state: the phone detects it at Pake2.
  const wrongPersisted: string[] = [];
  const wrongToy = new ToyPairing({
    state: initialState,
    random: seededRandom('pawlink pairing vector: toy, wrong code'),
    persist: (b) => wrongPersisted.push(toHex(b)),
  });
  wrongToy.openWindowByPaw(0, 3000);
  const wrongCode = setupCode === '13572468' ? '24681357' : '13572468';
  const wrongPhone = new PairingInitiator({
    setupCode: wrongCode,
    phoneId,
    phoneStaticPublicKey,
    random: seededRandom('pawlink pairing vector: phone, wrong code'),
  });
  const wRequest = wrongPhone.start(0);
  const wResponse = sent(wrongToy.handle(10, conn, wRequest));
  const wPake1 = wrongPhone.handle(20, wResponse).send[0]!;
  const wPake2 = sent(wrongToy.handle(30, conn, wPake1));
  let phoneError = '';
  try {
    wrongPhone.handle(40, wPake2);
  } catch (e) {
    phoneError = (e as { code: string }).code;
  }
  const wStatus = wrongPhone.failureReply!;
  const wToyOutputs = wrongToy.handle(50, conn, wStatus);

  return {
    description:
      'One complete PawLink pairing (PROTOCOL.md section 6) from fixed seeds: the toy is provisioned, its paw window opened, and a phone pairs with the right code. Every message body is the Pairing body (after the link envelope byte 0x01). Then a wrong-code attempt on the same initial toy state.',
    seeds: {
      factory: 'pawlink pairing vector: factory',
      phoneIdentity: 'pawlink pairing vector: phone identity',
      toy: 'pawlink pairing vector: toy',
      phone: 'pawlink pairing vector: phone',
    },
    provisioning: {
      setupCode,
      discriminator,
      salt: toHex(verifier.salt),
      iterations,
      w0: toHex(verifier.w0),
      w1: phoneLog.w1 ? toHex(phoneLog.w1) : '',
      L: toHex(verifier.L),
      toyStaticPrivateKey: toHex(toyStaticPrivate),
      toyStaticPublicKey: toHex(toyStaticPublicKey),
      toyId: toHex(initialState.toyId),
      initialState: toHex(encodeToyPairingState(initialState)),
    },
    phone: {
      phoneId: toHex(phoneId),
      phoneStaticPublicKey: toHex(phoneStaticPublicKey),
      name,
    },
    windowClosesAt: window.opened ? window.closesAt : -1,
    messages: {
      PbkdfParamRequest: toHex(request),
      PbkdfParamResponse: toHex(response),
      Pake1: toHex(pake1),
      Pake2: toHex(pake2),
      Pake3: toHex(pake3!),
      PhoneIdentity: toHex(phoneIdentity!),
      ToyIdentity: toHex(toyIdentity),
    },
    phoneSecrets: hexSecrets(phoneLog),
    toySecrets: hexSecrets(toyLog),
    persisted: {
      afterPake1,
      final: persisted.at(-1)!,
      writes: persisted.length,
    },
    result: {
      toyId: toHex(result.toyId),
      toyStaticPublicKey: toHex(result.toyStaticPublicKey),
      tagKey: toHex(result.tagKey),
      role: result.role,
    },
    wrongCode: {
      setupCode: wrongCode,
      PbkdfParamRequest: toHex(wRequest),
      PbkdfParamResponse: toHex(wResponse),
      Pake1: toHex(wPake1),
      Pake2: toHex(wPake2),
      phoneError,
      PairingStatus: toHex(wStatus),
      toyEvents: wToyOutputs.map((o) => o.kind),
      persisted: wrongPersisted,
    },
  };
}
