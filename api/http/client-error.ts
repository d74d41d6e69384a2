import type http from 'node:http';
import type { Duplex } from 'node:stream';

/**
 * Requests Node's HTTP parser refuses never reach Koa: an oversized URL or header block
 * (HPE_HEADER_OVERFLOW, beyond --max-http-header-size), a malformed request line. Node then
 * writes a bare `431` or `400` with no body; this answers in the API's error shape instead, so
 * a client sees what to change like for any other 4xx.
 */
const ANSWERS: Record<string, { status: number; reason: string; code: string; message: string }> = {
  HPE_HEADER_OVERFLOW: { status: 431, reason: 'Request Header Fields Too Large', code: 'HEADERS_TOO_LARGE', message: 'the URL or the headers are too large; send long parameters as a JSON body with POST, and fewer or shorter headers' },
  HPE_REQUEST_TIMEOUT: { status: 408, reason: 'Request Timeout', code: 'REQUEST_TIMEOUT', message: 'the request did not arrive in time; send it again' },
};
const MALFORMED = { status: 400, reason: 'Bad Request', code: 'REQUEST_MALFORMED', message: 'the request is not valid HTTP/1.1; check the request line and headers' };

export function answerClientErrors(server: http.Server): void {
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Duplex) => {
    // ECONNRESET and friends: the client is gone, there is no one to answer.
    if (!socket.writable || err.code === 'ECONNRESET') {
      socket.destroy();
      return;
    }
    const a = (err.code && ANSWERS[err.code]) || MALFORMED;
    const body = JSON.stringify({ error: { code: a.code, message: a.message } });
    socket.end(`HTTP/1.1 ${a.status} ${a.reason}\r\ncontent-type: application/json; charset=utf-8\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`);
  });
}
