import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fromHex } from '../../../protocol/bytes.js';
import { MessageError } from '../../../protocol/errors.js';
import {
  type AppMessage,
  type AppRequest,
  decodeAppMessage,
  encodeAppMessage,
  errorResponseFor,
  isAppEvent,
  isAppRequest,
  isAppResponse,
  isResponseTo,
  messageSpec,
  nextRequestId,
} from '../../../protocol/messages/index.js';
import { anyMessage } from './arbitraries.js';

describe('nextRequestId', () => {
  it('counts 1..65535 and wraps to 1, never giving 0', () => {
    expect(nextRequestId(0)).toBe(1);
    expect(nextRequestId(1)).toBe(2);
    expect(nextRequestId(65534)).toBe(65535);
    expect(nextRequestId(65535)).toBe(1);
  });

  it('refuses an id outside 0..65535 with MessageError OUT_OF_RANGE', () => {
    for (const bad of [-1, 65536, 1.5, Number.NaN]) {
      expect(() => nextRequestId(bad)).toThrowError(
        expect.objectContaining({ name: 'MessageError', code: 'OUT_OF_RANGE' }),
      );
    }
  });
});

describe('classification', () => {
  it('every message is exactly one of request, response or event, agreeing with its direction', () => {
    fc.assert(
      fc.property(anyMessage, (m) => {
        const kinds = [isAppRequest(m), isAppResponse(m), isAppEvent(m)].filter(Boolean);
        expect(kinds).toHaveLength(1);
        expect(messageSpec(m.type).direction).toBe(isAppRequest(m) ? 'toToy' : 'toPhone');
        if (isAppEvent(m)) expect(m.requestId).toBe(0);
      }),
      { numRuns: 500 },
    );
  });

  it('messageSpec refuses an unknown type name', () => {
    expect(() => messageSpec('StartMicrophone' as never)).toThrowError(
      expect.objectContaining({ name: 'MessageError', code: 'UNKNOWN_TYPE' }),
    );
  });
});

describe('isResponseTo', () => {
  const status: AppRequest = { type: 'StatusRequest', requestId: 7 };
  const volume: AppRequest = { type: 'SetVolume', requestId: 8, volume: 1 };

  it('pairs a request with its success response or an Error carrying the same id', () => {
    expect(isResponseTo(status, { type: 'Error', requestId: 7, code: 'BUSY' })).toBe(true);
    expect(isResponseTo(volume, { type: 'Ok', requestId: 8 })).toBe(true);
    expect(
      isResponseTo(
        { type: 'ListMessages', requestId: 3, filter: 'all' },
        { type: 'MessageList', requestId: 3, entries: [] },
      ),
    ).toBe(true);
    expect(
      isResponseTo({ type: 'ListPairings', requestId: 4 }, { type: 'Pairings', requestId: 4, entries: [] }),
    ).toBe(true);
  });

  it('refuses another id, the wrong response type, a request or an event', () => {
    expect(isResponseTo(volume, { type: 'Ok', requestId: 7 })).toBe(false);
    expect(isResponseTo(status, { type: 'Ok', requestId: 7 })).toBe(false);
    expect(isResponseTo(volume, { type: 'MessageList', requestId: 8, entries: [] })).toBe(false);
    expect(isResponseTo(volume, { type: 'SetVolume', requestId: 8, volume: 1 })).toBe(false);
    const paw: AppMessage = {
      type: 'PawEvent',
      requestId: 0,
      paw: 'listen',
      action: 'press',
      durationMs: 1,
      atMs: 1,
    };
    expect(isResponseTo({ ...status, requestId: 0 }, paw)).toBe(false);
  });
});

describe('errorResponseFor', () => {
  const refusal = (bytes: Uint8Array): MessageError => {
    try {
      decodeAppMessage(bytes, 'toToy');
    } catch (e) {
      if (e instanceof MessageError) return e;
    }
    throw new Error('expected the decoder to refuse the input');
  };

  it('echoes a readable requestId, says UNSUPPORTED for an unknown type and BAD_REQUEST otherwise', () => {
    const unknown = fromHex('3f3412');
    expect(errorResponseFor(unknown, refusal(unknown))).toStrictEqual({
      type: 'Error',
      requestId: 0x1234,
      code: 'UNSUPPORTED',
      detail: 'UNKNOWN_TYPE',
    });
    const loud = fromHex('0205000001');
    expect(errorResponseFor(loud, refusal(loud))).toMatchObject({
      requestId: 5,
      code: 'BAD_REQUEST',
      detail: 'TRAILING_BYTES',
    });
    const wrongWay = fromHex('800900');
    expect(errorResponseFor(wrongWay, refusal(wrongWay))).toMatchObject({
      requestId: 9,
      code: 'BAD_REQUEST',
      detail: 'WRONG_DIRECTION',
    });
  });

  it('uses requestId 0 when the header is cut short, and omits a detail that is not a codec code', () => {
    const short = fromHex('02');
    expect(errorResponseFor(short, refusal(short))).toStrictEqual({
      type: 'Error',
      requestId: 0,
      code: 'BAD_REQUEST',
      detail: 'TRUNCATED',
    });
    expect(errorResponseFor(short, new MessageError('SOMETHING ELSE\n', 'x'))).toStrictEqual({
      type: 'Error',
      requestId: 0,
      code: 'BAD_REQUEST',
    });
  });

  it('always produces an Error that encodes and that the phone decodes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 24 }), (bytes) => {
        let error: MessageError | undefined;
        try {
          decodeAppMessage(bytes, 'toToy');
        } catch (e) {
          error = e as MessageError;
        }
        if (error === undefined || error.code === 'NOT_AN_APP_MESSAGE') return;
        const reply = errorResponseFor(bytes, error);
        expect(decodeAppMessage(encodeAppMessage(reply, 'toPhone'), 'toPhone')).toStrictEqual(reply);
      }),
      { numRuns: 2000 },
    );
  });
});
