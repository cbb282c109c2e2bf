/**
 * The air shared between processes, through a Unix domain socket.
 *
 * The first process that asks for a shared air hosts it: it runs the Air (controllers, clock,
 * link model, fault hooks) in-process and listens on `<dir>/pawlink-<uid>/air-<name>.sock`.
 * Later processes find the socket and join as guests; the controllers their noble and bleno
 * attach live in the host process, and H4 packets travel over the socket (wire.ts). Nothing to set
 * up: the same name (default "default", or $PAWLINK_AIR) means the same air.
 *
 * - The host process keeps running while guests are attached (they depend on it); guests stay
 *   alive only through their own started HCI sockets.
 * - A stale socket file (its host died) is detected by a refused connection and replaced, under a
 *   lock directory so two processes never both replace it. A host removes its socket file when it
 *   closes or exits.
 * - Closing the host takes the air down: guests' hosts see their adapter go down.
 * - Time runs in the host; cross-process runs suit `timeScale` 1 or a moderate acceleration (a
 *   guest's answers take real time to cross the socket, which virtual time would not wait for).
 */
import { mkdirSync, rmdirSync, statSync, unlinkSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { RadioError } from '../errors.js';
import { Air, type AirEndpoint, type AirOptions, type ControllerPort } from './air.js';
import {
  AIR_WIRE_VERSION,
  SHARED_AIR_DEFAULT_NAME,
  SHARED_AIR_DIR_PREFIX,
  SHARED_AIR_ENV,
} from './constants.js';
import type { ControllerOptions, HostPort } from './controller.js';
import { encodeFrame, Frame, FrameDecoder } from './wire.js';

export interface SharedAirOptions {
  /** Processes that use the same name share one air. Default: $PAWLINK_AIR, else "default". */
  name?: string;
  /** Parent directory of the per-user socket directory. Default: $XDG_RUNTIME_DIR, else the OS temp dir. */
  dir?: string;
  /** Options of the air, used when this process ends up hosting it. */
  air?: AirOptions;
}

export interface SharedAir extends AirEndpoint {
  /** 'host': this process runs the air; 'guest': another process does. */
  readonly role: 'host' | 'guest';
  /** The socket file. */
  readonly path: string;
  /** The air itself (clock, controllers, fault hooks), in the hosting process only. */
  readonly air: Air | undefined;
  /** Host: closes the air for every process. Guest: detaches this process's controllers. */
  close(): Promise<void>;
}

const LOCK_STALE_MS = 2_000;
const JOIN_ATTEMPTS = 50;
const RETRY_MS = 20;

/** The socket file of the shared air `name` (see SharedAirOptions). */
export function sharedAirPath(options: Pick<SharedAirOptions, 'name' | 'dir'> = {}): string {
  const name = options.name ?? process.env[SHARED_AIR_ENV] ?? SHARED_AIR_DEFAULT_NAME;
  if (!/^[A-Za-z0-9._-]{1,64}$/.test(name)) {
    throw new RadioError('BAD_AIR_NAME', `shared air name "${name}" must be 1–64 of A–Z a–z 0–9 . _ -`);
  }
  const base = options.dir ?? process.env.XDG_RUNTIME_DIR ?? os.tmpdir();
  const user = typeof process.getuid === 'function' ? String(process.getuid()) : os.userInfo().username;
  return path.join(base, `${SHARED_AIR_DIR_PREFIX}${user}`, `air-${name}.sock`);
}

/** Joins the shared air, hosting it in this process if no other process does. */
export async function connectToSharedAir(options: SharedAirOptions = {}): Promise<SharedAir> {
  const file = sharedAirPath(options);
  mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  for (let attempt = 0; attempt < JOIN_ATTEMPTS; attempt++) {
    const socket = await dial(file);
    if (socket) return Guest.join(socket, file);
    const hosted = await tryToHost(file, options.air ?? {});
    if (hosted) return hosted;
    await sleep(RETRY_MS);
  }
  throw new RadioError('SHARED_AIR_UNREACHABLE', `could not join or host the shared air at ${file}`);
}

/** Connects to the socket; undefined when nobody listens there (no file, or a stale one). */
function dial(file: string): Promise<net.Socket | undefined> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(file);
    socket.once('connect', () => {
      socket.removeAllListeners('error');
      resolve(socket);
    });
    socket.once('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT' || error.code === 'ECONNREFUSED') resolve(undefined);
      else
        reject(
          new RadioError(
            'SHARED_AIR_UNREACHABLE',
            `cannot reach the shared air at ${file}: ${error.message}`,
          ),
        );
    });
  });
}

