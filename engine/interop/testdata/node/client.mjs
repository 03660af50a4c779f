// A WebSocket client on Node's `ws` package, run by engine/interop/node_test.go
// against an in-process echo server:
//
//	node client.mjs ws://127.0.0.1:PORT/echo MODE
//
// It prints one JSON line: {mode, ok, errors, extensions, sent, echoedBytes,
// wireRead, pong, close, ms} (ms: when each phase ended, in milliseconds
// since the start).
// errors lists every echo, pong or close that was not what was sent; the Go
// test checks extensions (the negotiated Sec-WebSocket-Extensions) itself.
//
// Modes:
//   plain              no compression offered; messages of 0 B..128 KiB and
//                      a burst of 200 sent without waiting
//   deflate            perMessageDeflate: true (ws compresses messages of
//                      1 KiB and more); same messages
//   deflate-small      perMessageDeflate {threshold: 0}: every message
//                      compressed, however small
//   fragments          fragmented messages (send(..., {fin: false})), a
//                      character split across fragments, a ping between
//                      fragments, empty fragments
//   fragments-deflate  the same with every message compressed
//   bad-close          a raw close frame with code 1005, which must never be
//                      sent: the server must fail the connection with 1002
// Every mode but bad-close then pings with a payload (the pong must carry
// it) and closes with 4001 and a reason, and reports the close it got back.

import WebSocket from 'ws';
import { randomBytes } from 'node:crypto';

const [url, mode] = process.argv.slice(2);
const result = { mode, ok: false, errors: [], extensions: null, sent: 0, echoedBytes: 0, wireRead: null, pong: null, close: null, ms: {} };
const t0 = Date.now();
const mark = (phase) => { result.ms[phase] = Date.now() - t0; };
const fail = (msg) => { if (result.errors.length < 20) result.errors.push(msg); };

function finish() {
  result.ok = result.errors.length === 0;
  process.stdout.write(JSON.stringify(result) + '\n');
  process.exit(0);
}

const deadline = setTimeout(() => { fail('timed out after 15 s'); finish(); }, 15000);
deadline.unref();

const deflateOption = {
  plain: false,
  deflate: true,
  'deflate-small': { threshold: 0 },
  fragments: false,
  'fragments-deflate': { threshold: 0 },
  'bad-close': false,
}[mode];
if (deflateOption === undefined) {
  fail(`unknown mode ${mode}`);
  finish();
}

const ws = new WebSocket(url, { perMessageDeflate: deflateOption, handshakeTimeout: 5000 });
const inbox = [];
let wake = null;
const notify = () => { if (wake) { const w = wake; wake = null; w(); } };
ws.on('message', (data, isBinary) => { result.echoedBytes += data.length; inbox.push({ data, isBinary }); notify(); });
const pongs = [];
ws.on('pong', (data) => { pongs.push(data); notify(); });
const closed = new Promise((resolve) => {
  ws.on('close', (code, reason) => {
    result.close = { code, reason: reason.toString() };
    notify();
    resolve();
  });
});
ws.on('error', (err) => fail(`error event: ${err.message}`));

// until waits for cond() to hold, at most ms.
async function until(cond, what, ms = 10000) {
  const end = Date.now() + ms;
  while (!cond()) {
    if (result.close) throw new Error(`connection closed (${result.close.code} ${result.close.reason}) while waiting for ${what}`);
    const left = end - Date.now();
    if (left <= 0) throw new Error(`no ${what} within ${ms} ms`);
    await new Promise((resolve) => { wake = resolve; setTimeout(resolve, Math.min(left, 200)); });
  }
}

async function nextMessage(what) {
  await until(() => inbox.length > 0, `echo of ${what}`);
  return inbox.shift();
}

// expectEcho checks the next message is data (a Buffer) of the given type.
function checkEcho(got, data, binary, what) {
  const want = Buffer.isBuffer(data) ? data : Buffer.from(data);
  if (got.isBinary !== binary) {
    fail(`${what}: echo is ${got.isBinary ? 'binary' : 'text'}, want ${binary ? 'binary' : 'text'}`);
  } else if (!want.equals(got.data)) {
    fail(`${what}: echo differs: ${got.data.length} bytes, want ${want.length}`);
  }
}

function jsonText(n) {
  let s = '';
  for (let i = 0; s.length < n; i++) {
    s += JSON.stringify({ id: i, user: `user-${i % 17}`, kind: 'chat', text: 'the quick brown fox jumps over the lazy dog', ts: 1700000000 + i }) + '\n';
  }
  return s.slice(0, n);
}

function utf8Text(n) {
  const unit = 'héllo wörld ✓ 日本語 🎉 ';
  return unit.repeat(Math.max(1, Math.ceil(n / Buffer.byteLength(unit))));
}

function compressibleBinary(n) {
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = (i % 64) < 48 ? 0 : i & 0xff;
  return b;
}

function messages() {
  const sizes = [0, 16, 125, 126, 1000, 4096, 65535, 65536, 131072];
  const list = [];
  for (const n of sizes) {
    list.push({ what: `${n} B JSON-like text`, data: jsonText(n), binary: false });
    list.push({ what: `${n} B random binary`, data: randomBytes(n), binary: true });
  }
  for (const n of [16, 1000, 65536, 131072]) {
    list.push({ what: `~${n} B non-ASCII text`, data: utf8Text(n), binary: false });
    list.push({ what: `${n} B compressible binary`, data: compressibleBinary(n), binary: true });
  }
  return list;
}

