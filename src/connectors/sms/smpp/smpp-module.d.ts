/**
 * Types for the parts of `smpp` (node-smpp 0.5.x, which ships none) that this folder uses. A PDU's
 * parameters and TLVs are read as `unknown` and narrowed in smpp-pdu.ts, so no vendor value reaches
 * our code untyped. Vendor types never leave src/connectors/sms/smpp (STYLE.md §5).
 */
declare module 'smpp' {
  import type { Server as NetServer, Socket } from 'node:net';

  namespace smpp {
    /** A PDU: header fields, plus each command parameter and TLV under its SMPP name. */
    class PDU {
      constructor(command: string, options?: Readonly<Record<string, unknown>>);
      command: string;
      command_id: number;
      command_status: number;
      sequence_number: number;
      readonly [field: string]: unknown;
      isResponse(): boolean;
      /** The matching `*_resp` PDU (or `generic_nack`) with this PDU's sequence number. */
      response(options?: Readonly<Record<string, unknown>>): PDU;
    }

    interface ConnectOptions {
      readonly host: string;
      readonly port: number;
      readonly tls?: boolean;
    }

    class Session {
      readonly socket: Socket;
      /** Assigns the sequence number of a request PDU; false when the socket is not writable. */
      send(pdu: PDU): boolean;
      /** Ends the socket gracefully (FIN). */
      close(callback?: () => void): void;
      destroy(callback?: () => void): void;
      on(event: 'connect' | 'secureConnect' | 'close', listener: () => void): this;
      on(event: 'error', listener: (error: Error) => void): this;
      on(event: 'pdu', listener: (pdu: PDU) => void): this;
    }

    interface Server extends NetServer {
      readonly sessions: Session[];
    }

    /** Opens the TCP (or TLS) connection at once; binding is the caller's job. */
    function connect(options: ConnectOptions): Session;
    function createServer(
      options: Readonly<Record<string, unknown>>,
      onSession?: (session: Session) => void,
    ): Server;
  }

  export = smpp;
}