/** Hosts the air if this process wins the lock and nobody listens; undefined to retry. */
async function tryToHost(file: string, airOptions: AirOptions): Promise<SharedAir | undefined> {
  const lock = `${file}.lock`;
  try {
    mkdirSync(lock);
  } catch {
    removeStaleLock(lock);
    return undefined;
  }
  try {
    const socket = await dial(file);
    if (socket) {
      socket.destroy();
      return undefined; // someone started hosting meanwhile
    }
    try {
      unlinkSync(file);
    } catch {
      // no stale file
    }
    const server = net.createServer();
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(file, () => {
        server.removeListener('error', reject);
        resolve();
      });
    });
    return new Host(server, file, new Air(airOptions));
  } finally {
    try {
      rmdirSync(lock);
    } catch {
      // taken as stale by another process
    }
  }
}

function removeStaleLock(lock: string): void {
  try {
    if (Date.now() - statSync(lock).mtimeMs > LOCK_STALE_MS) rmdirSync(lock);
  } catch {
    // gone already
  }
}

/** Controller options as JSON; Infinity (PDUs per event without a count limit) survives the trip. */
function encodeOptions(options: ControllerOptions): Buffer {
  return Buffer.from(JSON.stringify(options, (_, v) => (v === Number.POSITIVE_INFINITY ? 'Infinity' : v)));
}