async function roundTrips() {
  // One at a time.
  for (const m of messages()) {
    ws.send(m.data, { binary: m.binary });
    result.sent++;
    checkEcho(await nextMessage(m.what), m.data, m.binary, m.what);
  }
  // Many in a row without waiting: 200 messages of 16 B to 16 KiB.
  const burst = [];
  for (let i = 0; i < 200; i++) {
    const n = 16 << (i % 11);
    const binary = i % 3 === 2;
    const data = binary ? randomBytes(n) : jsonText(n);
    burst.push({ what: `burst message ${i} (${n} B)`, data, binary });
    ws.send(data, { binary });
    result.sent++;
  }
  for (const m of burst) checkEcho(await nextMessage(m.what), m.data, m.binary, m.what);
}

// sendFragments sends parts as one fragmented message and returns them
// joined.
function sendFragments(parts, binary) {
  parts.forEach((p, i) => ws.send(p, { binary, fin: i === parts.length - 1 }));
  result.sent++;
  return Buffer.concat(parts.map((p) => (Buffer.isBuffer(p) ? p : Buffer.from(p))));
}

async function fragments() {
  const cases = [];
  cases.push({ what: 'text in 4 fragments', binary: false, joined: sendFragments(['Hel', 'lo, ', 'fragmented ', 'world'], false) });
  // A text message whose characters are split across fragments: each
  // fragment alone is not valid UTF-8, the joined message is.
  const s = Buffer.from('naïve ✓ 日本語 🎉 done');
  const cuts = [0, 3, 9, 14, 20, 24, s.length];
  const pieces = [];
  for (let i = 0; i + 1 < cuts.length; i++) pieces.push(s.subarray(cuts[i], cuts[i + 1]));
  cases.push({ what: 'text split inside characters', binary: false, joined: sendFragments(pieces, false) });
  cases.push({ what: 'binary in 3 fragments of 40000 B', binary: true, joined: sendFragments([randomBytes(40000), randomBytes(40000), randomBytes(40000)], true) });
  const big = [];
  for (let i = 0; i < 10; i++) big.push(jsonText(20000));
  cases.push({ what: 'JSON-like text in 10 fragments of 20000 B', binary: false, joined: sendFragments(big, false) });
  cases.push({ what: 'empty fragments around data', binary: false, joined: sendFragments(['', 'abc', '', ''], false) });
  // A ping between two fragments of one message.
  ws.send('before the ping, ', { fin: false });
  ws.ping(Buffer.from('between fragments'));
  ws.send('after the ping', { fin: true });
  result.sent++;
  cases.push({ what: 'text with a ping between fragments', binary: false, joined: Buffer.from('before the ping, after the ping') });
  for (const c of cases) checkEcho(await nextMessage(c.what), c.joined, c.binary, c.what);
  await until(() => pongs.length > 0, 'pong of the ping between fragments');
  const pong = pongs.shift();
  if (pong.toString() !== 'between fragments') fail(`pong of the ping between fragments: ${JSON.stringify(pong.toString())}`);
}

async function ping() {
  const payload = Buffer.concat([Buffer.from('volley ping ✓ '), randomBytes(100)]);
  ws.ping(payload);
  await until(() => pongs.length > 0, 'pong');
  const got = pongs.shift();
  result.pong = got.length;
  if (!payload.equals(got)) fail(`pong payload: ${got.length} bytes ${got.toString('hex')}, want ${payload.toString('hex')}`);
}

async function badClose() {
  // A masked close frame with code 1005 (RFC 6455 7.4.1: must not be sent).
  const mask = randomBytes(4);
  const body = Buffer.from([1005 >> 8, 1005 & 0xff]);
  for (let i = 0; i < body.length; i++) body[i] ^= mask[i % 4];
  ws._socket.write(Buffer.concat([Buffer.from([0x88, 0x80 | body.length]), mask, body]));
}

async function main() {
  await new Promise((resolve, reject) => {
    ws.once('open', resolve);
    ws.once('unexpected-response', (req, res) => reject(new Error(`handshake answered ${res.statusCode}`)));
    ws.once('close', () => reject(new Error('closed before open')));
  });
  mark('open');
  result.extensions = ws.extensions;
  if (mode === 'bad-close') {
    await badClose();
  } else {
    if (mode.startsWith('fragments')) await fragments();
    else await roundTrips();
    mark('messages');
    await ping();
    mark('pong');
    // Bytes read from the TCP socket so far: with permessage-deflate, much
    // less than echoedBytes, as most messages compress well.
    result.wireRead = ws._socket ? ws._socket.bytesRead : null;
    ws.close(4001, `bye from node (${mode})`);
  }
  const timeout = new Promise((resolve) => setTimeout(resolve, 10000).unref());
  await Promise.race([closed, timeout]);
  mark('closed');
  if (!result.close) fail('no close event within 10 s of closing');
}

main().catch((err) => fail(String(err && err.stack || err))).finally(finish);
