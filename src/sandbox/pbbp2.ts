import protobuf from 'protobufjs';

/**
 * The Feishu long-connection frame (pbbp2.Frame), declared for protobufjs so the fake gateway
 * speaks the same bytes as the SDK's WSClient.
 */
const root = protobuf.Root.fromJSON({
  nested: {
    pbbp2: {
      nested: {
        Header: { fields: { key: { type: 'string', id: 1, rule: 'required' }, value: { type: 'string', id: 2, rule: 'required' } } },
        Frame: {
          fields: {
            SeqID: { type: 'uint64', id: 1, rule: 'required' },
            LogID: { type: 'uint64', id: 2, rule: 'required' },
            service: { type: 'int32', id: 3, rule: 'required' },
            method: { type: 'int32', id: 4, rule: 'required' },
            headers: { type: 'Header', id: 5, rule: 'repeated' },
            payloadEncoding: { type: 'string', id: 6 },
            payloadType: { type: 'string', id: 7 },
            payload: { type: 'bytes', id: 8 },
            LogIDNew: { type: 'string', id: 9 },
          },
        },
      },
    },
  },
});

const FrameType = root.lookupType('pbbp2.Frame');

export interface Frame {
  SeqID: number;
  LogID: number;
  service: number;
  /** 0 control, 1 data */
  method: number;
  headers: { key: string; value: string }[];
  payload?: Uint8Array;
}

export function encodeFrame(f: Frame): Uint8Array {
  return FrameType.encode(FrameType.fromObject(f)).finish();
}

export function decodeFrame(bytes: Uint8Array): Frame {
  return FrameType.toObject(FrameType.decode(bytes), { longs: Number, bytes: Buffer, defaults: true }) as Frame;
}

export function headerOf(f: Frame, key: string): string | undefined {
  return f.headers.find((h) => h.key === key)?.value;
}