function decodeOptions(payload: Buffer): ControllerOptions {
  return JSON.parse(payload.toString('utf8'), (_, v) => (v === 'Infinity' ? Number.POSITIVE_INFINITY : v));
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** The process that runs the air. */
class Host implements SharedAir {
  readonly role = 'host';
  private readonly guests = new Set<net.Socket>();
  private readonly onExit = () => this.removeSocketFile();
  private closed = false;

  constructor(
    private readonly server: net.Server,
    readonly path: string,
    readonly air: Air,
  ) {
    server.unref();
    server.on('connection', (socket) => this.welcome(socket));
    process.on('exit', this.onExit);
  }

  attach(host: HostPort, options?: ControllerOptions): ControllerPort {
    return this.air.attach(host, options);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    process.off('exit', this.onExit);
    for (const guest of this.guests) guest.destroy();
    this.air.close();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private removeSocketFile(): void {
    if (this.closed) return;
    try {
      unlinkSync(this.path);
    } catch {
      // already gone
    }
  }

  private welcome(socket: net.Socket): void {
    this.guests.add(socket);
    const ports = new Map<number, ControllerPort>();
    const decoder = new FrameDecoder();
    let greeted = false;
    const send = (type: number, port: number, payload?: Uint8Array) => {
      if (!socket.destroyed) socket.write(encodeFrame(type, port, payload));
    };
    socket.on('data', (chunk) => {
      try {
        for (const frame of decoder.push(chunk)) {
          if (!greeted) {
            if (frame.type !== Frame.Hello || frame.payload[0] !== AIR_WIRE_VERSION) {
              throw new RadioError('BAD_AIR_FRAME', 'a guest speaks another air wire version');
            }
            greeted = true;
            send(Frame.Welcome, 0, Buffer.of(AIR_WIRE_VERSION));
          } else if (frame.type === Frame.Attach) {
            const id = frame.port;
            const options = decodeOptions(frame.payload);
            ports.set(
              id,
              this.air.attach(
                {
                  receive: (packet) => send(Frame.Packet, id, packet),
                  down: () => {
                    ports.delete(id);
                    send(Frame.Down, id);
                  },
                },
                options,
              ),
            );
          } else if (frame.type === Frame.Packet) {
            ports.get(frame.port)?.send(frame.payload);
          } else if (frame.type === Frame.Detach) {
            ports.get(frame.port)?.detach();
          }
        }
      } catch {
        socket.destroy();
      }
    });
    socket.on('error', () => socket.destroy());
    socket.on('close', () => {
      this.guests.delete(socket);
      for (const port of [...ports.values()]) port.detach();
    });
  }
}

/** A process that uses an air another process hosts. */
class Guest implements SharedAir {
  readonly role = 'guest';
  readonly air = undefined;
  private readonly hosts = new Map<number, HostPort>();
  private nextPort = 1;

  private constructor(
    private readonly socket: net.Socket,
    readonly path: string,
  ) {}

  static async join(socket: net.Socket, file: string): Promise<Guest> {
    const guest = new Guest(socket, file);
    await guest.greet();
    return guest;
  }

  attach(host: HostPort, options: ControllerOptions = {}): ControllerPort {
    if (this.socket.destroyed) throw new RadioError('AIR_CLOSED', `the shared air at ${this.path} is gone`);
    const id = this.nextPort++;
    this.hosts.set(id, host);
    this.send(Frame.Attach, id, encodeOptions(options));
    return {
      send: (packet) => this.send(Frame.Packet, id, packet),
      detach: () => {
        if (!this.hosts.delete(id)) return;
        this.send(Frame.Detach, id);
        host.down();
      },
    };
  }

  async close(): Promise<void> {
    for (const [id, host] of [...this.hosts]) {
      this.hosts.delete(id);
      host.down();
    }
    await new Promise<void>((resolve) => {
      if (this.socket.destroyed) return resolve();
      this.socket.once('close', () => resolve());
      this.socket.ref(); // a pending close() keeps the process until it is done
      this.socket.end();
    });
  }

  private send(type: number, port: number, payload?: Uint8Array): void {
    if (!this.socket.destroyed) this.socket.write(encodeFrame(type, port, payload));
  }

  private greet(): Promise<void> {
    const decoder = new FrameDecoder();
    return new Promise<void>((resolve, reject) => {
      let welcomed = false;
      this.socket.on('data', (chunk) => {
        let frames: ReturnType<FrameDecoder['push']>;
        try {
          frames = decoder.push(chunk);
        } catch (error) {
          this.socket.destroy();
          reject(error);
          return;
        }
        for (const frame of frames) {
          if (!welcomed) {
            if (frame.type !== Frame.Welcome || frame.payload[0] !== AIR_WIRE_VERSION) {
              this.socket.destroy();
              reject(new RadioError('BAD_AIR_FRAME', `the air at ${this.path} speaks another wire version`));
              return;
            }
            welcomed = true;
            this.socket.unref();
            resolve();
          } else if (frame.type === Frame.Packet) {
            this.hosts.get(frame.port)?.receive(frame.payload);
          } else if (frame.type === Frame.Down) {
            const host = this.hosts.get(frame.port);
            this.hosts.delete(frame.port);
            host?.down();
          }
        }
      });
      this.socket.on('error', () => this.socket.destroy());
      this.socket.on('close', () => {
        if (!welcomed) reject(new RadioError('SHARED_AIR_UNREACHABLE', `the air at ${this.path} hung up`));
        for (const [id, host] of [...this.hosts]) {
          this.hosts.delete(id);
          host.down();
        }
      });
      this.send(Frame.Hello, 0, Buffer.of(AIR_WIRE_VERSION));
    });
  }
}
